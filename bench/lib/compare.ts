/**
 * The side-by-side measurement every P benchmark uses: A and B run alternately in one process (ABBA
 * order, so neither always goes first), after a warm-up, with an optional settle step before each
 * sample so both start from the same quiet state. The figure is the median of the per-round ratios
 * A/B, which cancels slow drifts of the machine that a ratio of two separate medians would not.
 */
import { performance } from 'node:perf_hooks';
import { formatMs, formatRatio, median, quantile } from './stats.js';

export interface Side {
  /** What this side is, as printed: `library runScript`, `docker exec (dockerode)`. */
  label: string;
  /** One sample; resolves when the measured work is done. Throws when the work went wrong. */
  run: () => Promise<void>;
}

export interface ComparisonSpec {
  id: string;
  title: string;
  a: Side;
  b: Side;
  /** Rounds measured (each round is one A and one B). */
  rounds: number;
  /** Rounds run first and thrown away (caches, JIT, pool, image probe). @default 3 */
  warmup?: number;
  /** A/B must be at most this. */
  target: number;
  /** How to reproduce this figure alone. */
  command: string;
  /** Runs before every sample, untimed. */
  settle?: () => Promise<void>;
  /** Printed under the figure: conditions worth knowing. */
  notes?: string[];
}

export interface Comparison {
  id: string;
  title: string;
  labelA: string;
  labelB: string;
  rounds: number;
  medianRatio: number;
  ratioLow: number;
  ratioHigh: number;
  medianA: number;
  medianB: number;
  target: number;
  met: boolean;
  command: string;
  notes: string[];
}

async function timed(side: Side): Promise<number> {
  const started = performance.now();
  await side.run();
  return performance.now() - started;
}

export async function compare(spec: ComparisonSpec, log: (line: string) => void = () => undefined): Promise<Comparison> {
  const warmup = spec.warmup ?? 3;
  const settle = spec.settle ?? (async () => undefined);
  for (let round = 0; round < warmup; round += 1) {
    await settle();
    await spec.a.run();
    await settle();
    await spec.b.run();
  }
  const aMs: number[] = [];
  const bMs: number[] = [];
  const ratios: number[] = [];
  for (let round = 0; round < spec.rounds; round += 1) {
    let a: number;
    let b: number;
    // ABBA: even rounds A first, odd rounds B first.
    if (round % 2 === 0) {
      await settle();
      a = await timed(spec.a);
      await settle();
      b = await timed(spec.b);
    } else {
      await settle();
      b = await timed(spec.b);
      await settle();
      a = await timed(spec.a);
    }
    aMs.push(a);
    bMs.push(b);
    ratios.push(a / b);
    log(`  ${spec.id} round ${round + 1}/${spec.rounds}: A ${formatMs(a)}  B ${formatMs(b)}  ratio ${formatRatio(a / b)}`);
  }
  const medianRatio = median(ratios);
  return {
    id: spec.id,
    title: spec.title,
    labelA: spec.a.label,
    labelB: spec.b.label,
    rounds: spec.rounds,
    medianRatio,
    ratioLow: quantile(ratios, 0.25),
    ratioHigh: quantile(ratios, 0.75),
    medianA: median(aMs),
    medianB: median(bMs),
    target: spec.target,
    met: medianRatio <= spec.target,
    command: spec.command,
    notes: spec.notes ?? [],
  };
}

/** What one benchmark hands back: its figures, and any breakdown worth printing under them. */
export interface BenchOutcome {
  comparisons: Comparison[];
  details: string[];
}

export function formatComparison(result: Comparison): string {
  const verdict = result.met
    ? 'met'
    : `MISSED by ${formatRatio(result.medianRatio - result.target)} (${Math.round((result.medianRatio / result.target - 1) * 100)}% over)`;
  const lines = [
    `${result.id}  ${result.title}`,
    `    n=${result.rounds}  median ratio A/B ${formatRatio(result.medianRatio)} (quartiles ${formatRatio(result.ratioLow)}-${formatRatio(result.ratioHigh)})  target <= ${formatRatio(result.target)}: ${verdict}`,
    `    A ${result.labelA}: median ${formatMs(result.medianA)}`,
    `    B ${result.labelB}: median ${formatMs(result.medianB)}`,
    ...result.notes.map((note) => `    note: ${note}`),
    `    reproduce: ${result.command}`,
  ];
  return lines.join('\n');
}
