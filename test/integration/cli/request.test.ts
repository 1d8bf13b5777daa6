// `pycage "<request>"` end to end: the built executable, a chat-completions server on 127.0.0.1 (as
// OPENAI_BASE_URL), and the real Docker sandbox.
import { afterEach, describe, expect, it } from 'vitest';
import { runCliProcess } from '../../helpers/cli.js';
import { startChatServer, type ChatReply, type ChatServer } from '../../helpers/chat-server.js';

const fence = '```';
const answer = (code: string): ChatReply => ({ content: `Sure.\n\n${fence}python\n${code}\n${fence}\n` });

let server: ChatServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function modelEnv(chat: ChatServer): Record<string, string> {
  return { PYCAGE_PROVIDER: 'openai', OPENAI_BASE_URL: chat.openaiBaseUrl, OPENAI_API_KEY: 'test-key', PYCAGE_MODEL: 'test-model' };
}

describe('pycage "<request>"', () => {
  it('retries a failing answer with its traceback and exits 0 on the corrected one', async () => {
    server = await startChatServer([answer('print(undefined_name)'), answer('print("fixed on the second try")')]);
    const result = await runCliProcess(['print a greeting', '--yes', '--requirements', 'none'], { env: modelEnv(server) });
    expect(result.stdout).toContain('fixed on the second try');
    expect(result.exitCode).toBe(0);
    expect(server.requests).toHaveLength(2);
    const retry = (server.requests[1]?.body.messages as Array<{ content: string }>).at(-1)?.content ?? '';
    expect(retry).toContain("NameError: name 'undefined_name' is not defined");
    expect(result.stderr).toContain('print(undefined_name)'); // the code was shown before it ran
    expect(result.stderr).toMatch(/Retrying/);
  });

  it('exits 4 with a plain message when no answer holds code', async () => {
    server = await startChatServer([{ content: 'Sorry, I cannot help with that.' }]);
    const result = await runCliProcess(['do something', '--yes', '--max-attempts', '2'], { env: modelEnv(server) });
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toMatch(/no Python code in 2 answers/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(server.requests).toHaveLength(2);
  });

  it('prints one JSON object listing every attempt with --json', async () => {
    server = await startChatServer([answer('raise RuntimeError("first try fails")'), answer('print(2 + 2)')]);
    const result = await runCliProcess(['add two and two', '--yes', '--json', '--requirements', 'none'], { env: modelEnv(server) });
    expect(result.exitCode).toBe(0);
    const json = JSON.parse(result.stdout);
    expect(json).toMatchObject({ status: 'succeeded', exitCode: 0, stdout: '4\n', code: 'print(2 + 2)\n', request: 'add two and two' });
    expect(json.attempts).toHaveLength(2);
    expect(json.attempts[0]).toMatchObject({ number: 1, status: 'failed', result: { error: { name: 'RuntimeError', message: 'first try fails' } } });
    expect(json.attempts[1]).toMatchObject({ number: 2, status: 'succeeded' });
  });

  it('refuses to run without a terminal and without --yes (exit 2), before asking the model', async () => {
    server = await startChatServer([answer('print("never")')]);
    const result = await runCliProcess(['print something'], { env: modelEnv(server) });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('--yes');
    expect(server.requests).toHaveLength(0);
  });

  it('names the missing key variable (exit 4) before any other work', async () => {
    const result = await runCliProcess(['print something', '--yes'], { env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' } });
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toContain('GROQ_API_KEY');
    expect(result.stderr).not.toMatch(/docker/i);
  });

  it('reports a stopped Docker (exit 3) before asking the model anything', async () => {
    server = await startChatServer([answer('print("never")')]);
    const result = await runCliProcess(['print something', '--yes'], { env: { ...modelEnv(server), DOCKER_HOST: 'unix:///nonexistent/docker.sock' } });
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toMatch(/Docker/);
    expect(server.requests).toHaveLength(0);
  });

  it('reports a refused key as a model problem (exit 4)', async () => {
    server = await startChatServer([{ status: 401, body: { error: { message: 'Invalid API Key' } } }]);
    const result = await runCliProcess(['print something', '--yes'], { env: modelEnv(server) });
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toContain('OPENAI_API_KEY');
    expect(result.stderr).toContain('Invalid API Key');
  });
});

describe('pycage extract', () => {
  it('prints the Python block of an answer from stdin', async () => {
    const input = `Install it first:\n${fence}bash\npip install requests\n${fence}\nThen:\n${fence}python\nimport requests\nprint(requests.__version__)\n${fence}\n`;
    const result = await runCliProcess(['extract', '-'], { input });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('import requests\nprint(requests.__version__)\n');
  });

  it('exits 4 when the answer has no code', async () => {
    const result = await runCliProcess(['extract', '-'], { input: 'Just prose, no code.\n' });
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toMatch(/code/i);
  });
});
