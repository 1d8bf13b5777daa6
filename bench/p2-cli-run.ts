/**
 * P2: `pycage run hello.py` as a whole process (Node start, CLI, runtime start, run, close) vs
 * `docker run --rm -i IMAGE python3 - < hello.py`. Target: <= 1.5.
 *
 * pycage runs with its defaults (requirements inferred, pool warming, network bridge), on a cache
 * directory of the benchmark's own that the warm-up fills (the image probe is cached there, as it would
 * be on a user's machine after the first run). `docker run` gets the script on stdin, since nothing is
 * mounted into pycage's containers either. Diagnostics: the same one-shot inside this process (the
 * runtime's part alone) with pools of 2 and 1, and the module loading on `pycage run`'s path.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { baseEnv, cliPath } from '../test/helpers/cli.js';
import { compare, type BenchOutcome, type Comparison, type ComparisonSpec } from './lib/compare.js';
import { expectOutput, hello, helloOutput, roundsFor, type BenchContext } from './lib/context.js';
import { pause } from './lib/docker.js';
import { importMs, runChecked } from './lib/processes.js';
import { formatMs, median } from './lib/stats.js';

/** The CLI test environment (no developer settings leak in) on the benchmark's image and cache directory. */
export function cliEnvironment(context: BenchContext): NodeJS.ProcessEnv {
  return { ...baseEnv(), PYCAGE_IMAGE: context.image, XDG_CACHE_HOME: context.cacheDir };
}

export async function benchP2(context: BenchContext): Promise<BenchOutcome> {
  const script = path.join(context.cacheDir, 'hello.py');
  await writeFile(script, hello);
  const env = cliEnvironment(context);
  const details: string[] = [];

  const dockerRun = {
    label: '`docker run --rm -i IMAGE python3 -` < hello.py',
    run: () => runChecked('docker', ['run', '--rm', '-i', context.image, 'python3', '-'], { input: hello, expected: helloOutput }),
  };
  // Every figure here is one side against `docker run`, with the same rounds, warm-up and target.
  const versusDockerRun = ({ settleMs, ...spec }: Pick<ComparisonSpec, 'id' | 'title' | 'a' | 'notes'> & { settleMs: number }): Promise<Comparison> =>
    compare(
      { ...spec, b: dockerRun, rounds: roundsFor(context, 12), warmup: 2, target: 1.5, settle: () => pause(settleMs), command: 'npm run bench -- P2' },
      context.log,
    );
  const comparisons: Comparison[] = [];
  comparisons.push(
    await versusDockerRun({
      id: 'P2',
      title: '`pycage run hello.py` (whole process) vs `docker run --rm IMAGE python3`',
      a: {
        label: '`pycage run hello.py` (node dist/cli/main.js)',
        run: () => runChecked(process.execPath, [cliPath, 'run', script], { env, expected: helloOutput }),
      },
      // Both clean up before they exit; a short pause lets the daemon finish network teardown.
      settleMs: 300,
    }),
  );

  // The same one-shot inside this process (no Node start, no module loading): what the runtime's
  // start, run and close cost, with the library's default pool of 2 and with the pool of 1 that `pycage run` uses.
  for (const poolSize of [2, 1]) {
    comparisons.push(
      await versusDockerRun({
        id: `P2-lib-pool${poolSize}`,
        title: `in-process one-shot: createRuntime({ poolSize: ${poolSize} }), runScript, close vs docker run`,
        a: {
          label: `createRuntime + start + runScript(hello) + close, pool of ${poolSize}`,
          run: async () => {
            const runtime = context.runtime({ poolSize });
            try {
              expectOutput(await runtime.runScript(hello), helloOutput);
            } finally {
              await runtime.close();
            }
          },
        },
        settleMs: 300,
        notes: ['diagnostic: the runtime alone, without Node start-up and module loading'],
      }),
    );
  }

  comparisons.push(
    await versusDockerRun({
      id: 'P2-lib-nowait',
      title: 'in-process one-shot closed with close({ wait: false }) vs docker run',
      a: {
        label: 'createRuntime + start + runScript(hello) + close({ wait: false }), pool of 1',
        run: async () => {
          const runtime = context.runtime({ poolSize: 1 });
          expectOutput(await runtime.runScript(hello), helloOutput);
          await runtime.close({ wait: false });
        },
      },
      // The containers let go are removed by Docker meanwhile; the next sample waits for that.
      settleMs: 400,
      notes: ['diagnostic: the runtime alone; the removal of its container happens after the sample'],
    }),
  );

  // Module loading on `pycage run`'s path, each in a fresh Node process.
  const root = fileURLToPath(new URL('..', import.meta.url));
  const importOptions = { env, cwd: root, samples: 7 };
  const nodeAlone: number[] = [];
  for (let index = 0; index < 7; index += 1) {
    const started = performance.now();
    await runChecked(process.execPath, ['-e', '0'], { env });
    nodeAlone.push(performance.now() - started);
  }
  details.push(
    [
      'P2 module loading (median of 7 fresh processes each):',
      `    node -e 0 (whole process)                  ${formatMs(median(nodeAlone))}`,
      `    import dist/cli/commands/run.js            ${formatMs(await importMs(path.join(root, 'dist/cli/commands/run.js'), importOptions))}  (the command, the runtime and requirements stages, no SDK)`,
      `    import dockerode                           ${formatMs(await importMs('dockerode', importOptions))}  (loaded on the first Docker call)`,
    ].join('\n'),
  );

  // Where pycage's time goes: one more run with a preload that clocks every Docker request and log line.
  if (context.trace) {
    const timeline = path.join(context.cacheDir, 'p2-timeline.txt');
    const clock = fileURLToPath(new URL('./lib/phase-clock.ts', import.meta.url));
    await runChecked(process.execPath, ['--import', 'tsx', '--import', clock, cliPath, 'run', script, '--verbose'], {
      env: { ...env, PYCAGE_BENCH_TIMELINE: timeline },
      expected: helloOutput,
    });
    const text = await readFile(timeline, 'utf8');
    details.push(`P2 trace: one \`pycage run hello.py --verbose\`, offsets from the process start:\n${text.split('\n').map((line) => `    ${line}`).join('\n')}`);
  }
  return { comparisons, details };
}
