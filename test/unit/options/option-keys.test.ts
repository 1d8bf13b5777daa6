// Item 8 of issue 9: a misspelled option must never silently weaken the sandbox. Every public function
// that takes an options object rejects an unknown key with a UsageError naming it and the nearest valid one.
import { afterAll, describe, expect, it } from 'vitest';
import {
  checkDocker,
  createProvider,
  createRuntime,
  createSession,
  generateCode,
  inferRequirements,
  pinRequirements,
  prune,
  resolveModelConfig,
  runAgent,
  UsageError,
  type RunOptions,
} from '../../../src/index.js';
import { checkImage } from '../../../src/runtime/index.js';
import { checkOptionKeys, editDistance, nearestKey, type OptionKeys } from '../../../src/options.js';

/** Where no call here may reach: if a check let a call through, it would fail here, not touch the daemon. */
const nowhere = { socketPath: '/nonexistent/pycage-test.sock' };

const runtime = createRuntime({ isolate: true, docker: nowhere });
const provider = createProvider(resolveModelConfig({ provider: 'openai', apiKey: 'test-key', baseUrl: 'http://127.0.0.1:9/v1', env: {} }));
const skip = async () => ({ action: 'skip' }) as const;
const session = createSession({ provider, runtime, review: skip });

afterAll(async () => {
  await runtime.close();
});

/**
 * Calls that each pass one misspelled key, with the key and the suggestion the error must carry. Each
 * call's other options point at nothing (no daemon, a closed loopback port), so a call the check let
 * through could do no harm.
 */
const misspelled: Array<{ call: string; run: () => unknown; key: string; nearest: string }> = [
  { call: 'createRuntime', run: () => createRuntime({ networkMode: 'none' } as never), key: 'networkMode', nearest: 'network' },
  { call: 'createRuntime', run: () => createRuntime({ memory: 1 } as never), key: 'memory', nearest: 'memoryBytes' },
  { call: 'runScript', run: () => runtime.runScript('print(1)', { findLinks: '/tmp/wheels' } as never), key: 'findLinks', nearest: 'files' },
  { call: 'runScript', run: () => runtime.runScript('print(1)', { timeout: 5 } as never), key: 'timeout', nearest: 'timeoutMs' },
  { call: 'runScript', run: () => runtime.runScript('print(1)', { requirments: ['requests'] } as never), key: 'requirments', nearest: 'requirements' },
  { call: 'runProject', run: () => runtime.runProject('demo', { outputdir: '/tmp/out' } as never), key: 'outputdir', nearest: 'outputDir' },
  { call: 'createProject', run: () => runtime.createProject({ code: 'print(1)', requirments: [] } as never), key: 'requirments', nearest: 'requirements' },
  { call: 'start', run: () => runtime.start({ abortsignal: undefined } as never), key: 'abortsignal', nearest: 'abortSignal' },
  { call: 'close', run: () => runtime.close({ wiat: true } as never), key: 'wiat', nearest: 'wait' },
  { call: 'runAgent', run: () => runAgent({ request: 'hi', provider, runtime, review: skip, maxAttempt: 1 } as never), key: 'maxAttempt', nearest: 'maxAttempts' },
  {
    call: 'runAgent (runOptions)',
    run: () => runAgent({ request: 'hi', provider, runtime, review: skip, runOptions: { timeout: 1 } } as never),
    key: 'timeout',
    nearest: 'timeoutMs',
  },
  {
    call: 'runAgent (packageSource)',
    run: () => runAgent({ request: 'hi', provider, runtime, review: skip, packageSource: { indexURL: 'http://127.0.0.1:9/simple' } } as never),
    key: 'indexURL',
    nearest: 'indexUrl',
  },
  { call: 'createSession', run: () => createSession({ provider, runtime, reveiw: async () => ({ action: 'skip' }) } as never), key: 'reveiw', nearest: 'review' },
  { call: 'session.ask', run: () => session.ask('hi', { maxAttemps: 1 } as never), key: 'maxAttemps', nearest: 'maxAttempts' },
  { call: 'createProvider', run: () => createProvider(resolveModelConfig({ apiKey: 'k', env: {} }), { loger: undefined } as never), key: 'loger', nearest: 'logger' },
  {
    call: 'createProvider (config)',
    run: () => createProvider({ ...resolveModelConfig({ apiKey: 'k', env: {} }), baseURL: 'http://127.0.0.1:9' } as never),
    key: 'baseURL',
    nearest: 'baseUrl',
  },
  { call: 'resolveModelConfig', run: () => resolveModelConfig({ apikey: 'k', env: {} } as never), key: 'apikey', nearest: 'apiKey' },
  { call: 'generateCode', run: () => generateCode({ request: 'hi', provider, histroy: [] } as never), key: 'histroy', nearest: 'history' },
  { call: 'openai provider generate', run: () => provider.generate({ mesages: [] } as never), key: 'mesages', nearest: 'messages' },
  { call: 'inferRequirements', run: () => inferRequirements('import yaml', { pin: false, overides: {} } as never), key: 'overides', nearest: 'overrides' },
  { call: 'pinRequirements', run: () => pinRequirements(['requests'], { pin: false, indexURL: 'http://127.0.0.1:9/simple' } as never), key: 'indexURL', nearest: 'indexUrl' },
  { call: 'prune', run: () => prune({ docker: nowhere, dockr: {} } as never), key: 'dockr', nearest: 'docker' },
  { call: 'checkDocker', run: () => checkDocker({ docker: nowhere, abortSingal: undefined } as never), key: 'abortSingal', nearest: 'abortSignal' },
  { call: 'checkImage', run: () => checkImage({ docker: nowhere, imag: 'x' } as never), key: 'imag', nearest: 'image' },
];

/** The error a call throws, or rejects with; calls that do neither fail the test. */
async function failureOf(run: () => unknown): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error('the call accepted the misspelled option');
}

describe('a misspelled option', () => {
  it.each(misspelled)('$call rejects "$key" and suggests "$nearest"', async ({ call, run, key, nearest }) => {
    const error = await failureOf(run);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toBe(`Unknown option "${key}" for ${call}${belongsElsewhere(call, key)}; did you mean "${nearest}"?`);
    expect((error as UsageError).exitCode).toBe(2);
  });

  it('reads as the issue asks', async () => {
    const error = await failureOf(() => createRuntime({ networkMode: 'none' } as never));
    expect((error as Error).message).toBe('Unknown option "networkMode" for createRuntime; did you mean "network"?');
    expect((error as UsageError).hint).toMatch(/^Options of createRuntime: isolate, image, network,/);
  });

  it('says where a runtime option belongs when it is given to a run', async () => {
    const error = await failureOf(() => runtime.runScript('print(1)', { findLinks: '/tmp/wheels' } as never));
    expect((error as Error).message).toContain('"findLinks" is an option of createRuntime');
  });
});

/** runScript and runProject also say which function a runtime-wide key belongs to. */
function belongsElsewhere(call: string, key: string): string {
  if ((call === 'runScript' || call === 'runProject') && key === 'findLinks') return ` ("${key}" is an option of createRuntime)`;
  return '';
}

describe('options that are not an object', () => {
  it.each([
    { call: 'createRuntime', run: () => createRuntime(null as never), shown: 'null' },
    { call: 'runScript', run: () => runtime.runScript('print(1)', 'fast' as never), shown: 'a string' },
    { call: 'runAgent', run: () => runAgent(undefined as never), shown: 'undefined' },
    { call: 'pinRequirements', run: () => pinRequirements([], [] as never), shown: 'an array' },
  ])('$call($shown) is a UsageError', async ({ call, run, shown }) => {
    const error = await failureOf(run);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toBe(`The options of ${call} must be an object, not ${shown}.`);
  });

  it('valid options pass, and undefined where options may be left out', () => {
    expect(() => checkOptionKeys('demo', { network: 'none' }, { network: true })).not.toThrow();
    expect(() => checkOptionKeys('demo', undefined, { network: true })).not.toThrow();
  });
});

describe('nearest key', () => {
  it('counts edits, swaps as one', () => {
    expect(editDistance('requirments', 'requirements')).toBe(1);
    expect(editDistance('wiat', 'wait')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(nearestKey('timeout', ['timeoutMs', 'env', 'time'])).toBe('timeoutMs');
    expect(nearestKey('NETWORK', ['network', 'noIndex'])).toBe('network');
  });

  it('key lists are kept in step with the interfaces by the compiler', () => {
    // A list missing a field of the interface does not type-check: the compiler holds the lists whole.
    // @ts-expect-error requirements alone is not every key of RunOptions
    const partial = { requirements: true } as const satisfies OptionKeys<RunOptions>;
    expect(Object.keys(partial)).toEqual(['requirements']);
  });
});
