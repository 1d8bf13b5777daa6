/**
 * `npm run bench -- stamina` (run by bench/run.ts as `node --expose-gc --import tsx bench/stamina.ts`):
 * the long versions of the stamina checks, with figures.
 *
 * - 200 runs in a row in one runtime (the CI test does 60): every output checked, and at 0 (after a
 *   warm-up), 50, 100, 150 and 200 runs the Node process's heapUsed and rss after a full gc, its
 *   active handles, and the runtime's containers; at the end, after close(), no container of it left.
 * - 16 runs at once: all right, wall time, nothing left after close (isolation between them is
 *   checked by test/integration/stamina/concurrent.test.ts).
 */
import { performance } from 'node:perf_hooks';
import { indexedArgs, indexedOutput, indexedScript } from '../test/integration/stamina/indexed-script.js';
import { createContext, expectOutput } from './lib/context.js';
import { benchImage, missingImageMessage, sessionContainers } from './lib/docker.js';
import { describeMachine, formatMachine } from './lib/machine.js';
import { formatBytes, formatMs, median } from './lib/stats.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  process.stderr.write('run with node --expose-gc (npm run bench -- stamina does)\n');
  process.exit(2);
}

function settleMemory(): { heapUsed: number; rss: number } {
  // Two passes: the first frees, the second collects what finalizers of the first let go.
  gc!();
  gc!();
  const usage = process.memoryUsage();
  return { heapUsed: usage.heapUsed, rss: usage.rss };
}

async function main(): Promise<void> {
  const total = Number(process.env.PYCAGE_STAMINA_RUNS ?? 200);
  const checkpoint = 50;
  const missing = await missingImageMessage(benchImage);
  if (missing !== undefined) {
    console.error(`bench: ${missing}`);
    process.exitCode = 3;
    return;
  }
  console.log(formatMachine(describeMachine(benchImage)));
  console.log('');
  const context = await createContext({ rounds: undefined, verbose: false, trace: false });
  try {
    const runtime = context.runtime({ poolSize: 2 });
    await runtime.start();
    for (let index = 0; index < 5; index += 1) expectOutput(await runtime.runScript(indexedScript(index), { args: indexedArgs(index) }), indexedOutput(index));

    const rows: string[] = [];
    const snapshot = async (runs: number, durations: number[]): Promise<void> => {
      const memory = settleMemory();
      const containers = (await sessionContainers(runtime)).length;
      const handles = process.getActiveResourcesInfo().length;
      rows.push(
        `  ${String(runs).padStart(4)}  heapUsed ${formatBytes(memory.heapUsed).padStart(9)}  rss ${formatBytes(memory.rss).padStart(9)}  ` +
          `active handles ${String(handles).padStart(3)}  containers ${containers}` +
          (durations.length > 0 ? `  run median ${formatMs(median(durations))}` : ''),
      );
    };
    await snapshot(0, []);
    let durations: number[] = [];
    const wrong: string[] = [];
    const started = performance.now();
    for (let index = 0; index < total; index += 1) {
      const runStarted = performance.now();
      const result = await runtime.runScript(indexedScript(index), { args: indexedArgs(index) });
      durations.push(performance.now() - runStarted);
      if (result.exitCode !== 0 || result.stdout !== indexedOutput(index)) wrong.push(`run ${index}: exit ${result.exitCode} ${JSON.stringify(result.stdout)}`);
      if ((index + 1) % checkpoint === 0) {
        await snapshot(index + 1, durations);
        durations = [];
      }
    }
    const elapsed = performance.now() - started;
    const session = (await sessionContainers(runtime)).length;
    await runtime.close();
    const left = (await sessionContainers(runtime)).length;
    console.log(`${total} runs in a row, one runtime (pool of 2), back to back:`);
    console.log(`  runs    memory after gc (x2)                      (this runtime's containers at that moment)`);
    for (const row of rows) console.log(row);
    console.log(`  wrong outputs: ${wrong.length}${wrong.length > 0 ? ` (${wrong.slice(0, 3).join('; ')})` : ''}`);
    console.log(`  total ${formatMs(elapsed)} (${(total / (elapsed / 1000)).toFixed(1)} runs/s); containers before close ${session}, after close ${left}`);
    console.log('');

    const concurrent = context.runtime({ poolSize: 2 });
    await concurrent.start();
    const walls: number[] = [];
    let concurrentWrong = 0;
    for (let round = 0; round < 3; round += 1) {
      const burstStarted = performance.now();
      const results = await Promise.all(Array.from({ length: 16 }, (_, index) => concurrent.runScript(indexedScript(index), { args: indexedArgs(index) })));
      walls.push(performance.now() - burstStarted);
      concurrentWrong += results.filter((result, index) => result.exitCode !== 0 || result.stdout !== indexedOutput(index)).length;
    }
    await concurrent.close();
    const concurrentLeft = (await sessionContainers(concurrent)).length;
    console.log(`16 runs at once, 3 rounds (pool of 2): wall ${walls.map((wall) => formatMs(wall)).join(', ')}; wrong outputs ${concurrentWrong}; containers after close ${concurrentLeft}`);
    if (wrong.length > 0 || left > 0 || concurrentWrong > 0 || concurrentLeft > 0) process.exitCode = 1;
  } finally {
    await context.dispose();
  }
}

await main();
