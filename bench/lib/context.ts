/**
 * What every benchmark shares: the image, options from the command line, a scratch area (an
 * environment volume and a cache directory of the benchmark's own, so nobody else's cache makes a
 * figure look better or worse) and cleanup that always runs.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRuntime, type Runtime, type RuntimeOptions } from '../../src/index.js';
import { benchImage, poolWatching, removeBenchContainers } from './docker.js';
import { removeVolumesWithPrefix } from '../../test/helpers/docker.js';

export const hello = 'print("hello world")\n';
export const helloOutput = 'hello world\n';

export interface BenchContext {
  image: string;
  /** Rounds asked for on the command line (`--rounds N`), overriding each benchmark's default. */
  rounds: number | undefined;
  /** Print each round as it is measured. */
  verbose: boolean;
  /** Also show where the Docker API time goes (`--trace`). */
  trace: boolean;
  volume: string;
  cacheDir: string;
  log: (line: string) => void;
  /** A runtime on the benchmark image and scratch volume; closed by `dispose`. */
  runtime(options?: RuntimeOptions): Runtime;
  dispose(): Promise<void>;
}

export async function createContext(options: { rounds: number | undefined; verbose: boolean; trace: boolean }): Promise<BenchContext> {
  const cacheDir = await mkdtemp(path.join(tmpdir(), 'pycage-bench-'));
  const runtimes: Runtime[] = [];
  const context: BenchContext = {
    image: benchImage,
    ...options,
    volume: `pycage-bench-${process.pid}`,
    cacheDir,
    log: (line) => {
      if (options.verbose) process.stderr.write(`${line}\n`);
    },
    runtime(runtimeOptions = {}) {
      const watching = poolWatching({ image: benchImage, environmentVolume: context.volume, cacheDir, ...runtimeOptions });
      const runtime = createRuntime(watching.options);
      watching.watchPool(runtime);
      runtimes.push(runtime);
      return runtime;
    },
    async dispose() {
      await Promise.allSettled(runtimes.map((runtime) => runtime.close()));
      await removeBenchContainers().catch(() => undefined);
      removeVolumesWithPrefix(context.volume);
      await rm(cacheDir, { recursive: true, force: true });
    },
  };
  return context;
}

/** Rounds for a benchmark: `--rounds` when given, else its own default. */
export function roundsFor(context: BenchContext, fallback: number): number {
  return context.rounds ?? fallback;
}

export function expectOutput(result: { exitCode: number | null; stdout: string; stderr: string }, expected: string): void {
  if (result.exitCode !== 0 || result.stdout !== expected) {
    throw new Error(`run went wrong: exit ${result.exitCode}, stdout ${JSON.stringify(result.stdout.slice(0, 200))}, stderr ${JSON.stringify(result.stderr.slice(-500))}`);
  }
}
