// The package gate on a terminal: tmux runs the built `pycage "<request>"` (no --yes), the test reads
// the screen and answers the prompts. The model is a chat server and the index a package index, both
// on 127.0.0.1; the first run happens in the real Docker sandbox.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startChatServer, type ChatReply, type ChatServer } from '../../helpers/chat-server.js';
import { startIndexServer, type IndexServer } from '../../helpers/index-server.js';
import { hasTmux, startTerminal, type Terminal } from '../../helpers/tmux.js';

const fence = '```';
const answer = (code: string): ChatReply => ({ content: `${fence}python\n${code}\n${fence}` });

let chat: ChatServer | undefined;
let index: IndexServer | undefined;
let terminal: Terminal | undefined;
let cacheHome: string | undefined;

afterEach(async () => {
  terminal?.kill();
  terminal = undefined;
  await chat?.close();
  await index?.close();
  chat = undefined;
  index = undefined;
  if (cacheHome !== undefined) await rm(cacheHome, { recursive: true, force: true });
  cacheHome = undefined;
});

const waitForScreen = (text: string | RegExp): Promise<string> => terminal!.waitForScreen(text);
const press = (key: string): void => terminal!.keys(key);

function startRequest(args: string[], cwd?: string): void {
  const env = {
    XDG_CACHE_HOME: cacheHome!,
    ...(chat === undefined ? {} : { PYCAGE_PROVIDER: 'openai', OPENAI_BASE_URL: chat.openaiBaseUrl, OPENAI_API_KEY: 'test-key', PYCAGE_MODEL: 'test-model' }),
  };
  terminal = startTerminal(args, { env, ...(cwd === undefined ? {} : { cwd }) });
}

describe.skipIf(!hasTmux)('the package gate on a terminal (tmux)', () => {
  it('asks again, with the package FLAGGED, before the missing-module fix installs an unknown package', async () => {
    cacheHome = await mkdtemp(path.join(tmpdir(), 'pycage-gate-terminal-'));
    index = await startIndexServer({ packages: { crispr: [{ version: '0.2', uploadTime: '2025-03-02T10:00:00Z' }] } });
    // The PEP 723 block wins over the imports and forgot crispr: the first run fails on the import.
    chat = await startChatServer([answer('# /// script\n# dependencies = []\n# ///\nimport crispr\nprint(crispr.cut())')]);
    startRequest(['cut some DNA', '--index-url', index.simpleUrl]);

    await waitForScreen('Run it?');
    press('Enter'); // yes: nothing to install yet
    await waitForScreen("No module named 'crispr'");
    const asked = await waitForScreen('Install crispr (FLAGGED above) and run it?');
    expect(asked).toMatch(/FLAGGED crispr[^\n]*unknown package[^\n]*first release 2025-03-02, 1 release/);
    press('Enter'); // the default is no
    const done = await waitForScreen(/PYCAGE-EXITED:\d+/);
    expect(done).toContain('PYCAGE-EXITED:1');
    expect(chat.requests).toHaveLength(1); // the fix made no model call
  });

  it('asks before pycage run installs an unknown import of your script, and runs nothing on a no', async () => {
    cacheHome = await mkdtemp(path.join(tmpdir(), 'pycage-gate-terminal-'));
    index = await startIndexServer({ packages: { crispr: [{ version: '0.2', uploadTime: '2025-03-02T10:00:00Z' }] } });
    await writeFile(path.join(cacheHome, 'script.py'), 'import crispr\nprint(crispr.cut())\n');
    startRequest(['run', 'script.py', '--index-url', index.simpleUrl], cacheHome);

    const asked = await waitForScreen('Install crispr (FLAGGED above) and run it?');
    expect(asked).toMatch(/FLAGGED crispr[^\n]*--allow-package crispr/);
    press('Enter'); // the default is no
    const done = await waitForScreen(/PYCAGE-EXITED:\d+/);
    expect(done).toContain('PYCAGE-EXITED:1');
    expect(done).toContain('Not run.');
  });
});
