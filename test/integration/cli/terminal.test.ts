// One-shot commands on a real terminal (tmux): what only a terminal shows, such as the spinner while
// the model thinks, and Ctrl-C as the user's keyboard sends it.
import { afterEach, describe, expect, it } from 'vitest';
import { startChatServer, type ChatServer } from '../../helpers/chat-server.js';
import { waitForContainerCount } from '../../helpers/docker.js';
import { hasTmux, startTerminal, type Terminal } from '../../helpers/tmux.js';
import { withinHangBound } from '../../helpers/wait.js';

const fence = '```';

let server: ChatServer | undefined;
let terminal: Terminal | undefined;

afterEach(async () => {
  terminal?.kill();
  terminal = undefined;
  await server?.close();
  server = undefined;
});

function modelEnv(chat: ChatServer): Record<string, string> {
  return { PYCAGE_PROVIDER: 'openai', OPENAI_BASE_URL: chat.openaiBaseUrl, OPENAI_API_KEY: 'test-key', PYCAGE_MODEL: 'test-model' };
}

describe.skipIf(!hasTmux)('pycage "<request>" on a terminal', () => {
  it('exits 130 on Ctrl-C while the model is still answering', async () => {
    // The answer would come long after the test gives up: only Ctrl-C can end this run.
    server = await startChatServer([{ content: `${fence}python\nprint("never")\n${fence}`, delayMs: 600_000 }]);
    terminal = startTerminal(['print something', '--yes', '--requirements', 'none'], { env: modelEnv(server) });
    await withinHangBound(server.waitForRequests(1), 'the model request');
    await terminal.waitForScreen('Asking openai test-model');
    terminal.keys('C-c');
    await terminal.waitForScreen(/PYCAGE-EXITED:\d+/);
    expect(terminal.screen()).toContain('PYCAGE-EXITED:130');
    expect(terminal.screen()).not.toContain('never');
  });

  it('exits 130 on Ctrl-C while the script runs, and removes its containers', async () => {
    server = await startChatServer([{ content: `${fence}python\nimport time\nprint("wait" + "ing now", flush=True)\ntime.sleep(600)\n${fence}` }]);
    terminal = startTerminal(['wait a while', '--yes', '--requirements', 'none'], { env: modelEnv(server) });
    await terminal.waitForScreen('waiting now');
    const pid = terminal.pycagePid();
    terminal.keys('C-c');
    await terminal.waitForScreen(/PYCAGE-EXITED:\d+/);
    expect(terminal.screen()).toContain('PYCAGE-EXITED:130');
    await waitForContainerCount({ ownerPid: pid }, 0);
  });

  it("shows a refusal's words on the terminal and exits 4 after one model call", async () => {
    server = await startChatServer([{ content: 'I cannot do that: it would delete your files.' }]);
    terminal = startTerminal(['delete everything', '--yes'], { env: modelEnv(server) });
    await terminal.waitForScreen(/PYCAGE-EXITED:\d+/);
    expect(terminal.screen()).toContain('I cannot do that: it would delete your files.');
    expect(terminal.screen()).toContain('PYCAGE-EXITED:4');
    expect(server.requests).toHaveLength(1);
  });
});
