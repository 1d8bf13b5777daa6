import { describe, expect, it } from 'vitest';
import { scriptEnvironment } from '../../../src/runtime/script-environment.js';

describe('scriptEnvironment', () => {
  it('is the same few variables for every script, with its own folders', () => {
    expect(scriptEnvironment({ path: '/usr/bin:/bin', home: '/work', outputDirectory: '/work/output' })).toEqual({
      PATH: '/usr/bin:/bin',
      HOME: '/work',
      LANG: 'C.UTF-8',
      PYTHONUNBUFFERED: '1',
      PYTHONDONTWRITEBYTECODE: '1',
      MPLBACKEND: 'Agg',
      PYCAGE_OUTPUT_DIR: '/work/output',
    });
  });

  it('puts the venv first on PATH and names it in VIRTUAL_ENV', () => {
    const variables = scriptEnvironment({
      path: '/usr/bin',
      home: '/tmp/run',
      outputDirectory: '/tmp/run/output',
      environment: { binDirectory: '/envs/k/venv/bin', venvDirectory: '/envs/k/venv' },
    });
    expect(variables.PATH).toBe('/envs/k/venv/bin:/usr/bin');
    expect(variables.VIRTUAL_ENV).toBe('/envs/k/venv');
  });

  it('carries nothing of the host environment', () => {
    process.env.PYCAGE_TEST_HOST_SECRET = 'sk-host';
    try {
      const variables = scriptEnvironment({ path: '/usr/bin', home: '/w', outputDirectory: '/w/output' });
      expect(Object.values(variables)).not.toContain('sk-host');
      expect(variables.HOME).toBe('/w');
    } finally {
      delete process.env.PYCAGE_TEST_HOST_SECRET;
    }
  });
});
