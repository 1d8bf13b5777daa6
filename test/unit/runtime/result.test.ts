import { describe, expect, it } from 'vitest';
import { chooseInstaller, installFailureSummary } from '../../../src/runtime/environments/ensure-environment.js';
import { buildRunResult, installFailureResult, type RunFacts } from '../../../src/runtime/result.js';

const facts: RunFacts = {
  exitCode: 0,
  stdout: 'out\n',
  stderr: '',
  stopReason: undefined,
  oomKilled: false,
  outputTruncated: false,
  outputLimitBytes: 100,
  network: { mode: 'public', blocked: [] },
  refusedArtifacts: [],
  artifactsError: undefined,
  durationMs: 12,
  requirements: [],
  artifacts: [],
  environment: undefined,
};

describe('buildRunResult', () => {
  it('has the same keys, in the same order, for every plain run', () => {
    expect(Object.keys(buildRunResult(facts))).toEqual([
      'exitCode',
      'stdout',
      'stderr',
      'timedOut',
      'oomKilled',
      'outputTruncated',
      'durationMs',
      'requirements',
      'artifacts',
      'refusedArtifacts',
      'network',
    ]);
  });

  it('uses 124 for a timeout and 137 for the memory limit, whatever the process said', () => {
    expect(buildRunResult({ ...facts, exitCode: 137, stopReason: 'timeout' })).toMatchObject({ exitCode: 124, timedOut: true, oomKilled: false });
    expect(buildRunResult({ ...facts, exitCode: null, oomKilled: true })).toMatchObject({ exitCode: 137, oomKilled: true, timedOut: false });
  });

  it('parses the traceback of a failed run, and only of a failed run', () => {
    const stderr = 'Traceback (most recent call last):\n  File "/work/script.py", line 1, in <module>\nValueError: nope\n';
    expect(buildRunResult({ ...facts, exitCode: 1, stderr }).error).toMatchObject({ name: 'ValueError', message: 'nope' });
    expect(buildRunResult({ ...facts, exitCode: 0, stderr }).error).toBeUndefined();
  });

  it('says why a script was stopped at the output cap', () => {
    const result = buildRunResult({ ...facts, exitCode: 137, stopReason: 'output-limit', outputTruncated: true });
    expect(result.exitCode).toBe(1);
    expect(result.error).toEqual({ name: 'OutputLimitError', message: expect.stringContaining('100 bytes'), traceback: '' });
  });
});

describe('install failures', () => {
  it('becomes a result with the installer\'s own message', () => {
    const output = 'pycage-install: /venv/bin/python -m pip install x\nLooking in links: /tmp/w\nERROR: Could not find a version that satisfies the requirement x (from versions: none)\nERROR: No matching distribution found for x\n';
    const result = installFailureResult({
      requirements: ['x'],
      environment: { key: 'k', reused: false, installer: 'pip', installDurationMs: 5 },
      exitCode: 1,
      output,
      network: { mode: 'public', blocked: [] },
    });
    expect(result).toMatchObject({ exitCode: 1, stdout: '', stderr: output, timedOut: false, requirements: ['x'] });
    expect(result.error).toEqual({ name: 'InstallError', message: 'No matching distribution found for x', traceback: output.trimEnd() });
    expect(installFailureSummary('  × No solution found\nerror: Because x was not found...\n')).toBe('Because x was not found...');
    expect(installFailureSummary('')).toBe('the installer failed');
  });

  it('prefers uv, then pip in a venv', () => {
    expect(chooseInstaller({ uv: '/usr/bin/uv', venv: true })).toBe('uv');
    expect(chooseInstaller({ uv: null, venv: true })).toBe('pip');
    expect(chooseInstaller({ uv: null, venv: false })).toBeUndefined();
  });
});
