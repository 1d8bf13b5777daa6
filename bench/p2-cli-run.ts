/**
 * P2: `pycage run hello.py` as a whole process (Node start, CLI, runtime start, run, close) vs
 * `docker run --rm -i IMAGE python3 - < hello.py`. Target: <= 1.5.
 *
 * pycage runs with its defaults (requirements inferred, pool warming, network bridge), on a cache
 * directory of the benchmark's own that the warm-up fills (the image probe is cached there, as it would
 * be on a user's machine after the first run). `docker run` gets the script on stdin, since nothing is
 * mounted into pycage's containers either.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compare, type BenchOutcome } from './lib/compare.js';
import { hello, helloOutput, roundsFor, type BenchContext } from './lib/context.js';
import { pause } from './lib/docker.js';
import { runChecked } from './lib/processes.js';

export const cliPath = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

export function cliEnvironment(context: BenchContext): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    NO_COLOR: '1',
    PYCAGE_IMAGE: context.image,
    XDG_CACHE_HOME: context.cacheDir,
    ...(process.env.DOCKER_HOST === undefined ? {} : { DOCKER_HOST: process.env.DOCKER_HOST }),
  };
}

export async function benchP2(context: BenchContext): Promise<BenchOutcome> {
  const script = path.join(context.cacheDir, 'hello.py');
  await writeFile(script, hello);
  const env = cliEnvironment(context);
  const details: string[] = [];

  const comparison = await compare(
    {
      id: 'P2',
      title: '`pycage run hello.py` (whole process) vs `docker run --rm IMAGE python3`',
      a: {
        label: '`pycage run hello.py` (node dist/cli/main.js)',
        run: () => runChecked(process.execPath, [cliPath, 'run', script], { env, expected: helloOutput }),
      },
      b: {
        label: '`docker run --rm -i IMAGE python3 -` < hello.py',
        run: () => runChecked('docker', ['run', '--rm', '-i', context.image, 'python3', '-'], { input: hello, expected: helloOutput }),
      },
      rounds: roundsFor(context, 12),
      warmup: 2,
      target: 1.5,
      // Both clean up before they exit; a short pause lets the daemon finish network teardown.
      settle: () => pause(300),
      command: 'npm run bench -- P2',
    },
    context.log,
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
  return { comparisons: [comparison], details };
}
