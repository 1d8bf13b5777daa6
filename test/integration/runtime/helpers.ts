/**
 * Shared pieces of the runtime's integration tests: runtimes on the test image, each with a session
 * id the assertions are scoped to (other people's containers may share the daemon), a volume and a
 * cache directory of their own, and checks of real Docker state made with the docker CLI, so they do
 * not share code with what they check.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRuntime, type Runtime, type RuntimeOptions } from '../../../src/runtime/index.js';
import { DockerRuntime } from '../../../src/runtime/docker-runtime.js';

export const testImage = process.env.PYCAGE_TEST_IMAGE ?? 'pycage-offline:bookworm';

export function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8' }).trim();
}

/** Ids of containers (running or not) carrying this label filter, e.g. `pycage.session=abc`. */
export function containersWith(label: string): string[] {
  return docker('ps', '-a', '--filter', `label=${label}`, '--format', '{{.ID}}')
    .split('\n')
    .filter((line) => line !== '');
}

export function sessionOf(runtime: Runtime): string {
  if (!(runtime instanceof DockerRuntime)) throw new Error('not a Docker runtime');
  return runtime.session;
}

export function sessionContainers(runtime: Runtime): string[] {
  return containersWith(`pycage.session=${sessionOf(runtime)}`);
}

/** Polls until `check` holds; Docker removes containers asynchronously. */
export async function eventually(check: () => boolean, timeoutMs = 15_000, intervalMs = 200): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  return check();
}

/** A scratch area per test file: an environment volume and a cache directory nobody else uses. */
export interface Scratch {
  volume: string;
  cacheDir: string;
  runtimes: Runtime[];
  runtime(options?: RuntimeOptions): Runtime;
  /** Closes every runtime made here, removes the volume and the directory. */
  dispose(): Promise<void>;
}

export async function createScratch(name: string): Promise<Scratch> {
  const cacheDir = await mkdtemp(path.join(tmpdir(), `pycage-runtime-${name}-`));
  const scratch: Scratch = {
    volume: `pycage-test-${name}-${randomBytes(4).toString('hex')}`,
    cacheDir,
    runtimes: [],
    runtime(options = {}) {
      const runtime = createRuntime({ image: testImage, environmentVolume: scratch.volume, cacheDir, poolSize: 1, ...options });
      scratch.runtimes.push(runtime);
      return runtime;
    },
    async dispose() {
      await Promise.allSettled(scratch.runtimes.map((runtime) => runtime.close()));
      spawnSync('docker', ['volume', 'rm', '-f', scratch.volume], { encoding: 'utf8' });
      await rm(cacheDir, { recursive: true, force: true });
    },
  };
  return scratch;
}
