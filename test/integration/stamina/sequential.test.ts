// Many runs in a row in one runtime: every result is the right one (no output from another run, no
// stale container), used containers do not pile up while it goes on, and close() leaves nothing.
// CI runs 60; `npm run bench -- stamina` runs 200 and reports the Node process's memory as well.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScratch, sessionContainers, waitForSessionContainers, type Scratch } from '../runtime/helpers.js';
import { indexedArgs, indexedOutput, indexedScript } from './indexed-script.js';

const runs = 60;
const poolSize = 2;
let scratch: Scratch;

beforeAll(async () => {
  scratch = await createScratch('stamina-sequential');
});

afterAll(async () => {
  await scratch?.dispose();
});

describe('stamina: runs in a row', () => {
  it(`runs ${runs} scripts one after another, each right, and leaves no container behind`, async () => {
    const runtime = scratch.runtime({ poolSize });
    await runtime.start();
    const wrong: string[] = [];
    for (let index = 0; index < runs; index += 1) {
      const result = await runtime.runScript(indexedScript(index), { args: indexedArgs(index) });
      if (result.exitCode !== 0 || result.stdout !== indexedOutput(index) || result.stderr !== '') {
        wrong.push(`run ${index}: exit ${result.exitCode}, stdout ${JSON.stringify(result.stdout)}, stderr ${JSON.stringify(result.stderr.slice(-300))}`);
      }
    }
    expect(wrong).toEqual([]);

    // Used containers are removed as the runs go: once the pool has refilled, only the pool is left.
    await waitForSessionContainers(runtime, poolSize);

    await runtime.close();
    expect(sessionContainers(runtime)).toEqual([]);
  });
});
