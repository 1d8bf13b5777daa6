// Images and engines that are not what the runtime needs: each fails with its own typed error and a
// line saying what to do, and nothing is left behind.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDocker, createRuntime, DockerUnavailableError, ImageError, type RuntimeEvent } from '../../../src/runtime/index.js';
import { createScratch, sessionContainers, type Scratch } from './helpers.js';

let scratch: Scratch;
const noPythonImage = `pycage-test-no-python:${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  scratch = await createScratch('image');
  // An image with no python3 at all: one file, imported from a tar, no registry needed.
  const directory = await mkdtemp(path.join(tmpdir(), 'pycage-runtime-nopython-'));
  await writeFile(path.join(directory, 'hello.txt'), 'no python here\n');
  const tar = execFileSync('tar', ['-C', directory, '-c', '.']);
  execFileSync('docker', ['import', '-', noPythonImage], { input: tar });
  await rm(directory, { recursive: true, force: true });
});

afterAll(async () => {
  await scratch?.dispose();
  spawnSync('docker', ['rmi', '-f', noPythonImage]);
});

describe('images and engines', () => {
  it('reports an image that does not exist as an ImageError naming it', async () => {
    const runtime = scratch.runtime({ image: 'pycage-no-such-image:v0' });
    const error = await runtime.start().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ImageError);
    expect((error as ImageError).message).toContain('pycage-no-such-image:v0');
    expect((error as ImageError).exitCode).toBe(3);
    expect((error as ImageError).image).toBe('pycage-no-such-image:v0');
    // runScript reports the same, as a throw (an infrastructure failure, not a result).
    await expect(runtime.runScript('print(1)')).rejects.toBeInstanceOf(ImageError);
  });

  it('reports an image without python3 as an ImageError, leaving no container', async () => {
    const runtime = scratch.runtime({ image: noPythonImage, poolSize: 0 });
    const error = await runtime.start().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ImageError);
    expect((error as ImageError).message).toMatch(/python3/);
    expect((error as ImageError).hint).toMatch(/python3 on its PATH/);
    expect(sessionContainers(runtime)).toEqual([]);
  });

  it('says how to get the default image when it cannot be built without a registry', async () => {
    const saved = process.env.PYCAGE_IMAGE;
    delete process.env.PYCAGE_IMAGE;
    const events: RuntimeEvent[] = [];
    try {
      // No image option and no PYCAGE_IMAGE: the default image, built from docker/Dockerfile.
      const runtime = createRuntime({ environmentVolume: scratch.volume, cacheDir: scratch.cacheDir, poolSize: 0, onEvent: (event) => events.push(event) });
      scratch.runtimes.push(runtime);
      const outcome = await runtime.start().then(
        (info) => ({ info }),
        (error: unknown) => ({ error }),
      );
      if ('info' in outcome) {
        // A machine with a registry builds it for real; the build log was streamed.
        expect(outcome.info.image).toMatch(/^pycage-python:[0-9a-f]{12}$/);
        expect(events.some((event) => event.type === 'image-build')).toBe(true);
        return;
      }
      expect(outcome.error).toBeInstanceOf(ImageError);
      expect((outcome.error as ImageError).message).toMatch(/docker\/Dockerfile/);
      expect((outcome.error as ImageError).hint).toContain('docker/build-offline-image.sh');
      expect((outcome.error as ImageError).hint).toContain('--image');
      expect(events.some((event) => event.type === 'image-build')).toBe(true);
    } finally {
      if (saved !== undefined) process.env.PYCAGE_IMAGE = saved;
    }
  });

  it('maps an engine that is not there to DockerUnavailableError with a hint to start Docker', async () => {
    const socketPath = path.join(tmpdir(), `pycage-no-docker-${randomBytes(4).toString('hex')}.sock`);
    const runtime = createRuntime({ image: 'anything', docker: { socketPath } });
    const error = await runtime.start().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DockerUnavailableError);
    expect((error as DockerUnavailableError).exitCode).toBe(3);
    expect((error as DockerUnavailableError).message).toContain(socketPath);
    expect((error as DockerUnavailableError).hint).toMatch(/systemctl start docker.*dockerd.*DOCKER_HOST/);
    await runtime.close();

    await expect(checkDocker({ docker: { socketPath } })).rejects.toBeInstanceOf(DockerUnavailableError);
    await expect(checkDocker({ docker: { host: '127.0.0.1', port: 9, protocol: 'http' } })).rejects.toBeInstanceOf(DockerUnavailableError);
  });

  it('checks a running engine', async () => {
    const { version, apiVersion } = await checkDocker();
    expect(version).toBe(execFileSync('docker', ['version', '--format', '{{.Server.Version}}'], { encoding: 'utf8' }).trim());
    expect(apiVersion).toMatch(/^1\.\d+$/);
  });
});
