/**
 * P4: eight runs started at once vs one run, on one runtime with the default pool (2 warm
 * containers). Target: <= 3.0 on 2 cores.
 *
 * The pool follows the concurrency it sees: the first burst of eight finds two containers ready and
 * starts six for itself; after it the pool keeps eight ready (until poolIdleMs passes without another
 * burst), so the measured bursts, which come after a warm-up burst, find theirs started. `P4-first`
 * shows the first burst a fresh runtime sees, and `P4-exec` Docker's own floor: eight plain execs at
 * once into eight running containers.
 */
import { compare, type BenchOutcome, type Comparison } from './lib/compare.js';
import { expectOutput, roundsFor, type BenchContext } from './lib/context.js';
import { execIn, imagePath, pause, scriptEnvironment, startBaselineContainer, waitForPool } from './lib/docker.js';
import type { Runtime } from '../src/index.js';

const script = (index: number): string => `print("run", ${index})\n`;

async function burst(runtime: Runtime, count: number): Promise<void> {
  const results = await Promise.all(Array.from({ length: count }, (_, index) => runtime.runScript(script(index))));
  for (const [index, result] of results.entries()) expectOutput(result, `run ${index}\n`);
}

async function measure(context: BenchContext, poolSize: number, id: string, title: string, notes: string[]): Promise<Comparison> {
  const runtime = context.runtime({ poolSize });
  await runtime.start();
  try {
    return await compare(
      {
        id,
        title,
        a: { label: `8 runScript calls at once (pool of ${poolSize})`, run: () => burst(runtime, 8) },
        b: { label: `1 runScript call (pool of ${poolSize})`, run: () => burst(runtime, 1) },
        rounds: roundsFor(context, 8),
        warmup: 1,
        target: 3.0,
        settle: () => waitForPool(runtime, 60_000),
        command: 'npm run bench -- P4',
        notes,
      },
      context.log,
    );
  } finally {
    await runtime.close();
  }
}

/** Docker's own floor: eight `docker exec`s at once into eight running containers vs one. */
async function measureExecs(context: BenchContext): Promise<Comparison> {
  const containers = await Promise.all(Array.from({ length: 8 }, () => startBaselineContainer(context.image)));
  const env = scriptEnvironment(await imagePath(context.image));
  const exec = async (index: number): Promise<void> =>
    expectOutput(await execIn(containers[index]!, { cmd: ['python3', '-'], env, stdin: script(index) }), `run ${index}\n`);
  try {
    return await compare(
      {
        id: 'P4-exec',
        title: 'plain Docker: eight execs at once into eight running containers vs one exec',
        a: { label: '8 execs of python3 - at once (dockerode)', run: async () => void (await Promise.all(containers.map((_, index) => exec(index)))) },
        b: { label: '1 exec of python3 - (dockerode)', run: () => exec(0) },
        rounds: roundsFor(context, 8),
        warmup: 1,
        target: 3.0,
        settle: () => pause(300),
        command: 'npm run bench -- P4',
        notes: ['diagnostic: what Docker alone allows on this machine, no pycage'],
      },
      context.log,
    );
  } finally {
    await Promise.allSettled(containers.map((container) => container.remove({ force: true })));
  }
}

/** The first burst of a runtime, whose pool has not grown yet: a fresh runtime per sample. */
async function measureFirstBurst(context: BenchContext): Promise<Comparison> {
  let runtime: Runtime | undefined;
  // Before every sample: the previous runtime closed, a fresh one started with its pool full.
  const fresh = async (): Promise<void> => {
    await runtime?.close();
    runtime = context.runtime({ poolSize: 2 });
    await runtime.start();
    await waitForPool(runtime, 60_000);
  };
  try {
    return await compare(
      {
        id: 'P4-first',
        title: 'the first burst of a fresh runtime (pool of 2, not grown yet) vs one run',
        a: { label: '8 runScript calls at once on a fresh runtime (pool of 2)', run: () => burst(runtime!, 8) },
        b: { label: '1 runScript call on a fresh runtime (pool of 2)', run: () => burst(runtime!, 1) },
        rounds: Math.max(3, Math.round(roundsFor(context, 8) / 2)),
        warmup: 1,
        target: 3.0,
        settle: fresh,
        command: 'npm run bench -- P4',
        notes: ['diagnostic: six of the eight containers are started by the burst itself'],
      },
      context.log,
    );
  } finally {
    await runtime?.close();
  }
}

export async function benchP4(context: BenchContext): Promise<BenchOutcome> {
  const comparisons = [
    await measure(context, 2, 'P4', 'eight concurrent runs vs one run (default pool of 2, grown by the warm-up burst)', [
      'daemon settled before every sample (pool refilled to the size it grew to)',
    ]),
    await measureFirstBurst(context),
    await measureExecs(context),
  ];
  return { comparisons, details: [] };
}
