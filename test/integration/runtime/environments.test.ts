// Environments against the real daemon: a wheel the test builds is installed once with pip (the test
// image has no uv), reused afterwards, importable with no network, safe to build from two runtimes at
// once; failures of the installer come back as results with its own message.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InstallError, type RunResult, type RuntimeEvent } from '../../../src/runtime/index.js';
import { environmentVolumeName } from '../../../src/runtime/environments/environment.js';
import { dockerBridgeGateway, volumesWithPrefix } from '../../helpers/docker.js';
import { withinHangBound } from '../../helpers/wait.js';
import { buildWheel } from '../../helpers/wheels.js';
import { createScratch, docker, sessionContainers, type Scratch } from './helpers.js';

let scratch: Scratch;
let wheelhouse: string;

beforeAll(async () => {
  scratch = await createScratch('envs');
  wheelhouse = await mkdtemp(path.join(tmpdir(), 'pycage-runtime-wheels-'));
  await buildWheel(wheelhouse, { name: 'pycage-demo', version: '1.2.0', files: { 'pycage_demo/__init__.py': 'GREETING = "hello from a wheel"\n' } });
  await buildWheel(wheelhouse, { name: 'pycage-race', version: '0.1.0', files: { 'pycage_race/__init__.py': 'VALUE = 7\n' } });
});

afterAll(async () => {
  await scratch?.dispose();
  await rm(wheelhouse, { recursive: true, force: true });
});

describe('environments', () => {
  it('installs a wheel once, then reuses it, also from a runtime with no network', async () => {
    const runtime = scratch.runtime({ findLinks: wheelhouse, noIndex: true });
    const events: RuntimeEvent[] = [];
    const script = 'import pycage_demo\nprint(pycage_demo.GREETING)\n';

    const first = await runtime.runScript(script, { requirements: ['pycage-demo==1.2.0'], onEvent: (event) => events.push(event) });
    expect(first.stderr).toBe('');
    expect(first.exitCode).toBe(0);
    expect(first.stdout).toBe('hello from a wheel\n');
    expect(first.requirements).toEqual(['pycage-demo==1.2.0']);
    expect(first.environment).toMatchObject({ reused: false, installer: 'pip' });
    expect(first.environment!.key).toMatch(/^[0-9a-f]{64}$/);
    expect(events.map((event) => event.type)).toEqual(['install-start', 'install-done', 'run-start', 'run-end']);

    // The environment is really in a volume of its own, with its completion marker and lock, all root's.
    const volume = environmentVolumeName(scratch.volume, first.environment!.key);
    expect(volumesWithPrefix(scratch.volume)).toEqual([volume]);
    const listing = docker('run', '--rm', '-v', `${volume}:/env:ro`, '--entrypoint', 'python3', process.env.PYCAGE_TEST_IMAGE!, '-c', `import os; print(sorted((name, os.stat('/env/' + name).st_uid) for name in os.listdir('/env')))`);
    expect(listing).toBe("[('.complete', 0), ('.lock', 0), ('venv', 0)]");

    const second = await runtime.runScript(script, { requirements: ['pycage-demo==1.2.0'] });
    expect(second.exitCode).toBe(0);
    expect(second.environment).toEqual({ key: first.environment!.key, reused: true, installer: 'pip', installDurationMs: 0 });

    const offline = scratch.runtime({ findLinks: wheelhouse, noIndex: true, network: 'none' });
    // The address tried is a listener of this test on Docker's bridge: a container with any network
    // reaches it ("online"), and the test never sends a packet off this machine.
    const listener = createTcpServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => listener.listen(0, dockerBridgeGateway(), () => resolve()));
    const { address, port } = listener.address() as AddressInfo;
    let third: RunResult;
    try {
      third = await offline.runScript(`${script}import socket\ntry:\n    socket.create_connection(("${address}", ${port}), timeout=2)\n    print("online")\nexcept OSError:\n    print("offline")\n`, {
        requirements: ['pycage-demo==1.2.0'],
      });
    } finally {
      listener.close();
    }
    expect(third.stdout).toBe('hello from a wheel\noffline\n');
    // A new runtime does not know the key yet: it asks the install script, which finds it complete.
    expect(third.environment).toMatchObject({ key: first.environment!.key, reused: true });
  });

  it('builds a new environment when the wheelhouse holds another wheel of the same name and version', async () => {
    const changing = await mkdtemp(path.join(tmpdir(), 'pycage-runtime-wheels-changing-'));
    try {
      const spec = (text: string) => ({ name: 'pycage-rebuilt', version: '1.0.0', files: { 'pycage_rebuilt/__init__.py': `TEXT = ${JSON.stringify(text)}\n` } });
      const script = 'import pycage_rebuilt\nprint(pycage_rebuilt.TEXT)\n';
      await buildWheel(changing, spec('first build'));
      const first = await scratch.runtime({ findLinks: changing, noIndex: true }).runScript(script, { requirements: ['pycage-rebuilt==1.0.0'] });
      expect(first.stdout).toBe('first build\n');
      await buildWheel(changing, spec('second build'));
      const second = await scratch.runtime({ findLinks: changing, noIndex: true }).runScript(script, { requirements: ['pycage-rebuilt==1.0.0'] });
      expect(second.stdout).toBe('second build\n');
      expect(second.environment?.key).not.toBe(first.environment?.key);
    } finally {
      await rm(changing, { recursive: true, force: true });
    }
  });

  it('builds an environment again after it was removed from the volume under a running process', async () => {
    const runtime = scratch.runtime({ findLinks: wheelhouse, noIndex: true });
    const script = 'import pycage_demo\nprint(pycage_demo.GREETING)\n';
    const requirements = ['pycage-demo==1.2.0'];
    const first = await runtime.runScript(script, { requirements });
    expect(first.exitCode).toBe(0);
    const key = first.environment!.key;

    // What `pycage prune` from another shell does to it (the volume itself is in use by a warm container).
    docker('run', '--rm', '-v', `${environmentVolumeName(scratch.volume, key)}:/env`, '--entrypoint', 'rm', process.env.PYCAGE_TEST_IMAGE!, '-rf', '/env/venv', '/env/.complete');

    // This process still takes the key for complete, so this run fails to start its interpreter...
    const broken = await runtime.runScript(script, { requirements });
    expect([126, 127]).toContain(broken.exitCode);
    expect(`${broken.stdout}${broken.stderr}`).toContain(`/${key}/venv/bin/python`);
    // ...and the next one builds the environment again and runs.
    const rebuilt = await runtime.runScript(script, { requirements });
    expect(rebuilt.stdout).toBe('hello from a wheel\n');
    expect(rebuilt.exitCode).toBe(0);
    expect(rebuilt.environment).toMatchObject({ key, reused: false });
  });

  it('reports a requirement that no index has as an InstallError result, with pip\'s own message', async () => {
    const runtime = scratch.runtime({ findLinks: wheelhouse, noIndex: true });
    const result = await runtime.runScript('print("never runs")\n', { requirements: ['pycage-does-not-exist==9.9'] });
    expect(result.exitCode).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('No matching distribution found for pycage-does-not-exist==9.9');
    expect(result.error?.name).toBe('InstallError');
    expect(result.error?.message).toContain('No matching distribution found for pycage-does-not-exist==9.9');
    expect(result.environment?.reused).toBe(false);
    // The failed build left nothing behind: its volume is gone.
    expect(result.environment!.key).toMatch(/^[0-9a-f]{64}$/);
    expect(volumesWithPrefix(scratch.volume)).not.toContain(environmentVolumeName(scratch.volume, result.environment!.key));
  });

  it('reports an unreachable index as a result, with pip\'s message, instead of waiting on it', async () => {
    const runtime = scratch.runtime({ indexUrl: 'http://127.0.0.1:9/simple' });
    // That it ends at all is the point (an install stuck on a dead index would hang the run); how fast is bench/'s.
    const result = await withinHangBound(runtime.runScript('print(1)\n', { requirements: ['pycage-demo'] }), 'an install from an index that refuses connections');
    expect(result.error?.name).toBe('InstallError');
    expect(result.stderr).toMatch(/No matching distribution found for pycage-demo|Could not find a version/);
  });

  it('builds an environment raced by two runtimes exactly once, and both runs succeed', async () => {
    const left = scratch.runtime({ findLinks: wheelhouse, noIndex: true });
    const right = scratch.runtime({ findLinks: wheelhouse, noIndex: true });
    const script = 'import pycage_race\nprint(pycage_race.VALUE)\n';
    const [a, b] = await Promise.all([
      left.runScript(script, { requirements: ['pycage-race==0.1.0'] }),
      right.runScript(script, { requirements: ['pycage-race==0.1.0'] }),
    ]);
    expect([a.stdout, b.stdout]).toEqual(['7\n', '7\n']);
    expect(a.environment!.key).toBe(b.environment!.key);
    expect([a.environment!.reused, b.environment!.reused].sort()).toEqual([false, true]);
  });

  it('creates a project once and runs it again with its saved requirements and files', async () => {
    const runtime = scratch.runtime({ findLinks: wheelhouse, noIndex: true });
    const project = await runtime.createProject({
      name: 'greeter',
      code: 'import sys, pycage_demo\nprint(pycage_demo.GREETING, open("names.txt").read().strip(), sys.argv[1:])\n',
      requirements: ['pycage-demo==1.2.0'],
      files: { 'names.txt': 'Ada\n' },
    });
    expect(project.name).toBe('greeter');
    expect(project.directory).toBe(path.join(scratch.cacheDir, 'projects', 'greeter'));
    expect(await readFile(path.join(project.directory, 'requirements.txt'), 'utf8')).toBe('pycage-demo==1.2.0\n');
    expect(project.environment?.installer).toBe('pip');

    const result = await runtime.runProject('greeter', { args: ['--loud'] });
    expect(result.stdout).toBe("hello from a wheel Ada ['--loud']\n");
    expect(result.environment?.reused).toBe(true);

    await expect(runtime.createProject({ name: 'broken', code: 'print(1)', requirements: ['pycage-does-not-exist'] })).rejects.toBeInstanceOf(InstallError);
    await expect(runtime.runProject('../etc')).rejects.toThrow(/not valid/);
  });

  it('infers requirements with requirements: auto', async () => {
    const runtime = scratch.runtime({ findLinks: wheelhouse, noIndex: true });
    const events: RuntimeEvent[] = [];
    const result = await runtime.runScript('# /// script\n# dependencies = ["pycage-demo"]\n# ///\nimport pycage_demo\nprint(pycage_demo.GREETING)\n', {
      requirements: 'auto',
      onEvent: (event) => events.push(event),
    });
    expect(result.stdout).toBe('hello from a wheel\n');
    expect(result.requirements).toEqual(['pycage-demo==1.2.0']);
    expect(events.find((event) => event.type === 'requirements')).toMatchObject({ requirements: ['pycage-demo==1.2.0'] });
  });

  it('leaves no container of its sessions behind', async () => {
    await Promise.all(scratch.runtimes.map((runtime) => runtime.close()));
    for (const runtime of scratch.runtimes) expect(sessionContainers(runtime)).toEqual([]);
  });
});
