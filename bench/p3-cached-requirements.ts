/**
 * P3: a run whose requirements are already installed (cached environment) vs a run with none.
 * Target: <= 1.2.
 *
 * The package is a real wheel built by the test helper into a find-links directory; the runtime
 * installs with `noIndex`, so nothing reaches the network. The warm-up builds the environment, so every
 * measured A run finds it cached (no install container) and runs in the venv's interpreter.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { buildWheel } from '../test/helpers/wheels.js';
import { compare, type BenchOutcome } from './lib/compare.js';
import { expectOutput, hello, helloOutput, roundsFor, type BenchContext } from './lib/context.js';
import { waitForPool } from './lib/docker.js';

export async function benchP3(context: BenchContext): Promise<BenchOutcome> {
  const wheelhouse = await mkdtemp(path.join(context.cacheDir, 'wheels-'));
  try {
    await buildWheel(wheelhouse, {
      name: 'pycage-bench-demo',
      version: '1.0.0',
      files: { 'pycage_bench_demo/__init__.py': 'GREETING = "hello world"\n' },
    });
    const poolSize = 2;
    const runtime = context.runtime({ poolSize, findLinks: wheelhouse, noIndex: true });
    await runtime.start();
    const withPackage = 'import pycage_bench_demo\nprint(pycage_bench_demo.GREETING)\n';
    const requirements = ['pycage-bench-demo==1.0.0'];
    const first = await runtime.runScript(withPackage, { requirements });
    expectOutput(first, helloOutput);
    const installMs = first.environment?.installDurationMs ?? Number.NaN;

    const comparison = await compare(
      {
        id: 'P3',
        title: 'run with cached requirements vs run with none',
        a: {
          label: 'runScript(import pycage_bench_demo; print) with requirements [pycage-bench-demo==1.0.0], cached',
          run: async () => {
            const result = await runtime.runScript(withPackage, { requirements });
            expectOutput(result, helloOutput);
            if (result.environment?.reused !== true) throw new Error('the environment was not reused');
          },
        },
        b: {
          label: 'runScript(hello) with requirements none',
          run: async () => expectOutput(await runtime.runScript(hello, { requirements: 'none' }), helloOutput),
        },
        rounds: roundsFor(context, 30),
        warmup: 3,
        target: 1.2,
        settle: () => waitForPool(runtime),
        command: 'npm run bench -- P3',
        notes: [`the first install of the environment (not measured) took ${Math.round(installMs)} ms`],
      },
      context.log,
    );
    await runtime.close();
    return { comparisons: [comparison], details: [] };
  } finally {
    await rm(wheelhouse, { recursive: true, force: true });
  }
}
