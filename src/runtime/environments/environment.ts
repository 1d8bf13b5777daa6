/**
 * The environment cache of the Docker runner (how either runner gets an environment is
 * ensure-environment.ts): one venv per distinct requirement set, each in a Docker
 * volume of its own (`<prefix>-<key>`, labelled), mounted read-only at `/opt/pycage/envs/<key>` into the
 * runs that use it and into no other container. So an install can neither read nor change another
 * environment, and a run sees only its own.
 *
 * An environment is built once, by a short-lived install container, hardened like a run, in three steps:
 * 1. install.py, as the sandbox user, builds the venv in a size-limited tmpfs at the environment's
 *    final path (the tmpfs size is the environment's size limit; package build code that runs here can
 *    write nowhere else that outlives the container);
 * 2. reap.py, as root, kills every process the install left behind;
 * 3. store.py, as root, copies the venv into the environment's volume under a lock and marks it
 *    complete; it runs no package code, and the volume is writable by root only.
 * The host also remembers complete keys, so a second run with the same requirements starts no container
 * at all. A failed install is reported back (the installer's own output, capped), never thrown: it
 * becomes a result; its volume is removed, so nothing it did can block the next try.
 */
import { readFile } from 'node:fs/promises';
import { throwIfAborted } from '../../abort.js';
import { maskSecretsIn } from '../../index-url.js';
import type { Logger } from '../../logger.js';
import type { EnvironmentResult } from '../base-runtime.js';
import {
  environmentPath,
  environmentsMountPath,
  proxyEnvironment,
  storeMountPath,
  type SandboxSettings,
} from '../docker/container-options.js';
import type { DockerClient } from '../docker/docker-client.js';
import type { ResolvedImage } from '../docker/image.js';
import {
  chooseInstaller,
  ensureEnvironment,
  installExitCode,
  installStatus,
  installTimeoutMessage,
  installTimeoutMs,
  listWheelhouse,
  venvDirectoryFor,
  type InstallOutcome,
} from './ensure-environment.js';
import { installCommands, type PackageSourceOptions } from './install-commands.js';
import { containerLabels, labelKeys, sharedLabels } from '../docker/labels.js';
import { HeadTailLog, lastJsonLine } from '../output.js';
import { encodePayload } from '../payload.js';
import type { PythonProbe } from '../probe.js';
import { loadConfinedSource, loadPythonSource } from '../python/sources.js';
import { Sandbox } from '../docker/sandbox.js';
import type { EnvironmentInfo, Installer, RuntimeEvent } from '../types.js';

const wheelhouseInContainer = '/tmp/pycage-wheelhouse';
/** An install that prints more than this is stopped: no installer needs to, and the host must not hold it. */
export const installOutputLimitBytes = 16 * 1024 * 1024;
/** Of an install's output, the first and the last this many bytes are kept. */
const installLogHalfBytes = 256 * 1024;

/** The Docker volume that holds one environment. */
export function environmentVolumeName(prefix: string, key: string): string {
  return `${prefix}-${key.slice(0, 32)}`;
}

/** The wheelhouse files of a --find-links directory and their bytes, to send into an install. */
export async function readWheelhouse(directory: string): Promise<Array<{ name: string; data: Buffer }>> {
  const files = await listWheelhouse(directory);
  return Promise.all(files.map(async (entry) => ({ name: entry.name, data: await readFile(entry.file) })));
}

// Keys known complete, per engine and volume prefix, shared by every runtime of this process.
const completeKeys = new Map<string, Set<string>>();

export interface DockerEnvironmentsOptions {
  client: DockerClient;
  /** Prefix of the environments' volume names. */
  volumePrefix: string;
  session: string;
  source: PackageSourceOptions & { allowSdist?: boolean | undefined };
  logger: Logger;
}

export interface EnsureEnvironmentRequest {
  image: ResolvedImage;
  probe: PythonProbe;
  requirements: readonly string[];
  /** Settings for the install container, without its mounts (added here). */
  settings: SandboxSettings;
  /** Most bytes the environment may hold (the size of the tmpfs it is built in). */
  limitBytes: number;
  /**
   * Gives the install container's proxied connections their egress policy (network `public`); returns
   * what the proxy could not reach or refused, as lines for the install's output.
   */
  egress: (sandbox: Sandbox) => () => string[];
  onEvent: (event: RuntimeEvent) => void;
  abortSignal?: AbortSignal | undefined;
  /** Called with the install sandbox, so the runtime can remove it on close. */
  track: (sandbox: Sandbox) => () => void;
}

export class DockerEnvironments {
  readonly #options: DockerEnvironmentsOptions;
  readonly #complete: Set<string>;

  constructor(options: DockerEnvironmentsOptions) {
    this.#options = options;
    const cacheKey = `${options.client.endpoint}\n${options.volumePrefix}`;
    let complete = completeKeys.get(cacheKey);
    if (complete === undefined) {
      complete = new Set();
      completeKeys.set(cacheKey, complete);
    }
    this.#complete = complete;
  }

  /** The volume of an environment. */
  volumeFor(key: string): string {
    return environmentVolumeName(this.#options.volumePrefix, key);
  }

  /** The environment is missing from its volume after all (pruned): build it again next time. */
  forget(key: string): void {
    this.#complete.delete(key);
  }

  async ensure(request: EnsureEnvironmentRequest): Promise<EnvironmentResult> {
    const { probe, image } = request;
    const installer = chooseInstaller(probe);
    if (installer === undefined) {
      const info: EnvironmentInfo = { key: '', reused: false, installer: 'pip', installDurationMs: 0 };
      return {
        ok: false,
        info,
        exitCode: 1,
        output: `Image ${image.reference} has neither uv nor a usable venv module (venv + ensurepip), so packages cannot be installed in it. Use an image with uv, or install python3-venv in it.\n`,
      };
    }
    const { source } = this.#options;
    return ensureEnvironment({
      base: image.id,
      probe,
      installer,
      requirements: request.requirements,
      source,
      venvDirectory: (key) => venvDirectoryFor(key, environmentsMountPath),
      isComplete: (key) => this.#complete.has(key),
      install: async (key, venvDirectory) => {
        const volume = this.volumeFor(key);
        await this.#options.client.createVolume(volume, { ...sharedLabels(), [labelKeys.environment]: key });
        const wheelhouse = source.findLinks === undefined ? [] : await readWheelhouse(source.findLinks);
        const payload = this.#installPayload(request, installer, venvDirectory, wheelhouse);
        const outcome = await this.#install(request, installer, key, volume, payload);
        if (outcome.exitCode !== 0) {
          // Whatever a failed install did stays in a volume nobody uses again.
          await this.#options.client.removeVolume(volume).catch(() => undefined);
        }
        return outcome;
      },
      onComplete: (key, { reused, durationMs }) => {
        this.#complete.add(key);
        this.#options.logger.info(reused ? `environment ${key.slice(0, 12)} already built (by another runtime)` : `environment ${key.slice(0, 12)} built in ${durationMs} ms`);
      },
      onEvent: request.onEvent,
    });
  }

  /** install.py's stdin: the commands and the --find-links wheelhouse files. */
  #installPayload(
    request: EnsureEnvironmentRequest,
    installer: Installer,
    venvDirectory: string,
    wheelhouse: ReadonlyArray<{ name: string; data: Buffer }>,
  ): Buffer {
    const { source } = this.#options;
    const commands = installCommands({
      installer,
      python: request.probe.executable,
      uv: request.probe.uv ?? undefined,
      venvDirectory,
      requirements: request.requirements,
      cacheDirectory: '/tmp/pycage-installer-cache',
      indexUrl: source.indexUrl,
      noIndex: source.noIndex,
      findLinks: source.findLinks === undefined ? undefined : wheelhouseInContainer,
      allowSdist: source.allowSdist,
    });
    const header = {
      locking: false,
      installer,
      requirements: request.requirements,
      commands,
      wheelhouse: source.findLinks === undefined ? null : { dir: wheelhouseInContainer, files: wheelhouse.map((file) => ({ name: file.name, size: file.data.length })) },
    };
    return encodePayload(header, wheelhouse.map((file) => file.data));
  }

  async #install(request: EnsureEnvironmentRequest, installer: Installer, key: string, volume: string, payload: Buffer): Promise<InstallOutcome> {
    const { client, logger, session } = this.#options;
    throwIfAborted(request.abortSignal);
    const settings: SandboxSettings = { ...request.settings, install: { key, volume, limitBytes: request.limitBytes } };
    const sandbox = await Sandbox.create({
      client,
      settings,
      labels: containerLabels({ role: 'install', session }),
      name: `pycage-${session}-install-${Date.now().toString(36)}`,
      poolKey: 'install',
      logger,
    });
    const untrack = request.track(sandbox);
    const onAbort = (): void => void sandbox.destroy();
    request.abortSignal?.addEventListener('abort', onAbort, { once: true });
    // pip and uv time out on a silent index, but not on a build that never ends.
    let stopped: 'timeout' | 'flood' | undefined;
    const timer = setTimeout(() => {
      stopped = 'timeout';
      void sandbox.reap();
    }, installTimeoutMs);
    const log = new HeadTailLog(installLogHalfBytes);
    try {
      const store = await loadPythonSource('store');
      const check = await this.#rootStep(sandbox, request, [store, 'check', storeMountPath]);
      if ((check as { complete?: unknown } | undefined)?.complete === true) return { exitCode: 0, output: '', reused: true };

      logger.info(`installing ${request.requirements.join(' ')} with ${installer} (environment ${key.slice(0, 12)})`);
      const egressProblems = settings.network === 'public' ? request.egress(sandbox) : () => [];
      let stdout = '';
      const outcome = await sandbox.exec({
        cmd: ['python3', '-I', '-c', await loadConfinedSource('install')],
        env: {
          PATH: request.image.path,
          HOME: '/tmp',
          LANG: 'C.UTF-8',
          PYTHONDONTWRITEBYTECODE: '1',
          PIP_NO_INPUT: '1',
          ...(settings.network === 'public' ? proxyEnvironment(false) : {}),
        },
        stdin: payload,
        onOutput: (stream, data) => {
          if (stream === 'stdout') {
            if (stdout.length < 64 * 1024) stdout += data.toString('utf8');
            return;
          }
          log.write(data);
          if (log.totalBytes > installOutputLimitBytes && stopped === undefined) {
            stopped = 'flood';
            void sandbox.reap();
          }
          if (log.totalBytes <= installLogHalfBytes) {
            for (const line of data.toString('utf8').split('\n')) if (line.trim() !== '') logger.debug(maskSecretsIn(line, [this.#options.source.indexUrl]));
          }
        },
      });
      throwIfAborted(request.abortSignal);
      // Whatever the install left running dies before pycage's own step runs in the container.
      const reaped = await sandbox.reap();
      if (stopped === 'timeout') return { exitCode: 1, output: `${log.text}${installTimeoutMessage}`, reused: false };
      if (stopped === 'flood') {
        return { exitCode: 1, output: `${log.text}pycage: the install printed more than ${installOutputLimitBytes / 1024 / 1024} MiB and was stopped.\n`, reused: false };
      }
      const status = installStatus(stdout);
      const exitCode = installExitCode(outcome.exitCode, status);
      if (exitCode !== 0) {
        const problems = egressProblems();
        const output = `${log.text}${problems.length === 0 ? '' : `${problems.join('\n')}\n`}`;
        return { exitCode, output: this.#explainFailure(output, request.limitBytes), reused: false };
      }
      if (!reaped) return { exitCode: 1, output: `${log.text}pycage: processes started by the install could not be stopped.\n`, reused: false };
      const stored = (await this.#rootStep(sandbox, request, [store, 'commit', storeMountPath, `${environmentPath(key)}/venv`])) as
        | { status?: unknown; error?: unknown }
        | undefined;
      if (stored?.status === 'stored' || stored?.status === 'reused') return { exitCode: 0, output: log.text, reused: stored.status === 'reused' };
      return { exitCode: 1, output: `${log.text}pycage: the environment could not be stored: ${String(stored?.error ?? 'no answer')}\n`, reused: false };
    } finally {
      clearTimeout(timer);
      request.abortSignal?.removeEventListener('abort', onAbort);
      untrack();
      await sandbox.destroy();
    }
  }

  /** Runs store.py as root and returns its JSON line. */
  async #rootStep(sandbox: Sandbox, request: EnsureEnvironmentRequest, args: [string, ...string[]]): Promise<unknown> {
    let stdout = '';
    let stderr = '';
    const [source, ...rest] = args;
    const outcome = await sandbox.exec({
      cmd: ['python3', '-I', '-S', '-c', source, ...rest],
      env: { PATH: request.image.path, LANG: 'C.UTF-8' },
      user: 'root',
      onOutput: (stream, data) => {
        if (stream === 'stdout') stdout += data.toString('utf8');
        else if (stderr.length < 16 * 1024) stderr += data.toString('utf8');
      },
    });
    throwIfAborted(request.abortSignal);
    if (outcome.exitCode !== 0 && stderr.trim() !== '') this.#options.logger.warn(`store step: ${stderr.trim().slice(0, 500)}`);
    return lastJsonLine(stdout);
  }

  /** The installer's output, with pycage's own explanation when the environment hit its size limit. */
  #explainFailure(output: string, limitBytes: number): string {
    if (!/No space left on device|Errno 28\b/.test(output)) return output;
    return `${output}pycage: the environment grew past its size limit of ${Math.round(limitBytes / 1024 / 1024)} MiB (environmentLimitBytes) and the install was stopped.\n`;
  }
}
