// The interactive session in a real terminal: tmux runs the built `pycage` with no arguments, the test
// types into it and reads the screen, like a user would. The model is a chat server on 127.0.0.1.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startChatServer, type ChatReply, type ChatServer } from '../../helpers/chat-server.js';
import { waitForContainerCount } from '../../helpers/docker.js';
import { hasTmux, startTerminal, type Terminal } from '../../helpers/tmux.js';
import { withinHangBound } from '../../helpers/wait.js';

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
const waitForScreen = (text: string | RegExp): Promise<string> => terminal!.waitForScreen(text);
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
    // This round the first message also says where the program runs (network, files, output folder).
    expect(followUp[1]?.content).toMatch(/^list the primes below 10\n/);
    expect(followUp[2]?.content).toContain('print("primes:", primes)');
    expect(followUp.at(-1)?.content).toContain('primes: [2, 3, 5, 7]');
    expect(followUp.at(-1)?.content).toContain('now add them up');

    await waitForContainerCount({ ownerPid: pycagePid }, 0);
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

describe.skipIf(!hasTmux)('interactive session: commands, files, history, Ctrl-C, questions (tmux)', () => {
  it('cancels a slow model answer with Ctrl-C and is back at the prompt', async () => {
    server = await startChatServer([{ content: `${fence}python\nprint("never")\n${fence}`, delayMs: 600_000 }, answer('print("after " + "the cancel")')]);
    startSession(server);
    await waitForScreen('What should Python do?');
    type('something slow');
    await withinHangBound(server.waitForRequests(1), 'the model request');
    await waitForScreen('Asking openai test-model');
    terminal!.keys('C-c');
    await waitForScreen('Cancelled.');
    await waitForScreen(/Cancelled\.[\s\S]*What next\?|Cancelled\.[\s\S]*What should Python do\?/);
    expect(screen()).not.toContain('PYCAGE-EXITED');
    type('something quick');
    await waitForScreen('Run it?');
    type('');
    await waitForScreen('after the cancel');
    type('/exit');
    await waitForScreen('PYCAGE-EXITED:0');
  });

  it('keeps slash commands to itself: /help, /file, /save; brings back a request with the up arrow', async () => {
    const cwd = await mkdtemp(path.join(tmpdir(), 'pycage-session-'));
    try {
      await writeFile(path.join(cwd, 'data.csv'), 'name,score\nada,3\nbob,4\n');
      server = await startChatServer([
        answer('print("rows:", len(open("data.csv").read().splitlines()) - 1)'),
        answer('print("second " + "answer")'),
      ]);
      startSession(server, [], cwd);
      await waitForScreen('What should Python do?');
      type('/help');
      await waitForScreen('/save FILE');
      type('/file data.csv');
      await waitForScreen('Added data.csv');
      expect(server.requests).toHaveLength(0);

      type('count the rows of data.csv');
      await waitForScreen('Run it?');
      type('');
      await waitForScreen('rows: 2');
      await waitForScreen('What next?');
      const first = server.requests[0]?.body.messages as Array<{ content: string }>;
      expect(first.at(-1)?.content).toContain('name,score');

      type('/save rows.py');
      await waitForScreen('Saved the last script to rows.py');
      expect(await readFile(path.join(cwd, 'rows.py'), 'utf8')).toContain('print("rows:"');
      // Never over an existing file.
      type('/save rows.py');
      await waitForScreen(/already exists[\s\S]*What next\?/);

      // Up arrow: the last line typed was /save rows.py (typed twice, kept once); one more up is the request.
      terminal!.keys('Up', 'Up');
      await waitForScreen(/What next\?\s*\(?[^\n]*\n\S*\s+count the rows of data\.csv\s*$/m);
      terminal!.keys('Enter');
      await waitForScreen(/Run it\?[\s\S]*Run it\?/);
      type('');
      await waitForScreen('second answer');
      expect(server.requests).toHaveLength(2);
      const second = server.requests[1]?.body.messages as Array<{ content: string }>;
      expect(second.at(-1)?.content).toContain('count the rows of data.csv');
      expect(JSON.stringify(server.requests.map((request) => request.body))).not.toContain('/help');
      type('/exit');
      await waitForScreen('PYCAGE-EXITED:0');
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });

  it('shows a question back in its words, and the next request answers it in the same conversation', async () => {
    server = await startChatServer([{ content: 'Which city should I use for the weather?' }, answer('print("Oslo " + "chosen")')]);
    startSession(server);
    await waitForScreen('What should Python do?');
    type('show the weather');
    await waitForScreen('Which city should I use for the weather?');
    await waitForScreen('What next?');
    expect(server.requests).toHaveLength(1);
    type('Oslo');
    await waitForScreen('Run it?');
    type('');
    await waitForScreen('Oslo chosen');
    const messages = server.requests[1]?.body.messages as Array<{ role: string; content: string }>;
    expect(messages.some((message) => message.role === 'assistant' && message.content.includes('Which city should I use'))).toBe(true);
    expect(messages.at(-1)?.content).toContain('Oslo');
    type('/exit');
    await waitForScreen('PYCAGE-EXITED:0');
  });
});
