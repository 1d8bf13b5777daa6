/**
 * The environment cache of the Docker runner: one venv per distinct requirement set, in the labelled
 * volume `pycage-envs`, under `/opt/pycage/envs/<key>`. Run containers mount the volume read-only, so a
 * pooled container can use any environment, including one built after it started.
 *
 * An environment is built once, by a short-lived install container (hardened like a run, but with the
 * volume writable and, unless `noIndex`, a network), running install.py: it takes a per-key flock,
 * returns at once if the key's `.complete` marker exists, else builds the venv and installs. The host
 * also remembers complete keys, so a second run with the same requirements starts no container at all.
 * A failed install is reported back (the installer's own output), never thrown: it becomes a result.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { throwIfAborted } from '../abort.js';
import { UsageError } from '../errors.js';
import { maskSecretsIn } from '../index-url.js';
import type { Logger } from '../logger.js';
import type { EnvironmentResult } from './base-runtime.js';
import {
  environmentsMountPath,
  sandboxUid,
  volumeOwnerCreateOptions,
  type SandboxSettings,
} from './container-options.js';
import { daemonMessage, statusCode, type DockerClient } from './docker-client.js';
import { SandboxError } from './errors.js';
import type { ImageProbe, ResolvedImage } from './image.js';
import { environmentKey, findLinksFileHashes, installCommands, venvPython, type PackageSourceOptions } from './install-commands.js';
import { containerLabels, sharedLabels } from './labels.js';
import { lastJsonLine } from './output.js';
import { encodePayload } from './payload.js';
import { loadPythonSource } from './python-sources.js';
import { Sandbox } from './sandbox.js';
import type { EnvironmentInfo, Installer, RuntimeEvent } from './types.js';

/** install.py's "the environments directory is not writable" status. */
const notWritableStatus = 75;
const wheelhouseInContainer = '/tmp/pycage-wheelhouse';
/** Longest an environment build may take before its container is removed. */
export const installTimeoutMs = 15 * 60_000;
/** What an install stopped at `installTimeoutMs` adds to its output (both runners). */
export const installTimeoutMessage = `pycage: the install took longer than ${installTimeoutMs / 60_000} minutes and was stopped.\n`;
const wheelhouseSuffixes = ['.whl', '.tar.gz', '.tgz', '.zip', '.tar.bz2', '.tar.xz'];

export function chooseInstaller(probe: Pick<ImageProbe, 'uv' | 'venv'>): Installer | undefined {
  if (probe.uv !== null) return 'uv';
  if (probe.venv) return 'pip';
  return undefined;
}

/** Where an environment's venv lives under `root`: inside every container by default, or the local runner's envs directory. */
export function venvDirectoryFor(key: string, root = environmentsMountPath): string {
  return `${root}/${key}/venv`;
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

/** The wheelhouse files of a --find-links directory (top level only, as pip reads it). */
export async function readWheelhouse(directory: string): Promise<Array<{ name: string; data: Buffer }>> {
  const names = await readdir(directory).catch((error: unknown) => {
    throw new UsageError(`--find-links directory ${directory} cannot be read: ${(error as Error).message}`, { cause: error });
  });
  const files: Array<{ name: string; data: Buffer }> = [];
  for (const name of names.sort()) {
    if (!wheelhouseSuffixes.some((suffix) => name.endsWith(suffix))) continue;
    const file = path.join(directory, name);
    if (!(await stat(file)).isFile()) continue;
    files.push({ name, data: await readFile(file) });
  }
  return files;
}

/** The line of an installer's output that says what went wrong (pip's `ERROR:`, uv's `error:`). */
export function installFailureSummary(output: string): string {
  const lines = output.split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('pycage-install:'));
  const errors = lines.filter((line) => /^(?:ERROR|error)\b/.test(line));
  const chosen = errors.at(-1) ?? lines.at(-1) ?? 'the installer failed';
  return chosen.replace(/^(?:ERROR|error):\s*/, '');
}

// Keys known complete, per engine and volume, shared by every runtime of this process.
const completeKeys = new Map<string, Set<string>>();

export interface DockerEnvironmentsOptions {
  client: DockerClient;
  volume: string;
  session: string;
  source: PackageSourceOptions;
  logger: Logger;
}

export interface EnsureEnvironmentRequest {
  image: ResolvedImage;
  probe: ImageProbe;
  requirements: readonly string[];
  /** Settings for the install container (writable volume, network unless noIndex). */
  settings: SandboxSettings;
  onEvent: (event: RuntimeEvent) => void;
  abortSignal?: AbortSignal | undefined;
  /** Called with the install sandbox, so the runtime can remove it on close. */
  track: (sandbox: Sandbox) => () => void;
}

export class DockerEnvironments {
  readonly #options: DockerEnvironmentsOptions;
  readonly #complete: Set<string>;
  #volumeReady: Promise<void> | undefined;

  constructor(options: DockerEnvironmentsOptions) {
    this.#options = options;
    const cacheKey = `${options.client.endpoint}\n${options.volume}`;
    let complete = completeKeys.get(cacheKey);
    if (complete === undefined) {
      complete = new Set();
      completeKeys.set(cacheKey, complete);
    }
    this.#complete = complete;
  }

  /** Creates the labelled volume if it does not exist yet (create is idempotent in Docker). */
  ensureVolume(): Promise<void> {
    this.#volumeReady ??= this.#options.client
      .call((api) => api.createVolume({ Name: this.#options.volume, Labels: sharedLabels() }))
      .then(
        () => undefined,
        (error: unknown) => {
          this.#volumeReady = undefined;
          throw error;
        },
      );
    return this.#volumeReady;
  }

  /** The environment is missing from the volume after all (pruned): build it again next time. */
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
    const wheelhouse = source.findLinks === undefined ? [] : await readWheelhouse(source.findLinks);
    const key = environmentKey({
      base: image.id,
      pythonVersion: probe.pythonVersion,
      installer,
      requirements,
      source: { indexUrl: source.indexUrl, noIndex: source.noIndex, findLinksFiles: findLinksFileHashes(wheelhouse) },
    });
    const venvDirectory = venvDirectoryFor(key);
    if (this.#complete.has(key)) {
      request.onEvent({ type: 'install-done', reused: true, durationMs: 0, installer });
      return installedEnvironment({ key, reused: true, installer, installDurationMs: 0 }, venvDirectory);
    }

    const started = Date.now();
    request.onEvent({ type: 'install-start', requirements });
    await this.ensureVolume();
    // Built once: the retry after the volume is handed over sends the same payload.
    const payload = await this.#installPayload(request, installer, key, venvDirectory);
    let outcome = await this.#install(request, installer, key, payload);
    if (outcome.exitCode === notWritableStatus) {
      await this.#giveVolumeToSandboxUser(request);
      outcome = await this.#install(request, installer, key, payload);
    }
    const durationMs = Date.now() - started;
    if (outcome.exitCode !== 0) {
      return { ok: false, info: { key, reused: false, installer, installDurationMs: durationMs }, exitCode: outcome.exitCode, output: outcome.output };
    }
    this.#complete.add(key);
    const reused = outcome.status === 'reused';
    this.#options.logger.info(reused ? `environment ${key.slice(0, 12)} already built (by another runtime)` : `environment ${key.slice(0, 12)} built in ${durationMs} ms`);
    request.onEvent({ type: 'install-done', reused, durationMs, installer });
    return installedEnvironment({ key, reused, installer, installDurationMs: durationMs }, venvDirectory);
  }

  /** install.py's stdin: the key, the installer's commands and the --find-links wheelhouse files. */
  async #installPayload(request: EnsureEnvironmentRequest, installer: Installer, key: string, venvDirectory: string): Promise<Buffer> {
    const { source } = this.#options;
    const wheelhouse = source.findLinks === undefined ? [] : await readWheelhouse(source.findLinks);
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
    });
    const header = {
      key,
      envsDir: environmentsMountPath,
      installer,
      requirements: request.requirements,
      commands,
      wheelhouse: source.findLinks === undefined ? null : { dir: wheelhouseInContainer, files: wheelhouse.map((file) => ({ name: file.name, size: file.data.length })) },
    };
    return encodePayload(header, wheelhouse.map((file) => file.data));
  }

  async #install(
    request: EnsureEnvironmentRequest,
    installer: Installer,
    key: string,
    payload: Buffer,
  ): Promise<{ exitCode: number; output: string; status: string | undefined }> {
    const { client, logger, session } = this.#options;
    const script = await loadPythonSource('install');

    throwIfAborted(request.abortSignal);
    const sandbox = await Sandbox.create({
      client,
      settings: request.settings,
      labels: containerLabels({ role: 'install', session }),
      name: `pycage-${session}-install-${Date.now().toString(36)}`,
      poolKey: 'install',
      logger,
    });
    const untrack = request.track(sandbox);
    const onAbort = (): void => void sandbox.destroy();
    request.abortSignal?.addEventListener('abort', onAbort, { once: true });
    // pip and uv time out on a silent index, but not on a build that never ends.
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      void sandbox.destroy();
    }, installTimeoutMs);
    let stdout = '';
    let stderr = '';
    try {
      logger.info(`installing ${request.requirements.join(' ')} with ${installer} (environment ${key.slice(0, 12)})`);
      const outcome = await sandbox.exec({
        cmd: ['python3', '-I', '-c', script],
        env: {
          PATH: request.image.path,
          HOME: '/tmp',
          LANG: 'C.UTF-8',
          PYTHONDONTWRITEBYTECODE: '1',
          PIP_NO_INPUT: '1',
        },
        stdin: payload,
        onOutput: (stream, data) => {
          const text = data.toString('utf8');
          if (stream === 'stdout') stdout += text;
          else {
            stderr += text;
            for (const line of text.split('\n')) if (line.trim() !== '') logger.debug(maskSecretsIn(line, [this.#options.source.indexUrl]));
          }
        },
      });
      throwIfAborted(request.abortSignal);
      if (timedOut) return { exitCode: 1, output: `${stderr}${installTimeoutMessage}`, status: undefined };
      const status = installStatus(stdout);
      return { exitCode: installExitCode(outcome.exitCode, status), output: stderr, status };
    } finally {
      clearTimeout(timer);
      request.abortSignal?.removeEventListener('abort', onAbort);
      untrack();
      await sandbox.destroy();
    }
  }

  /**
   * A new volume belongs to root; the sandbox user needs to write it. A root container with every
   * capability dropped except CAP_CHOWN hands it over, once.
   */
  async #giveVolumeToSandboxUser(request: EnsureEnvironmentRequest): Promise<void> {
    const { client, logger, session, volume } = this.#options;
    logger.info(`handing volume ${volume} to uid ${sandboxUid}`);
    const options = volumeOwnerCreateOptions(
      { image: request.image.id, imagePath: request.image.path, environmentVolume: volume },
      containerLabels({ role: 'install', session }),
    );
    try {
      const container = await client.call((api) => api.createContainer(options));
      try {
        await client.call(() => container.start());
        const result = (await client.call(() => container.wait())) as { StatusCode: number };
        if (result.StatusCode !== 0) {
          const logs = await container.logs({ stdout: true, stderr: true }).catch(() => Buffer.alloc(0));
          throw new SandboxError(`Could not prepare volume ${volume}: ${logs.toString('utf8').trim() || `exit ${result.StatusCode}`}`);
        }
      } finally {
        await container.remove({ force: true }).catch(() => undefined);
      }
    } catch (error) {
      // client.call() has already turned "cannot connect" into DockerUnavailableError (thrown as is below).
      if (error instanceof SandboxError) throw error;
      if (statusCode(error) !== undefined) throw new SandboxError(`Could not prepare volume ${volume}: ${daemonMessage(error)}`, { cause: error });
      throw error;
    }
  }
}
