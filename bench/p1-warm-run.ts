/**
 * P1: a warm run of hello world through the library vs `docker exec` of the same script into an
 * already running container of the same image. Target: <= 0.5 (issue 14).
 *
 * Both sides start one `python3` with the script sent on stdin, as uid 10001 in /work with pycage's
 * script environment, in a container with the sandbox's limits. The baseline goes through dockerode
 * (create exec, start attached, stream, inspect: what `docker exec -i` does over the API, without the
 * docker CLI's own ~100 ms process start-up); the same comparison against the docker CLI is printed
 * too. Before every sample the daemon is let settle: the runtime's pool is back to full and the used
 * container removed, so A and B both start from a quiet daemon. A back-to-back variant (no settling)
 * shows what a caller issuing runs in a tight loop sees.
 *
 * P1 runs under the default network, `public` (the keeper listens for the egress tunnel, the script gets
 * the proxy variables); `P1-none` is the same measure under `network: 'none'`, against the same baseline,
 * and `P1-public` puts the two head to head, so the cost of the egress plumbing on a run that does not
 * use the network shows beside it.
 */
import { performance } from 'node:perf_hooks';
import { compare, type BenchOutcome, type Comparison, type Side } from './lib/compare.js';
import { expectOutput, hello, helloOutput, roundsFor, type BenchContext } from './lib/context.js';
import { execIn, imagePath, scriptEnvironment, startBaselineContainer, waitForPool } from './lib/docker.js';
import { runChecked } from './lib/processes.js';
import { sandboxUser, workDirectory } from '../src/runtime/docker/container-options.js';
import { summarizeCalls, takeCalls, traceDockerCalls } from './lib/trace.js';
import type { Runtime } from '../src/index.js';

export async function benchP1(context: BenchContext): Promise<BenchOutcome> {
  const poolSize = 2;
  const runtime = context.runtime({ poolSize });
  await runtime.start();
  const container = await startBaselineContainer(context.image);
  const env = scriptEnvironment(await imagePath(context.image));
  const rounds = roundsFor(context, 30);
  try {
    return await measure(context, runtime, container, env, rounds);
  } finally {
    await runtime.close();
    await container.remove({ force: true }).catch(() => undefined);
  }
}

async function measure(
  context: BenchContext,
  runtime: Runtime,
  container: Awaited<ReturnType<typeof startBaselineContainer>>,
  env: string[],
  rounds: number,
): Promise<BenchOutcome> {

  const library = {
    label: 'library runScript(hello) on a warm runtime (pool of 2, network public: the default)',
    run: async () => expectOutput(await runtime.runScript(hello), helloOutput),
  };
  const dockerodeExec = {
    label: 'exec of python3 - < hello.py into a running container (dockerode)',
    run: async () => expectOutput(await execIn(container, { cmd: ['python3', '-'], env, stdin: hello }), helloOutput),
  };
  const cliArgs = ['exec', '-i', '-u', sandboxUser, '-w', workDirectory, ...env.flatMap((variable) => ['-e', variable]), container.id, 'python3', '-'];
  const cliExec = {
    label: '`docker exec -i CONTAINER python3 -` < hello.py (docker CLI)',
    run: () => runChecked('docker', cliArgs, { input: hello, expected: helloOutput }),
  };
  const settle = () => waitForPool(runtime);

  const results: Comparison[] = [];
  const details: string[] = [];
  results.push(
    await compare(
      {
        id: 'P1',
        title: 'warm library run of hello world vs docker exec into a running container',
        a: library,
        b: dockerodeExec,
        rounds,
        warmup: 3,
        target: 0.5,
        settle,
        command: 'npm run bench -- P1',
        notes: ['daemon settled before every sample (pool refilled, used container removed)'],
      },
      context.log,
    ),
  );
  results.push(
    await compare(
      {
        id: 'P1-cli',
        title: 'the same, against the docker CLI (process start included)',
        a: library,
        b: cliExec,
        rounds: Math.max(5, Math.round(rounds / 2)),
        warmup: 2,
        target: 1.0,
        settle,
        command: 'npm run bench -- P1',
        notes: ['diagnostic: the baseline also pays for starting the docker CLI'],
      },
      context.log,
    ),
  );
  results.push(
    await compare(
      {
        id: 'P1-loop',
        title: 'back to back: runs in a tight loop, no settling (refills compete with runs)',
        a: library,
        b: dockerodeExec,
        rounds,
        warmup: 2,
        target: 1.0,
        command: 'npm run bench -- P1',
        notes: ['diagnostic: what a caller running scripts one after another sees'],
      },
      context.log,
    ),
  );

  results.push(...(await measureWithoutNetwork(context, runtime, library, dockerodeExec, rounds)));
  results.push(
    await compare(
      {
        id: 'P1-fork/exec',
        title: 'a warm run started in a fork of the keeper vs the same run exec\'d as a new interpreter',
        a: library,
        b: {
          // A PYTHON* variable the keeper cannot honour in a fork (and that changes nothing here: random
          // is the default) sends the run down the exec path, as a caller's own such variable would.
          label: 'the same with env PYTHONHASHSEED=random: exec of a new interpreter by the keeper',
          run: async () => expectOutput(await runtime.runScript(hello, { env: { PYTHONHASHSEED: 'random' } }), helloOutput),
        },
        rounds,
        warmup: 3,
        target: 1.0,
        settle,
        command: 'npm run bench -- P1',
        notes: ['diagnostic: what starting the script without an execve saves (keeper.py, 4.)'],
      },
      context.log,
    ),
  );

  if (context.trace) {
    traceDockerCalls();
    // Settled: each run on a quiet daemon; loop: runs back to back, as P1-loop measures them.
    for (const mode of ['settled', 'loop'] as const) {
      const samples: Array<{ from: number; to: number; next: number }> = [];
      await settle();
      takeCalls();
      for (let index = 0; index < 12; index += 1) {
        const from = performance.now();
        await library.run();
        const to = performance.now();
        if (mode === 'settled') await settle();
        samples.push({ from, to, next: performance.now() });
      }
      // The next run starts right after the last one in a loop: its window ends where the next begins.
      for (let index = 0; index + 1 < samples.length; index += 1) samples[index]!.next = samples[index + 1]!.from;
      const calls = takeCalls().filter((call) => call.kind !== 'container list');
      details.push(`P1 trace, ${mode} (n=${samples.length} library runs${mode === 'settled' ? ', each followed by settling' : ', back to back'}):\n${summarizeCalls(samples, calls)}`);
    }
  }
  return { comparisons: results, details };
}

/**
 * P1 again on a runtime of its own whose runs have `network: 'none'`, against the same baseline
 * (`P1-none`), and head to head with P1's library side (`P1-public`: public over none, each on its own
 * settled pool), which isolates what the egress plumbing costs a run that does not use the network.
 */
async function measureWithoutNetwork(context: BenchContext, publicRuntime: Runtime, publicSide: Side, baseline: Side, rounds: number): Promise<Comparison[]> {
  const runtime = context.runtime({ poolSize: 2, network: 'none' });
  await runtime.start();
  const withoutNetwork: Side = {
    label: 'library runScript(hello) on a warm runtime (pool of 2, network none)',
    run: async () => expectOutput(await runtime.runScript(hello), helloOutput),
  };
  const settle = async (): Promise<void> => {
    await waitForPool(runtime);
    await waitForPool(publicRuntime);
  };
  try {
    const none = await compare(
      {
        id: 'P1-none',
        title: "the same as P1 with network: 'none' (P1 itself runs under the default, public)",
        a: withoutNetwork,
        b: baseline,
        rounds,
        warmup: 3,
        target: 0.5,
        settle,
        command: 'npm run bench -- P1',
        notes: ['diagnostic: P1 with no egress tunnel, to compare with P1 under public'],
      },
      context.log,
    );
    const publicOverNone = await compare(
      {
        id: 'P1-public',
        title: 'a warm run under public (the default) vs the same under none',
        a: publicSide,
        b: withoutNetwork,
        rounds,
        warmup: 3,
        target: 1.0,
        settle,
        command: 'npm run bench -- P1',
        notes: ['diagnostic: what the egress tunnel (keeper listening, proxy variables) costs a run that does not use the network'],
      },
      context.log,
    );
    return [none, publicOverNone];
  } finally {
    await runtime.close();
  }
}
