/**
 * Questions `pycage doctor` (and any caller) can ask before running anything: is there a Docker
 * engine, which version, which runtimes does it offer; is the sandbox image there or will it be built.
 * Neither starts a container.
 */
import { DockerClient, type DockerOptions } from './docker-client.js';
import { readDefaultDockerfile } from './image.js';
import { imageFromEnvironment } from '../settings.js';
import { checkDockerCheckOptions, checkImageCheckOptions } from '../option-keys.js';

export interface DockerCheck {
  /** Engine version, e.g. `20.10.24+dfsg1`. */
  version: string;
  apiVersion: string;
  /** Where it was reached, e.g. `unix:///var/run/docker.sock`. */
  endpoint: string;
  /** Container runtimes the engine offers, e.g. `['io.containerd.runc.v2', 'runc', 'runsc']`. */
  runtimes: string[];
}

export interface CheckDockerOptions {
  /** Docker endpoint. @default DOCKER_HOST, else /var/run/docker.sock */
  docker?: DockerOptions;
  abortSignal?: AbortSignal;
}

export interface CheckImageOptions {
  /** @default env PYCAGE_IMAGE, else the image built from docker/Dockerfile */
  image?: string;
  /** Docker endpoint. @default DOCKER_HOST, else /var/run/docker.sock */
  docker?: DockerOptions;
}

/** Pings the engine; throws DockerUnavailableError (exit 3, with a hint to start Docker) when it is not there. */
export async function checkDocker(options: CheckDockerOptions = {}): Promise<DockerCheck> {
  checkDockerCheckOptions(options);
  const client = new DockerClient(options.docker);
  await client.ping(options.abortSignal);
  const { version, apiVersion } = await client.version();
  return { version, apiVersion, endpoint: client.endpoint, runtimes: await client.runtimes() };
}

export interface ImageCheck {
  /** The image that would be used: the named one, or the default image's tag. */
  reference: string;
  /** Whether the engine has it now. */
  present: boolean;
  /** True for the default image, built from docker/Dockerfile on first use. */
  fromDockerfile: boolean;
  /** `sha256:...` when present. */
  id?: string;
}

/**
 * Which image a runtime with these options would use, and whether the engine has it, without pulling
 * or building anything. `image` defaults as in `createRuntime`: env PYCAGE_IMAGE, else docker/Dockerfile.
 */
export async function checkImage(options: CheckImageOptions = {}): Promise<ImageCheck> {
  checkImageCheckOptions(options);
  const client = new DockerClient(options.docker);
  const named = options.image ?? imageFromEnvironment(process.env);
  const reference = named ?? (await readDefaultDockerfile()).tag;
  const info = await client.inspectImage(reference);
  return { reference, present: info !== undefined, fromDockerfile: named === undefined, ...(info === undefined ? {} : { id: info.id }) };
}
