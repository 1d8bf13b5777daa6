// The interactive session in a real terminal: tmux runs the built `pycage` with no arguments, the test
// types into it and reads the screen, like a user would. The model is a chat server on 127.0.0.1.
import { execFileSync, spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { baseEnv, cliPath } from '../../helpers/cli.js';
import { startChatServer, type ChatReply, type ChatServer } from '../../helpers/chat-server.js';
import { eventually, pycageContainers } from '../../helpers/docker.js';

const fence = '```';
const answer = (code: string): ChatReply => ({ content: `${fence}python\n${code}\n${fence}` });
const hasTmux = spawnSync('tmux', ['-V']).status === 0;

let server: ChatServer | undefined;
let sessionName: string | undefined;

afterEach(async () => {
  if (sessionName !== undefined) spawnSync('tmux', ['kill-session', '-t', sessionName]);
  sessionName = undefined;
  await server?.close();
  server = undefined;
});

function screen(): string {
  return execFileSync('tmux', ['capture-pane', '-p', '-J', '-S', '-200', '-t', sessionName!], { encoding: 'utf8' });
}

async function waitForScreen(text: string | RegExp, timeoutMs = 60_000): Promise<string> {
  const matches = (content: string): boolean => (typeof text === 'string' ? content.includes(text) : text.test(content));
  const found = await eventually(() => matches(screen()), timeoutMs, 200);
  if (!found) throw new Error(`screen never showed ${String(text)}; it shows:\n${screen()}`);
  return screen();
}

function type(text: string): void {
  execFileSync('tmux', ['send-keys', '-t', sessionName!, '-l', text]);
  execFileSync('tmux', ['send-keys', '-t', sessionName!, 'Enter']);
}

function quote(value: string): string {
  return `'${value.replaceAll("'", "'\\''")}'`;
}

/** Starts `pycage` with no arguments in a new tmux session, with only the environment it needs. */
function startSession(chat: ChatServer): void {
  const env = {
    ...baseEnv(),
    TERM: 'xterm-256color',
    PYCAGE_PROVIDER: 'openai',
    OPENAI_BASE_URL: chat.openaiBaseUrl,
    OPENAI_API_KEY: 'test-key',
    PYCAGE_MODEL: 'test-model',
  };
  const command = [
    'env -i',
    ...Object.entries(env).map(([key, value]) => `${key}=${quote(value)}`),
    quote(process.execPath),
    quote(cliPath),
    '--requirements none',
    '; echo "PYCAGE-EXITED:$?"; sleep 600',
  ].join(' ');
  sessionName = `pycage-test-${process.pid}-${Date.now()}`;
  execFileSync('tmux', ['new-session', '-d', '-s', sessionName, '-x', '160', '-y', '60', command]);
}

describe.skipIf(!hasTmux)('interactive session (tmux)', () => {
  it('runs a request, a follow-up that refers to it, survives a Ctrl-C mid-run, and leaves no container behind', async () => {
    server = await startChatServer([
      answer('primes = [2, 3, 5, 7]\nprint("primes:", primes)'),
      answer('primes = [2, 3, 5, 7]\nprint("total:", sum(primes))'),
      answer('import time\nprint("wait" + "ing now", flush=True)\ntime.sleep(600)'),
      answer('print("goodbye from the " + "same sandbox")'),
    ]);
    startSession(server);

    await waitForScreen('What should Python do?');
    // pycage is the pane shell's child (env execs node): its pid labels the containers it makes.
    const panePid = execFileSync('tmux', ['display-message', '-p', '-t', sessionName!, '#{pane_pid}'], { encoding: 'utf8' }).trim();
    const pycagePid = Number(execFileSync('pgrep', ['-P', panePid], { encoding: 'utf8' }).trim().split('\n')[0]);
    expect(pycagePid).toBeGreaterThan(0);
    expect(screen()).toContain('test-model'); // the settings are shown once at the start
    type('list the primes below 10');
    await waitForScreen('Run it?');
    expect(screen()).toContain('print("primes:", primes)');
    type(''); // Enter on the first choice, Run
    await waitForScreen('primes: [2, 3, 5, 7]');
    await waitForScreen('What next?');

    type('now add them up');
    await waitForScreen(/Run it\?[\s\S]*Run it\?/);
    type('');
    await waitForScreen('total: 17');
    await waitForScreen(/What next\?[\s\S]*What next\?/);

    // Ctrl-C while a script runs cancels that step only; the session and its sandbox go on.
    type('wait for a while');
    await waitForScreen(/Run it\?[\s\S]*Run it\?[\s\S]*Run it\?/);
    type('');
    await waitForScreen('waiting now'); // the output; the listing shows the code, not this text
    execFileSync('tmux', ['send-keys', '-t', sessionName!, 'C-c']);
    await waitForScreen('Cancelled.');
    await waitForScreen(/What next\?[\s\S]*What next\?[\s\S]*What next\?/);

    type('say goodbye');
    await waitForScreen(/Run it\?[\s\S]*Run it\?[\s\S]*Run it\?[\s\S]*Run it\?/);
    type('');
    await waitForScreen('goodbye from the same sandbox');
    await waitForScreen(/What next\?[\s\S]*What next\?[\s\S]*What next\?[\s\S]*What next\?/);

    type('exit');
    await waitForScreen('PYCAGE-EXITED:0');

    // The follow-up carried the first request, its code and its output.
    expect(server.requests).toHaveLength(4);
    const followUp = server.requests[1]?.body.messages as Array<{ role: string; content: string }>;
    expect(followUp[1]?.content).toBe('list the primes below 10');
    expect(followUp[2]?.content).toContain('print("primes:", primes)');
    expect(followUp.at(-1)?.content).toContain('primes: [2, 3, 5, 7]');
    expect(followUp.at(-1)?.content).toContain('now add them up');

    expect(await eventually(() => pycageContainers({ ownerPid: pycagePid }).length === 0)).toBe(true);
  });

  it('offers a request the model failed on again, and leaves on Ctrl-C at the prompt', async () => {
    server = await startChatServer([{ status: 401, body: { error: { message: 'Invalid API Key' } } }]);
    startSession(server);
    await waitForScreen('What should Python do?');
    type('count to three');
    await waitForScreen('Invalid API Key');
    // The prompt comes back with the words already in it.
    await waitForScreen(/Invalid API Key[\s\S]*What should Python do\?\s*\n\S*\s+count to three/);
    execFileSync('tmux', ['send-keys', '-t', sessionName!, 'C-c']);
    await waitForScreen('PYCAGE-EXITED:0');
  });
});
