import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { describeEndpoint, isUnreachable, toDockerUnavailable } from '../../../src/runtime/docker/docker-client.js';
import { readWheelhouse } from '../../../src/runtime/environments/environment.js';
import { DockerUnavailableError } from '../../../src/runtime/errors.js';
import { defaultImageTag, looksLikeRegistryFailure } from '../../../src/runtime/docker/image.js';
import { parseProbe } from '../../../src/runtime/probe.js';
import { checkProjectName, loadProject, saveProject } from '../../../src/runtime/projects.js';
import { pythonSourcePath } from '../../../src/runtime/python/sources.js';

let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'pycage-unit-helpers-'));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('docker client helpers', () => {
  it('describes the endpoint it talks to', () => {
    expect(describeEndpoint(undefined, {})).toBe('unix:///var/run/docker.sock');
    expect(describeEndpoint(undefined, { DOCKER_HOST: 'tcp://10.0.0.5:2375' })).toBe('tcp://10.0.0.5:2375');
    expect(describeEndpoint({ socketPath: '/run/user/1000/docker.sock' })).toBe('unix:///run/user/1000/docker.sock');
    expect(describeEndpoint({ host: 'box', port: 22, protocol: 'ssh' })).toBe('ssh://box:22');
  });

  it('recognises "nothing is listening" and turns it into DockerUnavailableError', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED /var/run/docker.sock'), { code: 'ECONNREFUSED' });
    expect(isUnreachable(refused)).toBe(true);
    expect(isUnreachable(Object.assign(new Error('no such container'), { statusCode: 404, code: 'ENOENT' }))).toBe(false);
    expect(isUnreachable(new Error('plain'))).toBe(false);
    const error = toDockerUnavailable(Object.assign(new Error('x'), { code: 'ENOENT' }), 'unix:///var/run/docker.sock');
    expect(error).toBeInstanceOf(DockerUnavailableError);
    expect(error.exitCode).toBe(3);
    expect(error.message).toBe('Cannot reach the Docker daemon at unix:///var/run/docker.sock (no Docker socket there: is Docker installed and running?).');
    expect(error.hint).toBe('Start Docker (`sudo systemctl start docker`, or run `dockerd`), or set DOCKER_HOST to a running engine.');
    expect(toDockerUnavailable(Object.assign(new Error('x'), { code: 'EACCES' }), 'e').message).toContain('docker group');
  });
});

describe('image helpers', () => {
  it('tags the default image by a hash of its Dockerfile', () => {
    expect(defaultImageTag('FROM a\n')).toMatch(/^pycage-python:[0-9a-f]{12}$/);
    expect(defaultImageTag('FROM a\n')).not.toBe(defaultImageTag('FROM b\n'));
  });

  it('tells registry failures from others', () => {
    expect(looksLikeRegistryFailure('Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host')).toBe(true);
    expect(looksLikeRegistryFailure('pull access denied for x, repository does not exist')).toBe(true);
    expect(looksLikeRegistryFailure('The command \'/bin/sh -c false\' returned a non-zero code: 1')).toBe(false);
  });

  it('reads a probe answer', () => {
    expect(parseProbe('{"pythonVersion":"3.12.7","executable":"/usr/local/bin/python3.12","uv":"/usr/local/bin/uv","uvVersion":"0.12.19","venv":true,"pip":true,"path":"/x"}\n')).toEqual({
      pythonVersion: '3.12.7',
      executable: '/usr/local/bin/python3.12',
      uv: '/usr/local/bin/uv',
      uvVersion: '0.12.19',
      venv: true,
      pip: true,
    });
    expect(parseProbe('not json')).toBeUndefined();
    expect(parseProbe('{"pythonVersion": 3}')).toBeUndefined();
  });

  it('finds its Python programs through the package root, from src/ as from dist/', () => {
    for (const program of ['bootstrap', 'install', 'probe', 'collect'] as const) {
      expect(pythonSourcePath(program).pathname).toMatch(new RegExp(`/src/runtime/python/${program}\\.py$`));
    }
  });
});

describe('wheelhouse', () => {
  it('reads the wheels and sdists at the top of a --find-links directory', async () => {
    const wheelhouse = path.join(directory, 'wheels');
    await mkdir(path.join(wheelhouse, 'nested'), { recursive: true });
    await writeFile(path.join(wheelhouse, 'a-1.0-py3-none-any.whl'), 'wheel');
    await writeFile(path.join(wheelhouse, 'b-2.0.tar.gz'), 'sdist');
    await writeFile(path.join(wheelhouse, 'notes.txt'), 'ignored');
    await writeFile(path.join(wheelhouse, 'nested', 'c-1.0-py3-none-any.whl'), 'ignored');
    expect((await readWheelhouse(wheelhouse)).map((file) => file.name)).toEqual(['a-1.0-py3-none-any.whl', 'b-2.0.tar.gz']);
    await expect(readWheelhouse(path.join(directory, 'missing'))).rejects.toBeInstanceOf(UsageError);
  });
});

describe('projects', () => {
  it('saves a project and loads it back', async () => {
    const project = await saveProject({
      cacheDir: directory,
      name: 'demo.one',
      code: 'print(1)\n',
      requirements: ['requests==2.32.3'],
      files: { 'data/x.txt': 'x' },
      environment: { key: 'k', reused: false, installer: 'pip', installDurationMs: 3 },
    });
    expect(project.directory).toBe(path.join(directory, 'projects', 'demo.one'));
    expect(await readFile(path.join(project.directory, 'script.py'), 'utf8')).toBe('print(1)\n');
    const loaded = await loadProject(directory, 'demo.one');
    expect(loaded).toMatchObject({ name: 'demo.one', code: 'print(1)\n', requirements: ['requests==2.32.3'], files: { 'data/x.txt': 'x' } });
    expect(loaded.environment?.key).toBe('k');

    await saveProject({ cacheDir: directory, name: 'demo.one', code: 'print(2)\n', requirements: [], files: {}, environment: undefined });
    const replaced = await loadProject(directory, 'demo.one');
    expect(replaced).toMatchObject({ code: 'print(2)\n', requirements: [], files: {} });
  });

  it('refuses bad names and missing projects', async () => {
    for (const name of ['', '../x', '.hidden', 'a/b', 'a..b', 'x'.repeat(65)]) expect(() => checkProjectName(name)).toThrow(UsageError);
    expect(checkProjectName('ok_name-1.2')).toBe('ok_name-1.2');
    await expect(loadProject(directory, 'missing')).rejects.toThrow(/No project named "missing"/);
  });
});
