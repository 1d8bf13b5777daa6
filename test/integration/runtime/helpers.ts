/**
 * Shared pieces of the runtime's integration tests: runtimes on the test image, each with a session
 * id the assertions are scoped to (other people's containers may share the daemon), a volume and a
 * cache directory of their own, and checks of real Docker state made with the docker CLI, so they do
 * not share code with what they check.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRuntime, type Runtime, type RuntimeOptions } from '../../../src/runtime/index.js';
import { DockerRuntime } from '../../../src/runtime/docker/docker-runtime.js';
import { containersWith, removeVolumesWithPrefix } from '../../helpers/docker.js';
import { waitFor } from '../../helpers/wait.js';
import { defaultTestImage } from '../global-setup.js';

export { containersWith, waitFor };

export const testImage = process.env.PYCAGE_TEST_IMAGE ?? defaultTestImage;

export function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8' }).trim();
}

/** The runtime as the Docker runtime it is (its session, its pool), or an error if it is another kind. */
export function dockerRuntimeOf(runtime: Runtime): DockerRuntime {
  if (!(runtime instanceof DockerRuntime)) throw new Error('not a Docker runtime');
  return runtime;
}

/** The session label value of a Docker runtime: what its containers carry as `pycage.session`. */
export function sessionOf(runtime: Runtime): string {
  return dockerRuntimeOf(runtime).session;
}

export function sessionContainers(runtime: Runtime): string[] {
  return containersWith(`pycage.session=${sessionOf(runtime)}`);
}

/**
 * Waits until the runtime's session holds exactly `count` containers (by default none): Docker removes
 * a container a moment after it is let go. Fails listing those there are.
 */
export function waitForSessionContainers(runtime: Runtime, count = 0): Promise<void> {
  return waitFor(() => sessionContainers(runtime).length === count, `${count} container(s) in session ${sessionOf(runtime)}`, {
    state: () => `there are ${sessionContainers(runtime).join(', ') || 'none'}`,
  });
}

export interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Spawns a process (added to `children`, for the caller's cleanup) and resolves once its output, stdout
 * and stderr together, satisfies `ready` (checked as stdout arrives and at exit); rejects if it exits first.
 */
export function startUntil(
  command: string,
  args: readonly string[],
  options: { env: NodeJS.ProcessEnv; cwd?: string; children: ChildProcess[] },
  ready: (output: string) => boolean,
): Promise<Started> {
  const child = spawn(command, args, { env: options.env, cwd: options.cwd ?? process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
  options.children.push(child);
  let output = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (ready(output)) resolve({ child, output: () => output, exited });
    };
    child.stdout!.on('data', (data: Buffer) => {
      output += data.toString();
      check();
    });
    child.stderr!.on('data', (data: Buffer) => (output += data.toString()));
    void exited.then(({ code, signal }) => {
      check();
      reject(new Error(`process exited (${code ?? signal}) before it was ready:\n${output}`));
    });
  });
}

/** The environment of a fixture script (fixtures/*.ts) run on this scratch area, plus its own `PYCAGE_FIXTURE_*` settings. */
export function fixtureEnv(scratch: Pick<Scratch, 'volume' | 'cacheDir'>, extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    PYCAGE_TEST_IMAGE: testImage,
    PYCAGE_FIXTURE_VOLUME: scratch.volume,
    PYCAGE_FIXTURE_CACHE: scratch.cacheDir,
    ...extra,
    ...(process.env.DOCKER_HOST === undefined ? {} : { DOCKER_HOST: process.env.DOCKER_HOST }),
  };
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
      removeVolumesWithPrefix(scratch.volume);
      await rm(cacheDir, { recursive: true, force: true });
    },
  };
  return scratch;
}
