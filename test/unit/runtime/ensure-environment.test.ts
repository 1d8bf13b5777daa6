// The environment flow both runners share, with fake steps: which events, which result, when the
// runner's install runs and what the key covers.
import { mkdir, mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureEnvironment, type EnvironmentSteps, type InstallOutcome } from '../../../src/runtime/environments/ensure-environment.js';
import type { RuntimeEvent } from '../../../src/runtime/types.js';

let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'pycage-unit-ensure-'));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

const probe = { pythonVersion: '3.12.7', executable: '/usr/bin/python3', uv: null, uvVersion: null, venv: true, pip: true };

function steps(overrides: Partial<EnvironmentSteps> = {}, outcome: InstallOutcome = { exitCode: 0, output: '', reused: false }) {
  const events: RuntimeEvent[] = [];
  const calls: string[] = [];
  const fake: EnvironmentSteps = {
    base: 'sha256:image',
    probe,
    installer: 'pip',
    requirements: ['six==1.16.0'],
    source: {},
    venvDirectory: (key) => `/envs/${key}/venv`,
    install: async (key, venvDirectory) => {
      calls.push(`install ${key === '' ? 'no key' : 'key'} ${venvDirectory === `/envs/${key}/venv` ? 'at its venv' : venvDirectory}`);
      return outcome;
    },
    onComplete: (_key, done) => calls.push(`complete reused=${done.reused}`),
    onEvent: (event) => {
      events.push(event);
      calls.push(event.type);
    },
    ...overrides,
  };
  return { fake, events, calls };
}

describe('ensureEnvironment', () => {
  it('installs, then says so: install-start, the install, complete, install-done, the venv', async () => {
    const { fake, calls, events } = steps();
    const result = await ensureEnvironment(fake);
    expect(calls).toEqual(['install-start', 'install key at its venv', 'complete reused=false', 'install-done']);
    expect(events[0]).toEqual({ type: 'install-start', requirements: ['six==1.16.0'] });
    expect(events[1]).toMatchObject({ type: 'install-done', reused: false, installer: 'pip' });
    if (!result.ok) throw new Error('expected an environment');
    expect(result.venvDirectory).toBe(`/envs/${result.info.key}/venv`);
    expect(result.binDirectory).toBe(`/envs/${result.info.key}/venv/bin`);
    expect(result.python).toBe(`/envs/${result.info.key}/venv/bin/python`);
    expect(result.info).toMatchObject({ reused: false, installer: 'pip' });
    expect(result.info.key).toMatch(/^[0-9a-f]{64}$/);
  });

  it('installs nothing for an environment the runner knows complete', async () => {
    const { fake, calls } = steps({ isComplete: () => true });
    const result = await ensureEnvironment(fake);
    expect(calls).toEqual(['install-done']);
    expect(result).toMatchObject({ ok: true, info: { reused: true, installDurationMs: 0 } });
  });

  it('reports an environment someone else built as reused', async () => {
    const { fake } = steps({}, { exitCode: 0, output: '', reused: true });
    expect(await ensureEnvironment(fake)).toMatchObject({ ok: true, info: { reused: true } });
  });

  it('hands a failed install back with its output, and tells no install-done', async () => {
    const { fake, calls } = steps({}, { exitCode: 2, output: 'ERROR: no matching distribution\n', reused: false });
    const result = await ensureEnvironment(fake);
    expect(calls).toEqual(['install-start', 'install key at its venv']);
    expect(result).toMatchObject({ ok: false, exitCode: 2, output: 'ERROR: no matching distribution\n', info: { reused: false, installer: 'pip' } });
  });

  it('keys an environment by base, pins and package source, not by the order of the pins', async () => {
    const key = async (overrides: Partial<EnvironmentSteps>): Promise<string> => (await ensureEnvironment(steps(overrides).fake)).info.key;
    const plain = await key({});
    expect(await key({ requirements: ['six==1.16.0'] })).toBe(plain);
    expect(await key({ requirements: ['b==1', 'a==1'] })).toBe(await key({ requirements: ['a==1', 'b==1'] }));
    expect(await key({ base: '/usr/local/bin/python3' })).not.toBe(plain);
    expect(await key({ source: { indexUrl: 'http://127.0.0.1:9/simple' } })).not.toBe(plain);
    const wheelhouse = path.join(directory, 'wheels');
    await mkdir(wheelhouse);
    await writeFile(path.join(wheelhouse, 'six-1.16.0-py2.py3-none-any.whl'), 'one');
    const first = await key({ source: { findLinks: wheelhouse } });
    await writeFile(path.join(wheelhouse, 'six-1.16.0-py2.py3-none-any.whl'), 'other bytes');
    expect(await key({ source: { findLinks: wheelhouse } })).not.toBe(first);
  });
});
