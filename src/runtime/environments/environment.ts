/**
 * The environment cache of the Docker runner: one venv per distinct requirement set, each in a Docker
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
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { throwIfAborted } from '../../abort.js';
import { UsageError } from '../../errors.js';
import { maskSecretsIn } from '../../index-url.js';
import type { Logger } from '../../logger.js';
import type { EnvironmentResult } from '../base-runtime.js';
import {
  environmentPath,
  proxyEnvironment,
  storeMountPath,
  type SandboxSettings,
} from '../docker/container-options.js';
import type { DockerClient } from '../docker/docker-client.js';
import type { ResolvedImage } from '../docker/image.js';
import { environmentKey, findLinksFileHashes, installCommands, venvPython, type PackageSourceOptions } from './install-commands.js';
import { containerLabels, labelKeys, sharedLabels } from '../docker/labels.js';
import { HeadTailLog, lastJsonLine } from '../output.js';
import { encodePayload } from '../payload.js';
import type { PythonProbe } from '../probe.js';
import { loadConfinedSource, loadPythonSource } from '../python/sources.js';
import { Sandbox } from '../docker/sandbox.js';
import type { EnvironmentInfo, Installer, RuntimeEvent } from '../types.js';

const wheelhouseInContainer = '/tmp/pycage-wheelhouse';
/** Longest an environment build may take before its container is removed. */
export const installTimeoutMs = 15 * 60_000;
/** What an install stopped at `installTimeoutMs` adds to its output (both runners). */
export const installTimeoutMessage = `pycage: the install took longer than ${installTimeoutMs / 60_000} minutes and was stopped.\n`;
/** An install that prints more than this is stopped: no installer needs to, and the host must not hold it. */
export const installOutputLimitBytes = 16 * 1024 * 1024;
/** Of an install's output, the first and the last this many bytes are kept. */
const installLogHalfBytes = 256 * 1024;
const wheelhouseSuffixes = ['.whl', '.tar.gz', '.tgz', '.zip', '.tar.bz2', '.tar.xz'];

export function chooseInstaller(probe: Pick<PythonProbe, 'uv' | 'venv'>): Installer | undefined {
  if (probe.uv !== null) return 'uv';
  if (probe.venv) return 'pip';
  return undefined;
}

/** Where an environment's venv lives: inside every container by default, or under the local runner's envs directory. */
export function venvDirectoryFor(key: string, root?: string): string {
  return root === undefined ? `${environmentPath(key)}/venv` : `${root}/${key}/venv`;
}

/** The Docker volume that holds one environment. */
export function environmentVolumeName(prefix: string, key: string): string {
  return `${prefix}-${key.slice(0, 32)}`;
}

/** What a runner gets for a built (or reused) environment whose venv is `venvDirectory`. */
export function installedEnvironment(info: EnvironmentInfo, venvDirectory: string): Extract<EnvironmentResult, { ok: true }> {
  return { ok: true, info, python: venvPython(venvDirectory), binDirectory: `${venvDirectory}/bin`, venvDirectory };
}

/** install.py's closing status (`built`, `reused`), from the JSON line it prints last; undefined when it did not get there. */
export function installStatus(stdout: string): string | undefined {
  return (lastJsonLine(stdout) as { status?: string } | null | undefined)?.status;
}

/**
 * An install's exit code as both runners judge it: no status at all (the process or its container
 * went away) is 1, and so is exit 0 without install.py's closing status (it did not finish).
 */
export function installExitCode(exitCode: number | null, status: string | undefined): number {
  const code = exitCode ?? 1;
  return code === 0 && status === undefined ? 1 : code;
}

/** The wheelhouse files of a --find-links directory (top level only, as pip reads it), with their stats. */
async function listWheelhouse(directory: string): Promise<Array<{ name: string; file: string; size: number; mtimeMs: number }>> {
  const names = await readdir(directory).catch((error: unknown) => {
    throw new UsageError(`--find-links directory ${directory} cannot be read: ${(error as Error).message}`, { cause: error });
  });
  const files: Array<{ name: string; file: string; size: number; mtimeMs: number }> = [];
  for (const name of names.sort()) {
    if (!wheelhouseSuffixes.some((suffix) => name.endsWith(suffix))) continue;
    const file = path.join(directory, name);
    const stats = await stat(file);
    if (stats.isFile()) files.push({ name, file, size: stats.size, mtimeMs: stats.mtimeMs });
  }
  return files;
}

/** The wheelhouse files of a --find-links directory and their bytes, to send into an install. */
export async function readWheelhouse(directory: string): Promise<Array<{ name: string; data: Buffer }>> {
  const files = await listWheelhouse(directory);
  return Promise.all(files.map(async (entry) => ({ name: entry.name, data: await readFile(entry.file) })));
}

// sha256 of wheelhouse files by path, size and mtime: a run whose environment is cached reads none of them.
const wheelhouseHashes = new Map<string, { size: number; mtimeMs: number; sha256: string }>();

/** The name and sha256 of each wheelhouse file, for the environment key; a file read again only when it changed. */
export async function hashWheelhouse(directory: string | undefined): Promise<Array<{ name: string; sha256: string }>> {
  if (directory === undefined) return [];
  const hashes: Array<{ name: string; sha256: string }> = [];
  for (const entry of await listWheelhouse(directory)) {
    let known = wheelhouseHashes.get(entry.file);
    if (known === undefined || known.size !== entry.size || known.mtimeMs !== entry.mtimeMs) {
      known = { size: entry.size, mtimeMs: entry.mtimeMs, sha256: findLinksFileHashes([{ name: entry.name, data: await readFile(entry.file) }])[0]!.sha256 };
      wheelhouseHashes.set(entry.file, known);
    }
    hashes.push({ name: entry.name, sha256: known.sha256 });
  }
  return hashes;
}

/** The line of an installer's output that says what went wrong (pip's `ERROR:`, uv's `error:`). */
export function installFailureSummary(output: string): string {
  const lines = output.split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('pycage-install:'));
  const errors = lines.filter((line) => /^(?:ERROR|error)\b/.test(line));
  const chosen = errors.at(-1) ?? lines.at(-1) ?? 'the installer failed';
  return chosen.replace(/^(?:ERROR|error):\s*/, '');
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

interface InstallOutcome {
  exitCode: number;
  output: string;
  status: 'installed' | 'reused' | undefined;
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
    const requirements = [...request.requirements];
    const { source } = this.#options;
    const key = environmentKey({
      base: image.id,
      pythonVersion: probe.pythonVersion,
      installer,
      requirements,
      source: { indexUrl: source.indexUrl, noIndex: source.noIndex, findLinksFiles: await hashWheelhouse(source.findLinks), allowSdist: source.allowSdist },
    });
    const venvDirectory = venvDirectoryFor(key);
    if (this.#complete.has(key)) {
      request.onEvent({ type: 'install-done', reused: true, durationMs: 0, installer });
      return installedEnvironment({ key, reused: true, installer, installDurationMs: 0 }, venvDirectory);
    }

    const started = Date.now();
    request.onEvent({ type: 'install-start', requirements });
    const volume = this.volumeFor(key);
    await this.#options.client.createVolume(volume, { ...sharedLabels(), [labelKeys.environment]: key });
    const wheelhouse = source.findLinks === undefined ? [] : await readWheelhouse(source.findLinks);
    const payload = this.#installPayload(request, installer, venvDirectory, wheelhouse);
    const outcome = await this.#install(request, installer, key, volume, payload);
    const durationMs = Date.now() - started;
    if (outcome.exitCode !== 0) {
      // Whatever a failed install did stays in a volume nobody uses again.
      await this.#options.client.removeVolume(volume).catch(() => undefined);
      return { ok: false, info: { key, reused: false, installer, installDurationMs: durationMs }, exitCode: outcome.exitCode, output: outcome.output };
    }
    this.#complete.add(key);
    const reused = outcome.status === 'reused';
    this.#options.logger.info(reused ? `environment ${key.slice(0, 12)} already built (by another runtime)` : `environment ${key.slice(0, 12)} built in ${durationMs} ms`);
    request.onEvent({ type: 'install-done', reused, durationMs, installer });
    return installedEnvironment({ key, reused, installer, installDurationMs: durationMs }, venvDirectory);
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
      if ((check as { complete?: unknown } | undefined)?.complete === true) return { exitCode: 0, output: '', status: 'reused' };

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
      if (stopped === 'timeout') return { exitCode: 1, output: `${log.text}${installTimeoutMessage}`, status: undefined };
      if (stopped === 'flood') {
        return { exitCode: 1, output: `${log.text}pycage: the install printed more than ${installOutputLimitBytes / 1024 / 1024} MiB and was stopped.\n`, status: undefined };
      }
      const status = installStatus(stdout);
      const exitCode = installExitCode(outcome.exitCode, status);
      if (exitCode !== 0) {
        const problems = egressProblems();
        const output = `${log.text}${problems.length === 0 ? '' : `${problems.join('\n')}\n`}`;
        return { exitCode, output: this.#explainFailure(output, request.limitBytes), status: undefined };
      }
      if (!reaped) return { exitCode: 1, output: `${log.text}pycage: processes started by the install could not be stopped.\n`, status: undefined };
      const stored = (await this.#rootStep(sandbox, request, [store, 'commit', storeMountPath, `${environmentPath(key)}/venv`])) as
        | { status?: unknown; error?: unknown }
        | undefined;
      if (stored?.status === 'stored' || stored?.status === 'reused') return { exitCode: 0, output: log.text, status: stored.status === 'reused' ? 'reused' : 'installed' };
      return { exitCode: 1, output: `${log.text}pycage: the environment could not be stored: ${String(stored?.error ?? 'no answer')}\n`, status: undefined };
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
