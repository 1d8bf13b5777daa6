// The interactive session in a real terminal: tmux runs the built `pycage` with no arguments, the test
// types into it and reads the screen, like a user would. The model is a chat server on 127.0.0.1.
import { afterEach, describe, expect, it } from 'vitest';
import { startChatServer, type ChatReply, type ChatServer } from '../../helpers/chat-server.js';
import { eventually, pycageContainers } from '../../helpers/docker.js';
import { hasTmux, startTerminal, type Terminal } from '../../helpers/tmux.js';

const fence = '```';
const answer = (code: string): ChatReply => ({ content: `${fence}python\n${code}\n${fence}` });

let server: ChatServer | undefined;
let terminal: Terminal | undefined;

afterEach(async () => {
  terminal?.kill();
  terminal = undefined;
  await server?.close();
  server = undefined;
});

const screen = (): string => terminal!.screen();
const waitForScreen = (text: string | RegExp, timeoutMs?: number): Promise<string> => terminal!.waitForScreen(text, timeoutMs);
const type = (text: string): void => terminal!.type(text);

/** Starts `pycage` with no arguments in a new tmux session, with only the environment it needs. */
function startSession(chat: ChatServer, args: string[] = [], cwd?: string): void {
  const env = { PYCAGE_PROVIDER: 'openai', OPENAI_BASE_URL: chat.openaiBaseUrl, OPENAI_API_KEY: 'test-key', PYCAGE_MODEL: 'test-model' };
  terminal = startTerminal(['--requirements', 'none', ...args], { env, ...(cwd === undefined ? {} : { cwd }) });
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
    const pycagePid = terminal!.pycagePid();
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
    terminal!.keys('C-c');
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
    terminal!.keys('C-c');
    await waitForScreen('PYCAGE-EXITED:0');
  });
});
