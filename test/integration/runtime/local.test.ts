// The local runner (isolate: false): same result shape as the sandbox, a warning that nothing is
// isolated, a timeout that kills the whole process group, and environments cached on the host.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogEntry } from '../../../src/logger.js';
import { createRuntime, type Runtime } from '../../../src/runtime/index.js';
import { hangBoundMs, withinHangBound } from '../../helpers/wait.js';
import { buildWheel } from '../../helpers/wheels.js';
import { createScratch, type Scratch } from './helpers.js';

let scratch: Scratch;
let local: Runtime;
let cacheDir: string;
let wheelhouse: string;
const warnings: Array<{ message: string; code: string | undefined }> = [];
const logged: LogEntry[] = [];
const onWarning = (warning: Error & { code?: string }): void => void warnings.push({ message: warning.message, code: warning.code });

beforeAll(async () => {
  process.on('warning', onWarning);
  scratch = await createScratch('local');
  cacheDir = await mkdtemp(path.join(tmpdir(), 'pycage-runtime-local-'));
  wheelhouse = await mkdtemp(path.join(tmpdir(), 'pycage-runtime-local-wheels-'));
  await buildWheel(wheelhouse, { name: 'pycage-local-demo', version: '3.0.0', files: { 'pycage_local_demo/__init__.py': 'WHERE = "local venv"\n' } });
  local = createRuntime({ isolate: false, cacheDir, findLinks: wheelhouse, noIndex: true, logger: (entry) => logged.push(entry) });
});

afterAll(async () => {
  process.off('warning', onWarning);
  await local?.close();
  await scratch?.dispose();
  await rm(cacheDir, { recursive: true, force: true });
  await rm(wheelhouse, { recursive: true, force: true });
});

describe('isolate: false', () => {
  // The library never prints: the warning goes to the caller's logger (the CLI prints its own).
  it('warns once, through its logger, that nothing is isolated, and prints nothing itself', async () => {
    // process.emitWarning delivers on a later tick: one turn of the event loop lets any warning arrive.
    await new Promise((resolve) => setImmediate(resolve));
    expect(warnings.filter((warning) => warning.code === 'PYCAGE_NO_ISOLATION')).toEqual([]);
    expect(logged.filter((entry) => entry.level === 'warn' && entry.message.includes('no sandbox'))).toEqual([
      { level: 'warn', component: 'Runtime', message: 'isolate: false runs model-written code on this machine with no sandbox' },
    ]);
    expect(local.isolated).toBe(false);
  });

  it('runs hello world with the same result shape as the sandbox', async () => {
    const sandboxed = scratch.runtime();
    const [inDocker, onHost] = await Promise.all([sandboxed.runScript('print("hello world")\n'), local.runScript('print("hello world")\n')]);
    expect(onHost.stdout).toBe('hello world\n');
    expect(onHost.exitCode).toBe(0);
    expect(Object.keys(onHost)).toEqual(Object.keys(inDocker));
    // The one honest difference: the local runner cannot restrict the network, and says so.
    expect(onHost.network).toEqual({ mode: 'open', blocked: [] });
    expect({ ...onHost, durationMs: 0, network: undefined }).toEqual({ ...inDocker, durationMs: 0, network: undefined });
  });

  it('parses errors, passes args/stdin/files, copies ./output, and gives the script only the env it was given', async () => {
    process.env.PYCAGE_TEST_FAKE_API_KEY = 'sk-local-must-not-leak';
    const outputDir = path.join(cacheDir, 'out');
    try {
      const result = await local.runScript(
        'import os, sys\nprint(sys.argv[1:], sys.stdin.read(), open("in.txt").read())\nprint(sorted(k for k in os.environ if k not in ("PWD", "SHLVL", "_", "LC_CTYPE")))\nopen("output/result.txt", "w").write("ok")\nraise RuntimeError("local failure")\n',
        { args: ['x'], stdin: 'input', files: { 'in.txt': 'file' }, env: { EXTRA: '1' }, outputDir },
      );
      expect(result.exitCode).toBe(1);
      expect(result.stdout).toBe(
        "['x'] input file\n['EXTRA', 'HOME', 'LANG', 'MPLBACKEND', 'PATH', 'PYCAGE_OUTPUT_DIR', 'PYTHONDONTWRITEBYTECODE', 'PYTHONUNBUFFERED']\n",
      );
      expect(result.error).toMatchObject({ name: 'RuntimeError', message: 'local failure' });
      expect(result.artifacts).toEqual([{ name: 'result.txt', path: path.join(outputDir, 'result.txt'), sizeBytes: 2 }]);
      expect(await readFile(path.join(outputDir, 'result.txt'), 'utf8')).toBe('ok');
    } finally {
      delete process.env.PYCAGE_TEST_FAKE_API_KEY;
    }
  });

  it('kills the whole process group at the timeout', async () => {
    const marker = `pycage-local-marker-${randomBytes(4).toString('hex')}`;
    // The loop never ends by itself: that the run ends at all is the timeout's doing (bounded against a hang only).
    const result = await withinHangBound(
      local.runScript(
        `import subprocess, sys\nsubprocess.Popen([sys.executable, "-c", "import time\\nwhile True: time.sleep(1)", "${marker}"])\nwhile True:\n    pass\n`,
        { timeoutMs: 1500 },
      ),
      'a local run of an endless loop with a 1.5 s timeout',
    );
    expect(result.timedOut).toBe(true);
    expect(result.exitCode).toBe(124);
    expect(spawnSync('pgrep', ['-f', marker], { encoding: 'utf8' }).stdout.trim()).toBe('');
  });

  it('builds a venv once under the cache directory and reuses it', async () => {
    const script = 'import pycage_local_demo, sys\nprint(pycage_local_demo.WHERE, sys.prefix != sys.base_prefix)\n';
    const first = await local.runScript(script, { requirements: ['pycage-local-demo==3.0.0'] });
    expect(first.stderr).toBe('');
    expect(first.stdout).toBe('local venv True\n');
    expect(first.environment).toMatchObject({ reused: false, installer: 'pip' });
    const second = await local.runScript(script, { requirements: ['pycage-local-demo==3.0.0'] });
    expect(second.environment).toMatchObject({ key: first.environment!.key, reused: true });
    expect(await readFile(path.join(cacheDir, 'envs', first.environment!.key, '.complete'), 'utf8')).toContain('pycage-local-demo==3.0.0');
  });

  it('cuts endless output at the cap', async () => {
    // The timeout is far away, so only the cap can have stopped the script (timedOut false below).
    const result = await local.runScript('while True:\n    print("x" * 1000)\n', { timeoutMs: hangBoundMs, outputLimitBytes: 100_000 });
    expect(result.outputTruncated).toBe(true);
    expect(result.timedOut).toBe(false);
    expect(result.stdout.length).toBe(100_000);
  });
});
