// Scripts that misbehave: they are stopped, the result says how, and nothing of them is left running.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AbortedError } from '../../../src/errors.js';
import { SandboxError, type Runtime } from '../../../src/runtime/index.js';
import { hangBoundMs, withinHangBound } from '../../helpers/wait.js';
import { createScratch, sessionContainers, waitFor, waitForSessionContainers, type Scratch } from './helpers.js';

let scratch: Scratch;
let runtime: Runtime;

beforeAll(async () => {
  scratch = await createScratch('limits');
  // No pool: every container of the session belongs to the run in progress, so "nothing left" is exact.
  runtime = scratch.runtime({ poolSize: 0, pidsLimit: 64, memoryBytes: 128 * 1024 * 1024 });
  await runtime.start();
});

afterAll(async () => {
  await scratch?.dispose();
});

/** Host processes whose command line contains `marker` (the sandbox's processes are visible from the host). */
function hostProcesses(marker: string): string[] {
  const found = spawnSync('pgrep', ['-f', marker], { encoding: 'utf8' });
  return found.stdout.split('\n').filter((line) => line.trim() !== '');
}

describe('limits', () => {
  it('ends an endless loop at the timeout and kills its whole process tree', async () => {
    const marker = `pycage-marker-${randomBytes(4).toString('hex')}`;
    // The loop never ends by itself: that the run ends at all is the timeout's doing (bounded against a hang only).
    const result = await withinHangBound(
      runtime.runScript(
        `import subprocess, sys\nsubprocess.Popen([sys.executable, "-c", "import time\\nwhile True: time.sleep(1)", "${marker}"])\nprint("looping", flush=True)\nwhile True:\n    pass\n`,
        { timeoutMs: 2000 },
      ),
      'a run of an endless loop with a 2 s timeout',
    );
    expect(result.timedOut).toBe(true);
    expect(result.exitCode).toBe(124);
    expect(result.oomKilled).toBe(false);
    expect(result.stdout).toBe('looping\n');
    // Not stopped early: the script had its whole time limit (a load that slows the host only adds to this).
    expect(result.durationMs).toBeGreaterThanOrEqual(1900);
    await waitForSessionContainers(runtime);
    expect(hostProcesses(marker)).toEqual([]);
  });

  it('reports a memory bomb as oomKilled with exit 137', async () => {
    const result = await runtime.runScript('chunks = []\nwhile True:\n    chunks.append(bytearray(16 * 1024 * 1024))\n', { memoryBytes: 64 * 1024 * 1024, timeoutMs: 20_000 });
    expect(result.oomKilled).toBe(true);
    expect(result.exitCode).toBe(137);
    expect(result.timedOut).toBe(false);
    await waitForSessionContainers(runtime);
  });

  it('contains a fork bomb, and the next run works', async () => {
    // A bomb that took the host or the sandbox's timeout down would leave this run hanging.
    const bomb = await withinHangBound(
      runtime.runScript('import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n', { timeoutMs: 3000 }),
      'a fork bomb with a 3 s timeout',
    );
    expect(bomb.timedOut).toBe(true);
    // The host still starts processes normally.
    expect(execFileSync('node', ['-e', 'console.log("host ok")'], { encoding: 'utf8' })).toBe('host ok\n');
    await waitForSessionContainers(runtime);
    const after = await runtime.runScript('print("still fine")\n');
    expect(after.stdout).toBe('still fine\n');
    expect(after.exitCode).toBe(0);
  });

  it('cuts endless printing at the output cap and stops the script there, not at its timeout', async () => {
    // The timeout is far away, so only the cap can have stopped the script (timedOut false below),
    // however slow the machine is to print 4 MiB.
    const result = await runtime.runScript('while True:\n    print("é" * 999)\n', { timeoutMs: hangBoundMs });
    expect(result.outputTruncated).toBe(true);
    expect(result.timedOut).toBe(false);
    expect(result.exitCode).toBe(1);
    expect(result.error?.name).toBe('OutputLimitError');
    const kept = Buffer.byteLength(result.stdout);
    expect(kept).toBeLessThanOrEqual(4 * 1024 * 1024);
    expect(kept).toBeGreaterThan(4 * 1024 * 1024 - 4);
    expect(result.stdout.includes('\uFFFD')).toBe(false);
    await waitForSessionContainers(runtime);
  });

  it('applies a smaller per-run output cap', async () => {
    const result = await runtime.runScript('import sys\nsys.stdout.write("a" * 5000)\nsys.stderr.write("b" * 5000)\n', { outputLimitBytes: 6000 });
    expect(result.outputTruncated).toBe(true);
    expect(result.stdout.length + result.stderr.length).toBe(6000);
  });

  it('fails a run whose container is stopped from outside (docker stop) with a SandboxError, not a result', async () => {
    let stopped = false;
    const run = runtime.runScript('import time\nprint("running", flush=True)\ntime.sleep(60)\n', {
      onStdout: (text) => {
        if (stopped || !text.includes('running')) return;
        stopped = true;
        // What a user's `docker stop`, or a daemon shutting down, does to the running sandbox.
        execFileSync('docker', ['stop', '--time', '1', ...sessionContainers(runtime)]);
      },
    });
    await expect(run).rejects.toThrow(SandboxError);
    await expect(run).rejects.toThrow(/stopped from outside pycage during the run/);
    expect(stopped).toBe(true);
    await waitForSessionContainers(runtime);
  });

  it('cannot take its own sandbox down: signal -1 reaches only its own processes, and it ends as its own result', async () => {
    // Signal -1 reaches every process the caller may signal; the keeper (root) is not one of them, so
    // the container lives on and the script's own exit is its result.
    const result = await runtime.runScript('import os, signal, time\nprint("bye", flush=True)\nos.kill(-1, signal.SIGKILL)\ntime.sleep(1)\nprint("still here")\n');
    expect(result.stdout).toBe('bye\nstill here\n');
    expect(result.exitCode).toBe(0);
    expect(result.oomKilled).toBe(false);
    await waitFor(() => sessionContainers(runtime).length <= 1, 'at most the one container of the run in the session');
  });

  it('cancels a run through its abortSignal, removing its container', async () => {
    const controller = new AbortController();
    // Aborted once the script is seen running. Past the abort only the runtime's timeout (60 s) would
    // end the run, and as a result, not a rejection; the hang bound guards the rest.
    const run = runtime.runScript('import time\nprint("running", flush=True)\ntime.sleep(600)\n', {
      abortSignal: controller.signal,
      onStdout: () => controller.abort(),
    });
    await expect(withinHangBound(run, 'an aborted run')).rejects.toBeInstanceOf(AbortedError);
    await waitForSessionContainers(runtime);
  });
});
