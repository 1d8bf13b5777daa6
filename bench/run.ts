/**
 * `npm run bench [-- NAME...] [--rounds N] [--verbose] [--trace]`: pycage's speed and stamina, as
 * ratios measured side by side against plain Docker (or plain Node) on this machine.
 *
 *   P1..P6          the performance targets (all of these when no name is given)
 *   P1-none         P1 under network 'none', and 'public' against 'none'
 *   P4-mixed        a burst of eight right after single runs, vs one run
 *   throughput      60 runs at concurrency 4, vs plain Docker doing the same work
 *   stamina         200 runs in a row (memory after gc every 50) and 16 concurrent runs
 *   daemon-restart  restarts dockerd under an open runtime (root; only with no other containers running)
 *
 * Benchmarks measure and print; they assert nothing and are never part of `npm test`.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { formatComparison, type BenchOutcome, type Comparison } from './lib/compare.js';
import { createContext, type BenchContext } from './lib/context.js';
import { describeMachine, formatMachine, loadAverage } from './lib/machine.js';
import { formatMs, formatRatio } from './lib/stats.js';
import { benchImage, missingImageMessage } from './lib/docker.js';

type Benchmark = (context: BenchContext) => Promise<BenchOutcome>;

const benchmarks: Record<string, () => Promise<Benchmark>> = {
  P1: async () => (await import('./p1-warm-run.js')).benchP1,
  P2: async () => (await import('./p2-cli-run.js')).benchP2,
  P3: async () => (await import('./p3-cached-requirements.js')).benchP3,
  P4: async () => (await import('./p4-concurrent.js')).benchP4,
  P5: async () => (await import('./p5-help.js')).benchP5,
  P6: async () => (await import('./p6-agent.js')).benchP6,
  'P1-none': async () => (await import('./p1-network-none.js')).benchP1None,
  'P4-mixed': async () => (await import('./p4-mixed.js')).benchP4Mixed,
  throughput: async () => (await import('./throughput.js')).benchThroughput,
};
/** Separate scripts, run in their own Node process (stamina needs --expose-gc). */
const scripts: Record<string, { file: string; nodeFlags: string[] }> = {
  stamina: { file: 'stamina.ts', nodeFlags: ['--expose-gc'] },
  'daemon-restart': { file: 'daemon-restart.ts', nodeFlags: [] },
};

function parseArguments(argv: readonly string[]): { names: string[]; rounds: number | undefined; verbose: boolean; trace: boolean; rest: string[] } {
  const names: string[] = [];
  const rest: string[] = [];
  let rounds: number | undefined;
  let verbose = false;
  let trace = false;
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index]!;
    if (argument === '--rounds') {
      rounds = Number(argv[++index]);
      if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds needs a positive whole number');
    } else if (argument === '--verbose') verbose = true;
    else if (argument === '--trace') trace = true;
    else if (argument.startsWith('--')) rest.push(argument);
    else names.push(/^p\d(-|$)/i.test(argument) ? argument.replace(/^p/, 'P') : argument);
  }
  return { names, rounds, verbose, trace, rest };
}

async function runScript(name: string, argv: readonly string[]): Promise<number> {
  const { file, nodeFlags } = scripts[name]!;
  const path = fileURLToPath(new URL(`./${file}`, import.meta.url));
  const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', path, ...argv], { stdio: 'inherit' });
  return new Promise((resolve) => child.on('close', (code, signal) => resolve(code ?? (signal === null ? 1 : 128))));
}

async function main(): Promise<number> {
  const options = parseArguments(process.argv.slice(2));
  const names = options.names.length === 0 ? Object.keys(benchmarks) : options.names;
  const unknown = names.filter((name) => benchmarks[name] === undefined && scripts[name] === undefined);
  if (unknown.length > 0) {
    process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')}; known: ${[...Object.keys(benchmarks), ...Object.keys(scripts)].join(', ')}\n`);
    return 2;
  }

  let status = 0;
  for (const name of names.filter((name) => scripts[name] !== undefined)) {
    status = Math.max(status, await runScript(name, process.argv.slice(2).filter((argument) => argument !== name)));
  }
  const selected = names.filter((name) => benchmarks[name] !== undefined);
  if (selected.length === 0) return status;

  const missing = await missingImageMessage(benchImage);
  if (missing !== undefined) {
    process.stderr.write(`bench: ${missing}\n`);
    return 3;
  }
  console.log(formatMachine(describeMachine(benchImage)));
  console.log('');
  const context = await createContext(options);
  const all: Comparison[] = [];
  try {
    for (const name of selected) {
      const started = Date.now();
      const benchmark = await benchmarks[name]!();
      const outcome = await benchmark(context);
      for (const comparison of outcome.comparisons) console.log(`${formatComparison(comparison)}\n`);
      for (const detail of outcome.details) console.log(`${detail}\n`);
      console.log(`(${name} took ${Math.round((Date.now() - started) / 1000)} s)\n`);
      all.push(...outcome.comparisons);
    }
  } finally {
    await context.dispose();
  }

  console.log('summary (median of per-round ratios A/B; diagnostics have no target of their own):');
  for (const comparison of all) {
    const verdict = comparison.met ? 'met' : 'MISSED';
    console.log(
      `  ${comparison.id.padEnd(15)} ${formatRatio(comparison.medianRatio).padStart(6)}  target <= ${formatRatio(comparison.target)}  ${verdict.padEnd(6)}  n=${String(comparison.rounds).padEnd(3)} A ${formatMs(comparison.medianA).padStart(8)}  B ${formatMs(comparison.medianB).padStart(8)}`,
    );
  }
  console.log(`\nmachine at the end: load average ${loadAverage().join(' ')}`);
  return status;
}

process.exitCode = await main();
