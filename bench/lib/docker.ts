/**
 * Docker for the baselines and the bookkeeping of benchmarks, through dockerode (the same client the
 * runtime uses, so a baseline pays the same HTTP-over-socket costs and nothing more): a long-running
 * container of the benchmark image to `docker exec` into, an exec that waits for its status as the
 * docker CLI does, and waits for the daemon to be quiet between samples.
 */
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import Docker from 'dockerode';
import type { Runtime, RuntimeEvent, RuntimeOptions } from '../../src/index.js';
import { baseEnvironment, sandboxUser, tmpfsOptions, toEnvList, workDirectory } from '../../src/runtime/docker/container-options.js';
import { FrameDemuxer } from '../../src/runtime/output.js';
import { imagePath as pathOfImage } from '../../src/runtime/docker/image.js';
import { runtimeDefaults } from '../../src/runtime/settings.js';
import { defaultTestImage } from '../../test/integration/global-setup.js';
import { sessionOf } from '../../test/integration/runtime/helpers.js';

/** The image benchmarked: PYCAGE_BENCH_IMAGE, else PYCAGE_IMAGE (what pycage itself would use), else the test image. */
export const benchImage = process.env.PYCAGE_BENCH_IMAGE || process.env.PYCAGE_IMAGE || process.env.PYCAGE_TEST_IMAGE || defaultTestImage;

/**
 * Says in one paragraph, before any benchmark starts, that the image is missing and how to get it,
 * instead of a stack trace from the first benchmark that needs it. Undefined when the image is there.
 */
export async function missingImageMessage(image: string): Promise<string | undefined> {
  try {
    await docker().getImage(image).inspect();
    return undefined;
  } catch (error) {
    const status = (error as { statusCode?: number }).statusCode;
    if (status === 404) {
      return `The benchmark image ${image} is not on the Docker daemon. Build the offline test image with \`sudo bash docker/build-offline-image.sh\`, or name another image with PYCAGE_IMAGE (or PYCAGE_BENCH_IMAGE).`;
    }
    return `Docker could not be asked about the image ${image}: ${(error as Error).message}. Is Docker running (DOCKER_HOST)?`;
  }
}

/** Label put on the benchmark's own non-pycage containers (the exec baseline), for cleanup. */
export const benchLabel = 'pycage-bench.owner-pid';

let client: Docker | undefined;
export function docker(): Docker {
  client ??= new Docker();
  return client;
}

/** The environment pycage gives a script, for a like-for-like exec. */
export function scriptEnvironment(imagePath: string): string[] {
  return toEnvList(baseEnvironment(imagePath));
}

export async function imagePath(image: string): Promise<string> {
  return pathOfImage((await docker().getImage(image).inspect()).Config.Env);
}

/** The sandbox's hardening and default limits, as both plain-Docker baselines set them. */
function baselineHostConfig(): NonNullable<Docker.ContainerCreateOptions['HostConfig']> {
  return {
    Init: true,
    ReadonlyRootfs: true,
    CapDrop: ['ALL'],
    SecurityOpt: ['no-new-privileges'],
    Tmpfs: { '/tmp': tmpfsOptions(runtimeDefaults.tmpBytes, 'shared'), [workDirectory]: tmpfsOptions(runtimeDefaults.workBytes, 'private') },
    Memory: runtimeDefaults.memoryBytes,
    MemorySwap: runtimeDefaults.memoryBytes,
    NanoCpus: Math.round(runtimeDefaults.cpus * 1e9),
    PidsLimit: runtimeDefaults.pidsLimit,
    LogConfig: { Type: 'none', Config: {} },
  };
}

/**
 * A started container of the image with the sandbox's own user, hardening and default limits
 * (read-only root, tmpfs /work and /tmp, init, memory, CPU, pids, no log driver), kept running for
 * execs. Only the lifeline and pycage's labels are left out, so the runtime never touches it.
 */
export async function startBaselineContainer(image: string): Promise<Docker.Container> {
  const container = await docker().createContainer({
    Image: image,
    Entrypoint: ['sleep', 'infinity'],
    Cmd: [],
    User: sandboxUser,
    WorkingDir: workDirectory,
    Labels: { [benchLabel]: String(process.pid) },
    HostConfig: { ...baselineHostConfig(), AutoRemove: true, NetworkMode: 'bridge' },
  });
  await container.start();
  return container;
}

/**
 * What `docker run --rm -i` of one script is, with the sandbox's image, user, limits and no network
 * (as pycage's default `public` and `none` both are: the container itself has loopback only): create,
 * attach, start, read the output to its end, wait for the status, remove. The throughput baseline.
 */
export async function runFreshContainer(image: string, options: { cmd: string[]; env: string[] }): Promise<{ exitCode: number | null; stdout: string; stderr: string }> {
  const container = await docker().createContainer({
    Image: image,
    Entrypoint: options.cmd,
    Cmd: [],
    Env: options.env,
    User: sandboxUser,
    WorkingDir: workDirectory,
    Labels: { [benchLabel]: String(process.pid) },
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
    NetworkDisabled: true,
    HostConfig: { ...baselineHostConfig(), NetworkMode: 'none', IpcMode: 'private' },
  });
  try {
    const stream = (await container.attach({ stream: true, stdout: true, stderr: true })) as unknown as Duplex;
    const output = { stdout: '', stderr: '' };
    const demuxer = new FrameDemuxer((name, data) => (output[name] += data.toString('utf8')));
    const ended = new Promise<void>((resolve) => {
      stream.on('data', (chunk: Buffer) => demuxer.push(chunk));
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', resolve);
    });
    await container.start();
    await ended;
    const status = (await container.wait()) as { StatusCode: number };
    return { exitCode: status.StatusCode, ...output };
  } finally {
    await container.remove({ force: true });
  }
}

/** Removes every container this benchmark process made for its baselines. */
export async function removeBenchContainers(): Promise<void> {
  const containers = await docker().listContainers({ all: true, filters: { label: [`${benchLabel}=${process.pid}`] } });
  await Promise.allSettled(containers.map((container) => docker().getContainer(container.Id).remove({ force: true })));
}

/**
 * What `docker exec -i CONTAINER cmd < stdin` does over the API: create the exec, start it attached,
 * send stdin, read the multiplexed output to its end, then inspect it for the exit status.
 */
export async function execIn(
  container: Docker.Container,
  options: { cmd: string[]; env: string[]; stdin?: string },
): Promise<{ exitCode: number | null; stdout: string; stderr: string }> {
  const withStdin = options.stdin !== undefined;
  const exec = await container.exec({
    Cmd: options.cmd,
    Env: options.env,
    User: sandboxUser,
    WorkingDir: workDirectory,
    AttachStdin: withStdin,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
  });
  const stream = (await exec.start({ hijack: true, stdin: withStdin })) as unknown as Duplex;
  const output = { stdout: '', stderr: '' };
  const demuxer = new FrameDemuxer((name, data) => (output[name] += data.toString('utf8')));
  await new Promise<void>((resolve) => {
    stream.on('data', (chunk: Buffer) => demuxer.push(chunk));
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', resolve);
    if (withStdin) stream.end(options.stdin);
  });
  const info = await exec.inspect();
  return { exitCode: info.Running ? null : info.ExitCode, ...output };
}

/** Containers of one runtime (by its session label), running or not. */
export async function sessionContainers(runtime: Runtime, role?: string): Promise<Docker.ContainerInfo[]> {
  const label = ['pycage=true', `pycage.session=${sessionOf(runtime)}`];
  if (role !== undefined) label.push(`pycage.role=${role}`);
  return docker().listContainers({ all: true, filters: { label } });
}

interface PoolWatch {
  /** The pool has reported rest (`pool-ready`) since the last run started. */
  resting: boolean;
  ready: number;
  onRest: Set<() => void>;
}

const poolWatches = new WeakMap<Runtime, PoolWatch>();

/**
 * Options for a runtime whose pool `waitForPool` can wait for: its `onEvent` (the caller's, if any, is
 * still called) follows the runtime's `pool-ready` events and the runs that start after them. Hand the
 * runtime to `watchPool` once made.
 */
export function poolWatching(options: RuntimeOptions): { options: RuntimeOptions; watchPool: (runtime: Runtime) => void } {
  const watch: PoolWatch = { resting: false, ready: 0, onRest: new Set() };
  const onEvent = (event: RuntimeEvent): void => {
    if (event.type === 'run-start') watch.resting = false;
    else if (event.type === 'pool-ready') {
      watch.resting = true;
      watch.ready = event.ready;
      for (const wake of watch.onRest) wake();
    }
    options.onEvent?.(event);
  };
  return { options: { ...options, onEvent }, watchPool: (runtime) => poolWatches.set(runtime, watch) };
}

/**
 * Waits until the runtime's pool is at rest (its `pool-ready` event came after the last run started:
 * nothing starting, nothing being removed, no refill scheduled, no run in flight), and the daemon lists
 * exactly the pool's ready containers, all running. The next sample then starts on a quiet daemon. A
 * short pause follows for the daemon's own follow-up work (network teardown). The pool's size is
 * whatever it settled at (it grows after bursts).
 */
export async function waitForPool(runtime: Runtime, timeoutMs = 30_000): Promise<void> {
  const watch = poolWatches.get(runtime);
  if (watch === undefined) throw new Error('waitForPool needs a runtime made by the bench context (its pool events are followed)');
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const containers = watch.resting ? await sessionContainers(runtime, 'run') : [];
    if (watch.resting && containers.length === watch.ready && containers.every((container) => container.State === 'running')) break;
    if (performance.now() > deadline) {
      throw new Error(
        `the pool did not settle within ${timeoutMs} ms (${watch.resting ? `at rest with ${watch.ready} ready` : 'not at rest'}; containers: ${containers.map((container) => container.State).join(', ')})`,
      );
    }
    // Woken by the next pool-ready event, or polled: the daemon may still be removing what the pool let go.
    const waiting = watch.onRest;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(wake, 25);
      function wake(): void {
        clearTimeout(timer);
        waiting.delete(wake);
        resolve();
      }
      waiting.add(wake);
    });
  }
  await pause(150);
}

export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
