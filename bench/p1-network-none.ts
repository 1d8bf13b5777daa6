/**
 * P1-none: the same warm run as P1, on a runtime whose network is `none`, against the same exec
 * baseline; and P1-public/none, a warm run under the default network `public` against one under
 * `none`, both on warm runtimes, to show what the egress tunnel costs a run that does not use it.
 * Target of P1-none: <= 0.5, as P1's (issue 14). P1 itself (p1-warm-run.ts) runs under the default `public`.
 */
import { compare, type BenchOutcome, type Comparison } from './lib/compare.js';
import { expectOutput, hello, helloOutput, roundsFor, type BenchContext } from './lib/context.js';
import { execIn, imagePath, scriptEnvironment, startBaselineContainer, waitForPool } from './lib/docker.js';

export async function benchP1None(context: BenchContext): Promise<BenchOutcome> {
  const poolSize = 2;
  const none = context.runtime({ poolSize, network: 'none' });
  const publicRuntime = context.runtime({ poolSize, network: 'public' });
  await Promise.all([none.start(), publicRuntime.start()]);
  const container = await startBaselineContainer(context.image);
  const env = scriptEnvironment(await imagePath(context.image));
  const rounds = roundsFor(context, 30);
  const runNone = {
    label: "library runScript(hello) on a warm runtime, network 'none' (pool of 2)",
    run: async () => expectOutput(await none.runScript(hello), helloOutput),
  };
  const runPublic = {
    label: "library runScript(hello) on a warm runtime, network 'public' (pool of 2)",
    run: async () => expectOutput(await publicRuntime.runScript(hello), helloOutput),
  };
  const dockerodeExec = {
    label: 'exec of python3 - < hello.py into a running container (dockerode)',
    run: async () => expectOutput(await execIn(container, { cmd: ['python3', '-'], env, stdin: hello }), helloOutput),
  };
  // Both runtimes at rest before every sample: neither one's refill or removal lands in the other's sample.
  const settle = async (): Promise<void> => {
    await waitForPool(none);
    await waitForPool(publicRuntime);
  };
  try {
    const comparisons: Comparison[] = [];
    comparisons.push(
      await compare(
        {
          id: 'P1-none',
          title: "warm library run of hello world under network 'none' vs docker exec into a running container",
          a: runNone,
          b: dockerodeExec,
          rounds,
          warmup: 3,
          target: 0.5,
          settle,
          command: 'npm run bench -- P1-none',
          notes: ['daemon settled before every sample (both pools refilled, used containers removed)'],
        },
        context.log,
      ),
    );
    comparisons.push(
      await compare(
        {
          id: 'P1-public/none',
          title: "warm run under the default network 'public' vs under 'none'",
          a: runPublic,
          b: runNone,
          rounds: Math.max(5, Math.round(rounds / 2)),
          warmup: 2,
          target: 1.0,
          settle,
          command: 'npm run bench -- P1-none',
          notes: ['diagnostic: what the egress tunnel costs a run that does not use the network'],
        },
        context.log,
      ),
    );
    return { comparisons, details: [] };
  } finally {
    await Promise.allSettled([none.close(), publicRuntime.close()]);
    await container.remove({ force: true }).catch(() => undefined);
  }
}
