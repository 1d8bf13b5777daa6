// The agent loop end to end, as a library user drives it: a real chat-completions server on 127.0.0.1
// answering through the real openai SDK, and the real Docker sandbox running what it answers.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSession, runAgent, type AgentEvent } from '../../../src/agent/index.js';
import { createProvider, resolveModelConfig, type ModelProvider } from '../../../src/generator/index.js';
import { createRuntime, type Runtime } from '../../../src/runtime/index.js';
import { startChatServer, type ChatReply, type ChatServer } from '../../helpers/chat-server.js';
import { withinHangBound } from '../../helpers/wait.js';
import { buildWheel } from '../../helpers/wheels.js';

const fence = '```';
const answer = (code: string): ChatReply => ({ content: `Here you go:\n\n${fence}python\n${code}\n${fence}\n` });

let runtime: Runtime;
let server: ChatServer | undefined;
let wheelhouse: string;

beforeAll(async () => {
  wheelhouse = await mkdtemp(path.join(tmpdir(), 'pycage-agent-wheels-'));
  await buildWheel(wheelhouse, { name: 'pycage-agent-demo', version: '2.0.0', files: { 'pycage_agent_demo/__init__.py': 'ANSWER = 42\n' } });
  runtime = createRuntime({ image: process.env.PYCAGE_TEST_IMAGE!, findLinks: wheelhouse, noIndex: true, timeoutMs: 20_000 });
  await runtime.start();
});

afterAll(async () => {
  await runtime?.close();
  await rm(wheelhouse, { recursive: true, force: true });
});

afterEach(async () => {
  await server?.close();
  server = undefined;
});

function providerFor(chat: ChatServer): ModelProvider {
  return createProvider(
    resolveModelConfig({ provider: 'openai', model: 'test-model', apiKey: 'test-key', baseUrl: chat.openaiBaseUrl, maxRetries: 0, env: {} }),
  );
}

describe('runAgent', () => {
  it('sends the failing code and its traceback back to the model, and runs the corrected answer', async () => {
    server = await startChatServer([answer('values = [1, 2, 3]\nprint(totl(values))'), answer('values = [1, 2, 3]\nprint(sum(values))')]);
    const events: AgentEvent[] = [];
    const outcome = await runAgent({
      request: 'add up 1, 2 and 3',
      provider: providerFor(server),
      runtime,
      requirements: 'none',
      onEvent: (event) => events.push(event),
    });

    expect(outcome.status).toBe('succeeded');
    expect(outcome.exitCode).toBe(0);
    expect(outcome.result?.stdout).toBe('6\n');
    expect(outcome.attempts.map((attempt) => [attempt.trigger, attempt.status])).toEqual([
      ['model', 'failed'],
      ['model', 'succeeded'],
    ]);
    expect(outcome.attempts[0]?.result?.error?.name).toBe('NameError');
    expect(outcome.attempts.every((attempt) => attempt.modelDurationMs > 0 && attempt.runDurationMs > 0)).toBe(true);

    expect(server.requests).toHaveLength(2);
    const retry = server.requests[1]?.body.messages as Array<{ role: string; content: string }>;
    const last = retry.at(-1)!;
    expect(last.role).toBe('user');
    expect(last.content).toContain('print(totl(values))');
    expect(last.content).toContain("NameError: name 'totl' is not defined");
    expect(last.content).toContain('Traceback (most recent call last)');
    expect(retry[0]?.role).toBe('system');
    // This round the request is followed by where the program runs (network, files, output folder).
    expect(retry.some((message) => message.role === 'user' && message.content.startsWith('add up 1, 2 and 3\n'))).toBe(true);
    expect(events.filter((event) => event.type === 'retry')).toHaveLength(1);
    expect(events.filter((event) => event.type === 'output').map((event) => (event.type === 'output' ? event.text : '')).join('')).toContain('6');
  });

  it('adds a package for a ModuleNotFoundError without asking the model again', async () => {
    // PEP 723 metadata wins over the imports, and this block forgot the package the code imports.
    // (This round: only a module the code itself imports is fixed, so a computed importlib name no longer is.)
    server = await startChatServer([answer('# /// script\n# dependencies = []\n# ///\nimport pycage_agent_demo\nprint(pycage_agent_demo.ANSWER)')]);
    const events: AgentEvent[] = [];
    const outcome = await runAgent({
      request: 'print the answer',
      provider: providerFor(server),
      runtime, // pins against the runtime's own package source: the wheelhouse
      onEvent: (event) => events.push(event),
    });

    expect(outcome.status).toBe('succeeded');
    expect(outcome.result?.stdout).toBe('42\n');
    expect(server.requests).toHaveLength(1);
    expect(outcome.attempts.map((attempt) => attempt.trigger)).toEqual(['model', 'missing-module']);
    expect(outcome.attempts[0]?.result?.error?.name).toBe('ModuleNotFoundError');
    expect(outcome.attempts[1]?.modelDurationMs).toBe(0);
    expect(outcome.requirements).toEqual(['pycage_agent_demo==2.0.0']);
    expect(events).toContainEqual(expect.objectContaining({ type: 'module-missing', module: 'pycage_agent_demo' }));
  });

  it('does not ask the model again when the package index cannot be reached', async () => {
    server = await startChatServer([answer('import requests\nprint(requests.__version__)')]);
    const offline = createRuntime({ image: process.env.PYCAGE_TEST_IMAGE!, indexUrl: 'http://127.0.0.1:9/simple', timeoutMs: 20_000 });
    try {
      const outcome = await runAgent({ request: 'print the requests version', provider: providerFor(server), runtime: offline });
      expect(outcome.status).toBe('failed');
      expect(outcome.result?.error?.name).toBe('InstallError');
      expect(outcome.result?.stderr).toMatch(/Connection refused|Failed to establish a new connection/);
      expect(server.requests).toHaveLength(1);
    } finally {
      await offline.close();
    }
  });

  it('gives up with exit 4 when no answer holds code', async () => {
    // Blocks, none of them Python: asked again. (Until this round the answer was prose alone; prose is
    // now the model's own words, shown and not retried: see the next test.)
    server = await startChatServer([{ content: `I would rather you ran this:\n${fence}bash\nls -la\n${fence}\n` }]);
    const outcome = await runAgent({ request: 'do it', provider: providerFor(server), runtime, maxAttempts: 2 });
    expect(outcome.status).toBe('no-code');
    expect(outcome.exitCode).toBe(4);
    expect(outcome.attempts.map((attempt) => attempt.status)).toEqual(['no-code', 'no-code']);
    expect(server.requests).toHaveLength(2);
    expect(outcome.result).toBeUndefined();
    const nudge = (server.requests[1]?.body.messages as Array<{ content: string }> | undefined)?.at(-1)?.content;
    expect(nudge).toContain('no ```python code block');
  });

  it("returns an answer in words (a question back) as the outcome's message, after one model call", async () => {
    server = await startChatServer([{ content: 'Which file should I read?' }]);
    const outcome = await runAgent({ request: 'read the file', provider: providerFor(server), runtime, maxAttempts: 3 });
    expect(outcome.status).toBe('no-code');
    expect(outcome.exitCode).toBe(4);
    expect(outcome.message).toBe('Which file should I read?');
    expect(server.requests).toHaveLength(1);
    expect(outcome.history.at(-1)).toEqual({ role: 'assistant', content: 'Which file should I read?' });
  });

  it('asks for a different answer on regenerate, showing the model the one passed over', async () => {
    server = await startChatServer([answer('print("first idea")'), answer('print("second " + "idea")')]);
    let reviews = 0;
    const outcome = await runAgent({
      request: 'print an idea',
      provider: providerFor(server),
      runtime,
      review: async () => (++reviews === 1 ? { action: 'regenerate' } : { action: 'run' }),
    });
    expect(outcome.status).toBe('succeeded');
    expect(outcome.result?.stdout).toBe('second idea\n');
    const second = server.requests[1]?.body.messages as Array<{ role: string; content: string }>;
    const first = server.requests[0]?.body.messages as Array<{ role: string; content: string }>;
    expect(second).not.toEqual(first);
    expect(second.some((message) => message.role === 'assistant' && message.content.includes('print("first idea")'))).toBe(true);
    expect(second.at(-1)?.content).toMatch(/different/);
  });

  it('records the tokens and model time of each answer', async () => {
    server = await startChatServer([answer('print(1)')]);
    const outcome = await runAgent({ request: 'print one', provider: providerFor(server), runtime });
    // The chat server counts 10 prompt and 10 completion tokens per answer.
    expect(outcome.attempts[0]?.usage).toEqual({ promptTokens: 10, completionTokens: 10, totalTokens: 20 });
    expect(outcome.attempts[0]?.modelDurationMs).toBeGreaterThan(0);
  });

  it('stops at a reviewer who says skip, and runs nothing', async () => {
    server = await startChatServer([answer('print("should not run")')]);
    const outcome = await runAgent({
      request: 'print something',
      provider: providerFor(server),
      runtime,
      review: async () => ({ action: 'skip' }),
    });
    expect(outcome.status).toBe('declined');
    expect(outcome.result).toBeUndefined();
    expect(outcome.attempts[0]?.status).toBe('skipped');
  });

  it('keeps the conversation: a follow-up sees the earlier code and what it printed', async () => {
    server = await startChatServer([
      answer('primes = [2, 3, 5, 7]\nprint(primes)'),
      answer('primes = [2, 3, 5, 7]\nprint(sum(primes))'),
    ]);
    const session = createSession({ provider: providerFor(server), runtime, requirements: 'none' });
    const first = await session.ask('list the primes below 10');
    expect(first.result?.stdout).toBe('[2, 3, 5, 7]\n');
    const second = await session.ask('now add them up');
    expect(second.result?.stdout).toBe('17\n');

    const followUp = server.requests[1]?.body.messages as Array<{ role: string; content: string }>;
    expect(followUp.map((message) => message.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(followUp[1]?.content).toMatch(/^list the primes below 10\n/); // then where the program runs
    expect(followUp[2]?.content).toContain('print(primes)');
    expect(followUp[3]?.content).toContain('[2, 3, 5, 7]');
    expect(followUp[3]?.content).toContain('now add them up');
    expect(session.history).toHaveLength(4);
  });

  it('stops the loop and the run when aborted', async () => {
    server = await startChatServer([answer('import time\nprint("looping", flush=True)\nwhile True:\n    time.sleep(0.1)')]);
    const controller = new AbortController();
    const outcome = runAgent({
      request: 'wait forever',
      provider: providerFor(server),
      runtime,
      requirements: 'none',
      abortSignal: controller.signal,
      onEvent: (event) => {
        // Aborted once the script is seen running, not after a guessed delay.
        if (event.type === 'output' && event.text.includes('looping')) controller.abort();
      },
    });
    // The script loops forever: only the abort ends the loop with a rejection (the runtime's 20 s
    // timeout would give a result instead); the hang bound guards against neither ever happening.
    await expect(withinHangBound(outcome, 'an aborted agent run')).rejects.toMatchObject({ name: 'AbortedError' });
  });
});
