/**
 * Errors the runtime throws. A failure of the user's script (or of installing its requirements) is a
 * run result, never one of these: they stand for a Docker engine that cannot be reached, an image that
 * cannot be had, or a sandbox that broke underneath a run. All map to the CLI's exit status 3.
 */
import { ExitCode, PycageError, type PycageErrorOptions } from '../errors.js';

export type RuntimeErrorOptions = Omit<PycageErrorOptions, 'exitCode'>;

/** How to get a Docker engine running, printed under every DockerUnavailableError. */
export const startDockerHint =
  'Start Docker (`sudo systemctl start docker`, or run `dockerd`), or set DOCKER_HOST to a running engine.';

/** The Docker engine is not installed, not running, or not reachable at the configured endpoint. */
export class DockerUnavailableError extends PycageError {
  override readonly name: string = 'DockerUnavailableError';
  /** The endpoint that was tried, e.g. `unix:///var/run/docker.sock` or `tcp://10.0.0.5:2375`. */
  readonly endpoint: string;

  constructor(message: string, options: RuntimeErrorOptions & { endpoint: string }) {
    super(message, { hint: startDockerHint, isRetryable: true, ...options, exitCode: ExitCode.docker });
    this.endpoint = options.endpoint;
  }
}

/** The image does not exist, could not be pulled or built, or has no usable `python3`. */
export class ImageError extends PycageError {
  override readonly name: string = 'ImageError';
  /** The image name as the caller gave it (or the default image's tag). */
  readonly image: string;

  constructor(message: string, options: RuntimeErrorOptions & { image: string }) {
    super(message, { ...options, exitCode: ExitCode.docker });
    this.image = options.image;
  }
}

/** A sandbox container could not be created, or stopped underneath a run for a reason that is not the script's. */
export class SandboxError extends PycageError {
  override readonly name: string = 'SandboxError';
  /** The container concerned, when there was one. */
  readonly containerId: string | undefined;

  constructor(message: string, options: RuntimeErrorOptions & { containerId?: string } = {}) {
    super(message, { ...options, exitCode: ExitCode.docker });
    this.containerId = options.containerId;
  }
}

/**
 * Installing a project's requirements failed when the project was created. (In `runScript` a failed
 * install is a result with `error.name === 'InstallError'`; `createProject` has no result to put it in.)
 */
export class InstallError extends PycageError {
  override readonly name: string = 'InstallError';
  readonly requirements: readonly string[];
  /** The installer's own output (pip's or uv's), which says what went wrong. */
  readonly output: string;

  constructor(message: string, options: RuntimeErrorOptions & { requirements: readonly string[]; output: string }) {
    super(message, { ...options, exitCode: ExitCode.failure });
    this.requirements = options.requirements;
    this.output = options.output;
  }
}
