// The run skeleton with fake steps: the order of a run, the stop reasons, the abort and the result,
// as both runners get them.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AbortedError } from '../../../src/errors.js';
import { Logger } from '../../../src/logger.js';
import type { ExecuteRequest } from '../../../src/runtime/base-runtime.js';
import { keepArtifacts, noArtifacts, superviseRun, type RunControl, type RunSteps } from '../../../src/runtime/run-skeleton.js';
import type { RunOptions, RuntimeEvent } from '../../../src/runtime/types.js';

let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'pycage-unit-skeleton-'));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

function request(options: RunOptions = {}, limits: Partial<ExecuteRequest['limits']> = {}): ExecuteRequest & { events: RuntimeEvent[] } {
  const events: RuntimeEvent[] = [];
  return {
    events,
    code: 'print(1)',
    options,
    limits: { timeoutMs: 60_000, memoryBytes: 1 << 28, cpus: 1, network: 'none', allowHosts: [], outputLimitBytes: 1000, ...limits },
    env: {},
    requirements: [],
    environment: undefined,
    files: { entries: [], blobs: [] },
    stdin: undefined,
    emit: (event) => events.push(event),
  };
}

/** Steps that record what the skeleton asked of them; `runScript` and `afterScript` are the test's. */
function steps(overrides: Partial<RunSteps<number>> & Pick<RunSteps<number>, 'runScript'>): RunSteps<number> & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    cancelledMessage: 'cancelled, processes killed',
    stop: (reason) => calls.push(`stop ${reason}`),
    abort: () => calls.push('abort'),
    afterScript: async (exitCode) => ({ exitCode, oomKilled: false, ...noArtifacts() }),
    network: () => ({ mode: 'none', blocked: [] }),
    ...overrides,
  };
}

describe('superviseRun', () => {
  it('runs the steps in order and builds the result from the output and the end', async () => {
    const run = request();
    const order: string[] = [];
    const result = await superviseRun(
      run,
      steps({
        beforeStart: async () => {
          order.push(`before (events: ${run.events.length})`);
        },
        runScript: async (control) => {
          order.push(`script (events: ${run.events.map((event) => event.type).join(',')})`);
          control.collector.write('stdout', Buffer.from('hello\n'));
          control.collector.write('stderr', Buffer.from('warn\n'));
          return 3;
        },
        afterScript: async (exitCode, control) => {
          order.push(`after ${JSON.stringify(control.output())}`);
          return { exitCode, oomKilled: false, ...noArtifacts() };
        },
      }),
    );
    expect(order).toEqual(['before (events: 0)', 'script (events: run-start)', 'after {"stdout":"hello\\n","stderr":"warn\\n"}']);
    expect(result).toMatchObject({ exitCode: 3, stdout: 'hello\n', stderr: 'warn\n', timedOut: false, network: { mode: 'none', blocked: [] } });
    expect(run.events).toEqual([{ type: 'run-start' }, { type: 'run-end', exitCode: 3, durationMs: result.durationMs }]);
  });

  it('stops the script at its timeout, once, and says so in the result', async () => {
    const fake = steps({
      runScript: (control) =>
        new Promise((resolve) => {
          // The fake script ends when it is stopped, as a killed process does.
          const poll = setInterval(() => {
            if (control.stopReason !== undefined) {
              clearInterval(poll);
              resolve(137);
            }
          }, 1);
        }),
    });
    const result = await superviseRun(request({}, { timeoutMs: 5 }), fake);
    expect(fake.calls).toEqual(['stop timeout']);
    expect(result).toMatchObject({ exitCode: 124, timedOut: true });
  });

  it('stops the script when its output passes the cap, keeps the first bytes and reports OutputLimitError', async () => {
    const onStdout: string[] = [];
    const fake = steps({
      runScript: async (control) => {
        for (let index = 0; index < 5; index += 1) control.collector.write('stdout', Buffer.from('x'.repeat(40)));
        return 0;
      },
    });
    const result = await superviseRun(request({ onStdout: (text) => onStdout.push(text) }, { outputLimitBytes: 100 }), fake);
    expect(fake.calls).toEqual(['stop output-limit']);
    expect(result.stdout).toBe('x'.repeat(100));
    expect(onStdout.join('')).toBe('x'.repeat(100));
    expect(result).toMatchObject({ exitCode: 1, outputTruncated: true, error: { name: 'OutputLimitError' } });
  });

  it('on an abort, ends the run through the runner, ignores later stops and throws the runner’s AbortedError', async () => {
    const controller = new AbortController();
    let control: RunControl | undefined;
    const fake = steps({
      runScript: async (run) => {
        control = run;
        controller.abort(new Error('user'));
        // Time running out after the abort changes nothing.
        run.collector.write('stdout', Buffer.from('y'.repeat(2000)));
        return 137;
      },
    });
    const failure = await superviseRun(request({ abortSignal: controller.signal }), fake).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AbortedError);
    expect((failure as AbortedError).message).toBe('cancelled, processes killed');
    expect(fake.calls).toEqual(['abort']);
    expect(control?.aborted).toBe(true);
    expect(control?.stopReason).toBeUndefined();
  });

  it('does not start a run whose signal has already fired', async () => {
    const controller = new AbortController();
    controller.abort();
    const run = request({ abortSignal: controller.signal });
    let started = false;
    const fake = steps({
      runScript: async () => {
        started = true;
        return 0;
      },
    });
    await expect(superviseRun(run, fake)).rejects.toBeInstanceOf(AbortedError);
    expect(started).toBe(false);
    expect(run.events).toEqual([]);
    expect(fake.calls).toEqual([]);
  });

  it('lets the runner explain only the failures that happen once the run has started', async () => {
    const explain = (error: unknown): unknown => new Error(`explained: ${(error as Error).message}`);
    const early = superviseRun(
      request(),
      steps({
        beforeStart: async () => {
          throw new Error('before');
        },
        runScript: async () => 0,
        explainFailure: explain,
      }),
    );
    await expect(early).rejects.toThrow(/^before$/);
    const late = superviseRun(
      request(),
      steps({
        runScript: async () => {
          throw new Error('during');
        },
        explainFailure: explain,
      }),
    );
    await expect(late).rejects.toThrow('explained: during');
  });

  it('measures the duration from the last restart of the clock', async () => {
    // A clock read by hand: 1000 at the start, 5000 at the restart, 5012 at the end.
    const readings = [1000, 5000, 5012];
    const now = vi.spyOn(performance, 'now').mockImplementation(() => readings.shift() ?? 5012);
    try {
      const result = await superviseRun(
        request(),
        steps({
          runScript: async (control) => {
            control.restartClock();
            return 0;
          },
        }),
      );
      expect(result.durationMs).toBe(12);
    } finally {
      now.mockRestore();
    }
  });
});

describe('keepArtifacts', () => {
  it('writes the files, and reports what was refused before and while writing', async () => {
    const warnings: string[] = [];
    const logger = new Logger((entry) => {
      if (entry.level === 'warn') warnings.push(entry.message);
    });
    const outputDir = path.join(directory, 'kept');
    const kept = await keepArtifacts(
      outputDir,
      [
        { name: 'plot.png', data: Buffer.from('png') },
        { name: '.bashrc', data: Buffer.from('x') },
      ],
      { refusedBefore: [{ name: 'link', reason: 'not a regular file' }], logger },
    );
    expect(kept.artifacts.map((artifact) => artifact.name)).toEqual(['plot.png']);
    expect(await readFile(path.join(outputDir, 'plot.png'), 'utf8')).toBe('png');
    expect(kept.refusedArtifacts.map((item) => item.name)).toEqual(['link', '.bashrc']);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^not copied from the output directory: link \(not a regular file\), \.bashrc \(/);
  });
});
