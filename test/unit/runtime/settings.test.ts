import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { defaultCacheDirectory as defaultCacheDir } from '../../../src/cache-directory.js';
import { checkEnvironment, resolveRunLimits, resolveRuntimeOptions, runtimeDefaults } from '../../../src/runtime/settings.js';

describe('resolveRuntimeOptions', () => {
  it('fills the defaults', () => {
    const options = resolveRuntimeOptions({}, {});
    expect(options).toMatchObject({
      isolate: true,
      image: undefined,
      network: 'public',
      memoryBytes: 512 * 1024 * 1024,
      cpus: 1,
      pidsLimit: 256,
      timeoutMs: 60_000,
      outputLimitBytes: 4 * 1024 * 1024,
      gvisor: false,
      noIndex: false,
      poolSize: 2,
      poolMaxSize: 12,
      poolIdleMs: 300_000,
      environmentVolume: 'pycage-env',
      python: 'python3',
      cacheDir: path.join(os.homedir(), '.cache', 'pycage'),
    });
    expect(runtimeDefaults.outputLimitBytes).toBe(4 * 1024 * 1024);
  });

  it('takes the image from PYCAGE_IMAGE unless one is given, and the cache from XDG_CACHE_HOME', () => {
    expect(resolveRuntimeOptions({}, { PYCAGE_IMAGE: 'from-env:1' }).image).toBe('from-env:1');
    expect(resolveRuntimeOptions({ image: 'given:2' }, { PYCAGE_IMAGE: 'from-env:1' }).image).toBe('given:2');
    expect(resolveRuntimeOptions({}, { PYCAGE_IMAGE: '' }).image).toBeUndefined();
    expect(defaultCacheDir({ XDG_CACHE_HOME: '/xdg' })).toBe('/xdg/pycage');
  });

  it('lets the pool grow to 12 after bursts, or to poolSize when that is larger', () => {
    expect(resolveRuntimeOptions({ poolSize: 1 }, {}).poolMaxSize).toBe(12);
    expect(resolveRuntimeOptions({ poolSize: 16 }, {}).poolMaxSize).toBe(16);
    expect(resolveRuntimeOptions({ poolSize: 2, poolMaxSize: 2 }, {}).poolMaxSize).toBe(2);
  });

  it('resolves findLinks to an absolute path', () => {
    expect(resolveRuntimeOptions({ findLinks: 'wheels' }, {}).findLinks).toBe(path.resolve('wheels'));
  });

  it('refuses bad values as usage errors', () => {
    const bad = [
      { memoryBytes: -1 },
      { memoryBytes: 1024 },
      { cpus: 0 },
      { timeoutMs: Number.NaN },
      { pidsLimit: 1.5 },
      { poolSize: -1 },
      { poolSize: 4, poolMaxSize: 3 },
      { poolMaxSize: 2.5 },
      { network: 'host' as 'none' },
      { environmentVolume: '../x' },
    ];
    for (const options of bad) expect(() => resolveRuntimeOptions(options, {})).toThrow(UsageError);
  });
});

describe('resolveRunLimits', () => {
  it('lets a run override the runtime limits', () => {
    const runtime = resolveRuntimeOptions({ timeoutMs: 5000, network: 'none' }, {});
    expect(resolveRunLimits(runtime, {})).toEqual({ timeoutMs: 5000, memoryBytes: 512 * 1024 * 1024, cpus: 1, network: 'none', allowHosts: [], outputLimitBytes: 4 * 1024 * 1024 });
    expect(resolveRunLimits(runtime, { timeoutMs: 100, network: 'open', cpus: 0.5 })).toMatchObject({ timeoutMs: 100, network: 'open', cpus: 0.5 });
    expect(() => resolveRunLimits(runtime, { outputLimitBytes: 0 })).toThrow(UsageError);
    expect(resolveRunLimits(runtime, { network: 'public', allowHosts: ['api.github.com', '10.0.0.5:5432'] }).allowHosts).toEqual(['api.github.com', '10.0.0.5:5432']);
    // A host list means nothing without the egress proxy: refused rather than silently ignored.
    expect(() => resolveRunLimits(runtime, { allowHosts: ['api.github.com'] })).toThrow(/allowHosts works with network 'public'/);
    expect(() => resolveRunLimits(runtime, { network: 'public', allowHosts: ['http://x/'] })).toThrow(UsageError);
  });
});

describe('checkEnvironment', () => {
  it('accepts plain variables and refuses bad names and values', () => {
    expect(checkEnvironment({ API_KEY: 'x', _under: '' })).toEqual({ API_KEY: 'x', _under: '' });
    expect(checkEnvironment(undefined)).toEqual({});
    expect(() => checkEnvironment({ 'BAD=NAME': 'x' })).toThrow(UsageError);
    expect(() => checkEnvironment({ '1ABC': 'x' })).toThrow(UsageError);
    expect(() => checkEnvironment({ OK: 'nul\0byte' })).toThrow(UsageError);
  });
});
