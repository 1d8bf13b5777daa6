/**
 * throughput: sustained runs per second, 60 runs at concurrency 4 (each of four workers starts its
 * next run as soon as its last one ends), pycage vs plain Docker doing the same work per run: create,
 * start, run, remove a container of the same image, user and limits (no network, as pycage's default
 * `public` and `none` containers have none of their own). Target: pycage's rate >= 1.5x Docker's,
 * that is a time ratio A/B <= 0.67.
 *
 * `throughput-cpu` (a diagnostic) says where a run's CPU goes on each side: batches of the same 60
 * runs, each followed by what it left behind (pycage's removals and refills, until its pool rests),
 * with the CPU of dockerd, containerd, the shims and runc, the containers' own processes and this
 * process read before and after (bench/lib/cpu.ts), and the Docker API calls made per run.
 */
import type { BenchOutcome } from './lib/compare.js';
import { compare } from './lib/compare.js';
import { expectOutput, roundsFor, type BenchContext } from './lib/context.js';
import { cpuParts, cpuPerRun, cpuSnapshot, type CpuSnapshot } from './lib/cpu.js';
import { imagePath, pause, runFreshContainer, scriptEnvironment, waitForPool } from './lib/docker.js';
import { median } from './lib/stats.js';
import { takeCalls, traceDockerCalls } from './lib/trace.js';
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
  const pycage = () => workers(async (index) => expectOutput(await runtime.runScript(script(index)), `run ${index}\n`));
  const plain = () => workers(async (index) => expectOutput(await runFreshContainer(context.image, { cmd: ['python3', '-c', script(index)], env }), `run ${index}\n`));
  try {
    const comparison = await compare(
      {
        id: 'throughput',
        title: `${totalRuns} runs at concurrency ${concurrency}: pycage vs plain Docker (create, start, run, remove)`,
        a: {
          label: `${totalRuns} runScript calls, ${concurrency} at a time (pool of 2)`,
          run: pycage,
        },
        b: {
          label: `${totalRuns} plain containers (python3 -c), ${concurrency} at a time (dockerode)`,
          run: plain,
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
    const details = [`throughput: pycage ${rate(comparison.medianA)}, plain Docker ${rate(comparison.medianB)} (medians of ${comparison.rounds} rounds); rate ratio ${(comparison.medianB / comparison.medianA).toFixed(2)}x`];
    details.push(...(await cpuBreakdown(context, { pycage: { run: pycage, after: () => waitForPool(runtime, 60_000) }, plain: { run: plain, after: () => pause(500) } })));
    return { comparisons: [comparison], details };
  } finally {
    await runtime.close();
  }
}

/**
 * throughput-cpu: per run, the CPU each part of the machine spent and the Docker API calls made, for
 * batches of both sides (ABBA, each batch with what it left behind), as medians over the rounds.
 */
async function cpuBreakdown(
  context: BenchContext,
  sides: Record<'pycage' | 'plain', { run: () => Promise<void>; after: () => Promise<void> }>,
): Promise<string[]> {
  if (cpuSnapshot() === undefined) return ['throughput-cpu: skipped (needs a local Docker daemon on Linux, and cgroup CPU accounting)'];
  traceDockerCalls();
  const rounds = roundsFor(context, 4);
  const samples: Record<'pycage' | 'plain', { cpu: CpuSnapshot[]; calls: Map<string, number>[] }> = { pycage: { cpu: [], calls: [] }, plain: { cpu: [], calls: [] } };
  for (let round = 0; round < rounds; round += 1) {
    for (const name of round % 2 === 0 ? (['pycage', 'plain'] as const) : (['plain', 'pycage'] as const)) {
      await sides.pycage.after();
      await pause(1000);
      takeCalls();
      const before = cpuSnapshot()!;
      await sides[name].run();
      await sides[name].after();
      const after = cpuSnapshot()!;
      samples[name].cpu.push(cpuPerRun(before, after, totalRuns));
      const calls = new Map<string, number>();
      for (const call of takeCalls()) calls.set(call.kind, (calls.get(call.kind) ?? 0) + 1 / totalRuns);
      samples[name].calls.push(calls);
      context.log(`  throughput-cpu round ${round + 1}/${rounds}: ${name} ${cpuParts.map((part) => `${part} ${samples[name].cpu.at(-1)![part].toFixed(1)}`).join(' ')} ms/run`);
    }
  }
  const lines = [`throughput-cpu: CPU per run in ms (median of ${rounds} batches of ${totalRuns} runs, each with what it left behind; 'machine' includes everything else running on it)`];
  for (const name of ['pycage', 'plain'] as const) {
    const parts = cpuParts.map((part) => `${part} ${median(samples[name].cpu.map((sample) => sample[part])).toFixed(1)}`).join(', ');
    const kinds = [...new Set(samples[name].calls.flatMap((calls) => [...calls.keys()]))].sort();
    const calls = kinds.map((kind) => `${kind} ${median(samples[name].calls.map((table) => table.get(kind) ?? 0)).toFixed(2)}`).join(', ');
    lines.push(`  ${name === 'pycage' ? 'pycage      ' : 'plain Docker'}: ${parts}`);
    lines.push(`                Docker API calls per run: ${calls}`);
  }
  return lines;
}
