/**
 * throughput: sustained runs per second, 60 runs at concurrency 4 (each of four workers starts its
 * next run as soon as its last one ends), pycage vs plain Docker doing the same work per run: create,
 * start, run, remove a container of the same image, user and limits (no network, as pycage's default
 * `public` and `none` containers have none of their own). Target: pycage's rate >= 1.5x Docker's,
 * that is a time ratio A/B <= 0.67.
 */
import type { BenchOutcome } from './lib/compare.js';
import { compare } from './lib/compare.js';
import { expectOutput, roundsFor, type BenchContext } from './lib/context.js';
import { imagePath, runFreshContainer, scriptEnvironment, waitForPool } from './lib/docker.js';
import type { Runtime } from '../src/index.js';

const totalRuns = 60;
const concurrency = 4;
const script = (index: number): string => `print("run", ${index})\n`;

async function workers(run: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < totalRuns) {
      const index = next;
      next += 1;
      await run(index);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

export async function benchThroughput(context: BenchContext): Promise<BenchOutcome> {
  const runtime: Runtime = context.runtime({ poolSize: 2 });
  await runtime.start();
  const env = scriptEnvironment(await imagePath(context.image));
  try {
    const comparison = await compare(
      {
        id: 'throughput',
        title: `${totalRuns} runs at concurrency ${concurrency}: pycage vs plain Docker (create, start, run, remove)`,
        a: {
          label: `${totalRuns} runScript calls, ${concurrency} at a time (pool of 2)`,
          run: () => workers(async (index) => expectOutput(await runtime.runScript(script(index)), `run ${index}\n`)),
        },
        b: {
          label: `${totalRuns} plain containers (python3 -c), ${concurrency} at a time (dockerode)`,
          run: () => workers(async (index) => expectOutput(await runFreshContainer(context.image, { cmd: ['python3', '-c', script(index)], env }), `run ${index}\n`)),
        },
        rounds: roundsFor(context, 3),
        warmup: 1,
        target: 1 / 1.5,
        settle: () => waitForPool(runtime, 60_000),
        command: 'npm run bench -- throughput',
        notes: ['a time ratio: runs/s of pycage over Docker is its inverse (target: runs/s at least 1.5x Docker\'s)'],
      },
      context.log,
    );
    const rate = (ms: number): string => `${(totalRuns / (ms / 1000)).toFixed(2)} runs/s`;
    return {
      comparisons: [comparison],
      details: [`throughput: pycage ${rate(comparison.medianA)}, plain Docker ${rate(comparison.medianB)} (medians of ${comparison.rounds} rounds); rate ratio ${(comparison.medianB / comparison.medianA).toFixed(2)}x`],
    };
  } finally {
    await runtime.close();
  }
}
