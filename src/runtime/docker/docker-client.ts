/**
 * The runtime's only door to Docker. dockerode is loaded lazily (importing the runtime stays cheap for
 * `pycage --help`) and used nowhere else; every call goes through `call()`, which turns "nothing is
 * listening on the socket" (ECONNREFUSED, ENOENT, EACCES...) into `DockerUnavailableError`, wherever it
 * happens, not only in `checkDocker()`.
 */
import type Dockerode from 'dockerode';
import type { DockerOptions } from 'dockerode';
import { throwIfAborted } from '../../abort.js';
import { PycageError } from '../../errors.js';
import { DockerUnavailableError } from '../errors.js';

export type DockerApi = Dockerode;
export type DockerContainer = Dockerode.Container;

const unreachableCodes = new Set([
  'ECONNREFUSED',
  'ENOENT',
  'EACCES',
  'EPERM',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNRESET',
  'EPIPE',
]);

/** `unix:///var/run/docker.sock`, `tcp://host:2375`, `ssh://user@host`: for messages only. */
export function describeEndpoint(options: DockerOptions | undefined, environment: NodeJS.ProcessEnv = process.env): string {
  if (options?.socketPath !== undefined) return `unix://${options.socketPath}`;
  if (options?.host !== undefined) {
    const protocol = options.protocol ?? 'http';
    const scheme = protocol === 'ssh' ? 'ssh' : 'tcp';
    return `${scheme}://${options.host}${options.port !== undefined ? `:${options.port}` : ''}`;
  }
  return environment.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
}

export function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  const cause = (error as { cause?: unknown }).cause;
  return cause === undefined ? undefined : errorCode(cause);
}

export function statusCode(error: unknown): number | undefined {
  const value = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof value === 'number' ? value : undefined;
}

/** The daemon's own message from an HTTP error, without dockerode's `(HTTP code 404) ...` wrapping. */
export function daemonMessage(error: unknown): string {
  const json = (error as { json?: unknown } | null)?.json;
  if (typeof json === 'object' && json !== null && typeof (json as { message?: unknown }).message === 'string') {
    return (json as { message: string }).message;
  }
  if (typeof json === 'string' && json.trim() !== '') return json.trim();
  if (Buffer.isBuffer(json)) return json.toString('utf8').trim();
  return error instanceof Error ? error.message : String(error);
}

export function isUnreachable(error: unknown): boolean {
  // Already one of pycage's own errors (a DockerUnavailableError made further down): leave it as it is.
  if (PycageError.isInstance(error)) return false;
  const code = errorCode(error);
  return code !== undefined && unreachableCodes.has(code) && statusCode(error) === undefined;
}

export function toDockerUnavailable(error: unknown, endpoint: string): DockerUnavailableError {
  const code = errorCode(error) ?? 'unreachable';
  const reason =
    code === 'ENOENT'
      ? 'no Docker socket there: is Docker installed and running?'
      : code === 'EACCES' || code === 'EPERM'
        ? 'permission denied on the socket: add your user to the docker group, or use sudo'
        : code === 'ECONNRESET' || code === 'EPIPE'
          ? 'the connection was cut: did the daemon restart?'
          : `${code}`;
  return new DockerUnavailableError(`Cannot reach the Docker daemon at ${endpoint} (${reason}).`, { endpoint, cause: error });
}

export class DockerClient {
  readonly endpoint: string;
  readonly #options: DockerOptions | undefined;
  #api: Promise<DockerApi> | undefined;

  constructor(options?: DockerOptions) {
    this.#options = options;
    this.endpoint = describeEndpoint(options);
  }

  /** The dockerode instance, created on first use. */
  api(): Promise<DockerApi> {
    this.#api ??= import('dockerode').then(
      (module) => new module.default(this.#options),
      (error: unknown) => {
        this.#api = undefined;
        throw error;
      },
    );
    return this.#api;
  }

  /** Runs one Docker operation, mapping "cannot connect" to DockerUnavailableError. */
  async call<T>(operation: (api: DockerApi) => Promise<T>): Promise<T> {
    const api = await this.api();
    try {
      return await operation(api);
    } catch (error) {
      if (isUnreachable(error)) throw toDockerUnavailable(error, this.endpoint);
      throw error;
    }
  }

  /** Fails with DockerUnavailableError when the engine does not answer within `timeoutMs`. */
  async ping(abortSignal?: AbortSignal, timeoutMs = 10_000): Promise<void> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = abortSignal === undefined ? timeout : AbortSignal.any([abortSignal, timeout]);
    try {
      // dockerode's ping takes an abortSignal; its type declarations do not say so.
      await this.call((api) => (api as unknown as { ping(options: { abortSignal: AbortSignal }): Promise<unknown> }).ping({ abortSignal: signal }));
    } catch (error) {
      throwIfAborted(abortSignal);
      if (timeout.aborted) {
        throw new DockerUnavailableError(`The Docker daemon at ${this.endpoint} did not answer within ${timeoutMs / 1000} s.`, { endpoint: this.endpoint, cause: error });
      }
      throw error;
    }
  }

  async version(): Promise<{ version: string; apiVersion: string }> {
    const info = await this.call((api) => api.version());
    return { version: info.Version, apiVersion: info.ApiVersion };
  }

  /** The container runtimes the engine offers (`runc`, `runsc`...), sorted. */
  async runtimes(): Promise<string[]> {
    // dockerode's type for info() does not declare Runtimes.
    const info = (await this.call((api) => api.info())) as { Runtimes?: Record<string, unknown> };
    return Object.keys(info.Runtimes ?? {}).sort();
  }

  /** The image's inspect data, or undefined when the daemon does not have it. */
  async inspectImage(name: string): Promise<Dockerode.ImageInspectInfo | undefined> {
    try {
      return await this.call((api) => api.getImage(name).inspect());
    } catch (error) {
      if (statusCode(error) === 404) return undefined;
      throw error;
    }
  }

  /** Follows a build or pull stream to its end, reporting each progress object; rejects on stream errors. */
  async follow(stream: NodeJS.ReadableStream, onProgress: (event: Record<string, unknown>) => void): Promise<void> {
    const api = await this.api();
    await new Promise<void>((resolve, reject) => {
      api.modem.followProgress(
        stream,
        (error: unknown) => (error ? reject(isUnreachable(error) ? toDockerUnavailable(error, this.endpoint) : error) : resolve()),
        onProgress,
      );
    });
  }
}
