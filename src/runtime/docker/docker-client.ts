/**
 * The runtime's only door to Docker, and the only file that knows dockerode. The rest of the runtime
 * asks for what it needs in Docker's own terms (create a container, attach to it, start it, exec in it,
 * wait until it is removed, list by label, watch events, build or pull an image) and gets plain values
 * back: ids, Node streams, small records; no dockerode object leaves this file. dockerode is loaded
 * lazily (importing the runtime stays cheap for `pycage --help`); every call goes through `#call()`,
 * which turns "nothing is listening on the socket" (ECONNREFUSED, ENOENT, EACCES...) into
 * `DockerUnavailableError`, wherever it happens, not only in `checkDocker()`.
 */
import { IncomingMessage } from 'node:http';
import { Duplex, Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import { throwIfAborted } from '../../abort.js';
import { PycageError } from '../../errors.js';
import { DockerUnavailableError } from '../errors.js';

/** How to reach the Docker engine: dockerode's connection options (`socketPath`, `host`, `protocol`, TLS...), passed through. */
export type DockerOptions = Dockerode.DockerOptions;
/** The body of Docker's container create call, as container-options.ts builds it. */
export type ContainerCreateOptions = Dockerode.ContainerCreateOptions;

/**
 * A hijacked connection to the engine (attach, exec): a socket for unix, tcp and tls endpoints, which
 * can be ref'd and unref'd; an ssh channel, which cannot, has neither method.
 */
export type HijackedStream = Duplex & { ref?: () => unknown; unref?: () => unknown };

/** Label filters as Docker takes them: `key` or `key=value`, every one must match. */
export interface LabelFilters {
  label: string[];
}

export interface ContainerSummary {
  id: string;
  labels: Record<string, string>;
}

export interface ImageDetails {
  /** `sha256:...` */
  id: string;
  /** The image config's environment (`PATH=...`), as `NAME=value` strings. */
  env: readonly string[];
}

export interface ExecRequest {
  cmd: string[];
  /** `NAME=value` strings. */
  env: string[];
  /** `uid:gid` */
  user: string;
  workingDir: string;
  /** Whether the process gets a stdin (written through the returned stream). */
  stdin: boolean;
}

/** One progress object of a build or a pull (`stream`, `status`, `error`, `progressDetail`...). */
export type ProgressEvent = Record<string, unknown>;

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
  /** What it was made with: the reaper process (reaper.ts) reaches the same engine with them. */
  readonly options: DockerOptions | undefined;
  #api: Promise<Dockerode> | undefined;

  constructor(options?: DockerOptions) {
    this.options = options;
    this.endpoint = describeEndpoint(options);
  }

  /** The dockerode instance, created on first use. */
  #connect(): Promise<Dockerode> {
    this.#api ??= import('dockerode').then(
      (module) => new module.default(this.options),
      (error: unknown) => {
        this.#api = undefined;
        throw error;
      },
    );
    return this.#api;
  }

  /** Runs one Docker operation, mapping "cannot connect" to DockerUnavailableError. */
  async #call<T>(operation: (api: Dockerode) => Promise<T>): Promise<T> {
    const api = await this.#connect();
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
      await this.#call((api) => {
        // dockerode's ping takes `{ abortSignal }` (lib/docker.js) but @types/dockerode declares only
        // `ping()`. A function declared with fewer parameters is assignable to one that takes more, so
        // the real signature can be named without a cast.
        const ping: (options: { abortSignal: AbortSignal }) => Promise<unknown> = api.ping.bind(api);
        return ping({ abortSignal: signal });
      });
    } catch (error) {
      throwIfAborted(abortSignal);
      if (timeout.aborted) {
        throw new DockerUnavailableError(`The Docker daemon at ${this.endpoint} did not answer within ${timeoutMs / 1000} s.`, { endpoint: this.endpoint, cause: error });
      }
      throw error;
    }
  }

  async version(): Promise<{ version: string; apiVersion: string }> {
    const info = await this.#call((api) => api.version());
    return { version: info.Version, apiVersion: info.ApiVersion };
  }

  /** The container runtimes the engine offers (`runc`, `runsc`...), sorted. */
  async runtimes(): Promise<string[]> {
    // dockerode's type for info() does not declare Runtimes.
    const info = (await this.#call((api) => api.info())) as { Runtimes?: Record<string, unknown> };
    return Object.keys(info.Runtimes ?? {}).sort();
  }

  // Images

  /** The image's id and environment, or undefined when the daemon does not have it. */
  async inspectImage(reference: string): Promise<ImageDetails | undefined> {
    try {
      const info = await this.#call((api) => api.getImage(reference).inspect());
      return { id: info.Id, env: info.Config?.Env ?? [] };
    } catch (error) {
      if (statusCode(error) === 404) return undefined;
      throw error;
    }
  }

  /** Pulls an image to the end of Docker's progress stream; rejects when the pull or the stream fails. */
  async pullImage(reference: string, options: { abortSignal?: AbortSignal | undefined; onProgress: (event: ProgressEvent) => void }): Promise<void> {
    const stream = await this.#call((api) => api.pull(reference, options.abortSignal ? { abortSignal: options.abortSignal } : {}));
    await this.#follow(stream, options.onProgress);
  }

  /**
   * Builds an image from a build context (a tar holding the Dockerfile) to the end of Docker's progress
   * stream. A failed step is reported as a progress event with `error`, not as a rejection.
   */
  async buildImage(
    context: Uint8Array,
    options: { tag: string; labels: Record<string, string>; abortSignal?: AbortSignal | undefined; onProgress: (event: ProgressEvent) => void },
  ): Promise<void> {
    const stream = await this.#call((api) =>
      api.buildImage(Readable.from([context]), {
        t: options.tag,
        labels: options.labels,
        rm: true,
        forcerm: true,
        ...(options.abortSignal ? { abortSignal: options.abortSignal } : {}),
      }),
    );
    await this.#follow(stream, options.onProgress);
  }

  /** Ids of the images that carry the labels. */
  async listImages(filters: LabelFilters): Promise<string[]> {
    const images = await this.#call((api) => api.listImages({ filters: { ...filters } }));
    return images.map((image) => image.Id);
  }

  /** Removes an image, even one that containers still use. */
  async removeImage(id: string): Promise<void> {
    await this.#call((api) => api.getImage(id).remove({ force: true }));
  }

  /** Follows a build or pull stream to its end, reporting each progress object; rejects on stream errors. */
  async #follow(stream: NodeJS.ReadableStream, onProgress: (event: ProgressEvent) => void): Promise<void> {
    const api = await this.#connect();
    await new Promise<void>((resolve, reject) => {
      api.modem.followProgress(
        stream,
        (error: unknown) => (error ? reject(isUnreachable(error) ? toDockerUnavailable(error, this.endpoint) : error) : resolve()),
        onProgress,
      );
    });
  }

  // Volumes

  /** Creates a named volume; an existing volume of that name is left as it is (Docker's own rule). */
  async createVolume(name: string, labels: Record<string, string>): Promise<void> {
    await this.#call((api) => api.createVolume({ Name: name, Labels: labels }));
  }

  /** Names of the volumes that carry the labels. */
  async listVolumes(filters: LabelFilters): Promise<string[]> {
    const answer = await this.#call((api) => api.listVolumes({ filters: { ...filters } }));
    return (answer.Volumes ?? []).map((volume) => volume.Name);
  }

  async removeVolume(name: string): Promise<void> {
    await this.#call((api) => api.getVolume(name).remove());
  }

  // Containers

  /** Creates a container and returns its id. */
  async createContainer(options: ContainerCreateOptions): Promise<string> {
    const container = await this.#call((api) => api.createContainer(options));
    return container.id;
  }

  /** Attaches to the container's stdin, stdout and stderr on one hijacked connection. */
  async attachContainer(id: string): Promise<HijackedStream> {
    const stream = await this.#call((api) => api.getContainer(id).attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true }));
    // A hijacked attach is the connection itself, a two-way stream; @types/dockerode types it as a
    // NodeJS.ReadWriteStream, which has no destroy(), so the stream is checked rather than assumed.
    if (!(stream instanceof Duplex)) throw new Error('the attach call did not return a two-way stream');
    return stream;
  }

  async startContainer(id: string): Promise<void> {
    await this.#call((api) => api.getContainer(id).start());
  }

  /** The parts of the container's state pycage reads; rejects (404) when the container is gone. */
  async inspectContainer(id: string): Promise<{ running: boolean; oomKilled: boolean }> {
    const info = await this.#call((api) => api.getContainer(id).inspect());
    return { running: info.State.Running, oomKilled: info.State.OOMKilled };
  }

  /** Kills and removes the container (force), or gives up when `abortSignal` fires. */
  async removeContainer(id: string, abortSignal?: AbortSignal): Promise<void> {
    await this.#call((api) => api.getContainer(id).remove({ force: true, ...(abortSignal ? { abortSignal } : {}) }));
  }

  /** Resolves once the container is removed (at once when it is already gone); rejects when `abortSignal` fires. */
  async waitUntilRemoved(id: string, abortSignal: AbortSignal): Promise<void> {
    await this.#call((api) => api.getContainer(id).wait({ condition: 'removed', abortSignal }));
  }

  /** Every container, running or not, that carries the labels. */
  async listContainers(filters: LabelFilters): Promise<ContainerSummary[]> {
    const containers = await this.#call((api) => api.listContainers({ all: true, filters: { ...filters } }));
    return containers.map((container) => ({ id: container.Id, labels: container.Labels ?? {} }));
  }

  // Execs

  /** Creates and starts an exec in the container; its output (and its stdin, when asked for) is the returned stream. */
  async startExec(containerId: string, request: ExecRequest): Promise<{ id: string; stream: Duplex }> {
    const exec = await this.#call((api) =>
      api.getContainer(containerId).exec({
        Cmd: request.cmd,
        Env: request.env,
        User: request.user,
        WorkingDir: request.workingDir,
        AttachStdin: request.stdin,
        AttachStdout: true,
        AttachStderr: true,
        Tty: false,
      }),
    );
    const stream = await this.#call(() => exec.start({ hijack: true, stdin: request.stdin }));
    return { id: exec.id, stream };
  }

  /** Whether the exec is still running, and its exit code once it is not. */
  async inspectExec(id: string): Promise<{ running: boolean; exitCode: number | null }> {
    const info = await this.#call((api) => api.getExec(id).inspect());
    return { running: info.Running, exitCode: info.ExitCode };
  }

  // Events

  /**
   * Docker's event stream for containers, filtered by action (`oom`, `die`...) and labels, as
   * newline-separated JSON. Its connection never keeps the Node process up on its own: the stream stays
   * open for a runtime's whole life.
   */
  async containerEvents(filters: { actions: string[]; labels: string[] }): Promise<Readable> {
    const stream = await this.#call((api) => api.getEvents({ filters: { type: ['container'], event: filters.actions, label: filters.labels } }));
    // An event stream is the HTTP response itself; @types/dockerode types it as a NodeJS.ReadableStream.
    if (!(stream instanceof Readable)) throw new Error('the events call did not return a readable stream');
    if (stream instanceof IncomingMessage) stream.socket?.unref();
    return stream;
  }
}

/** One container event of `containerEvents`' stream, in the fields pycage reads. */
export interface ContainerEvent {
  /** `create`, `oom`, `kill`, `die`... */
  action: string;
  /** The container's id. */
  id: string;
  /** The container's labels and the event's own attributes (`name`, `exitCode` on `die`...). */
  attributes: Record<string, string>;
}

/**
 * Calls `listener` with each event of a `containerEvents` stream, as it arrives: the stream is JSON
 * lines, which a chunk may cut anywhere. A line that is not an event is skipped.
 */
export function onContainerEvents(stream: Readable, listener: (event: ContainerEvent) => void): void {
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (text: string) => {
    pending += text;
    for (let newline = pending.indexOf('\n'); newline !== -1; newline = pending.indexOf('\n')) {
      const line = pending.slice(0, newline).trim();
      pending = pending.slice(newline + 1);
      const event = line === '' ? undefined : parseContainerEvent(line);
      if (event !== undefined) listener(event);
    }
  });
}

function parseContainerEvent(line: string): ContainerEvent | undefined {
  let raw: { Action?: string; status?: string; Actor?: { ID?: string; Attributes?: Record<string, string> }; id?: string };
  try {
    raw = JSON.parse(line) as typeof raw;
  } catch {
    return undefined;
  }
  // Older engines name the action `status` and the container `id`.
  const action = raw.Action ?? raw.status;
  const id = raw.Actor?.ID ?? raw.id;
  if (action === undefined || id === undefined) return undefined;
  return { action, id, attributes: raw.Actor?.Attributes ?? {} };
}
