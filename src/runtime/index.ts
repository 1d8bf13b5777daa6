/**
 * The runtime stage: runs Python in a hardened Docker sandbox (or, with `isolate: false`, as a plain
 * local process) and returns a result. The only entrance to src/runtime for the rest of pycage.
 *
 * Importing this module is cheap: the Docker client library is loaded on the first call that talks to
 * Docker (docker/docker-client.ts), and `createRuntime` does not contact Docker at all (`start()` or
 * the first run does).
 */
import { DockerRuntime } from './docker/docker-runtime.js';
import { LocalRuntime } from './local/local-runtime.js';
import { checkRuntimeOptions } from './option-keys.js';
import { resolveRuntimeOptions } from './settings.js';
import type { Runtime, RuntimeOptions } from './types.js';

/** A runtime with these options; synchronous and lazy: Docker is contacted on first use. */
export function createRuntime(options: RuntimeOptions = {}): Runtime {
  checkRuntimeOptions(options);
  const resolved = resolveRuntimeOptions(options);
  return resolved.isolate ? new DockerRuntime(resolved) : new LocalRuntime(resolved);
}

export { checkOutputDirectory, displayName, readArtifactArchive, writeArtifacts } from './artifacts.js';
export type { ArtifactFile } from './artifacts.js';
export { runOptionKeys } from './option-keys.js';
export { checkDocker, checkImage } from './docker/checks.js';
export type { CheckDockerOptions, CheckImageOptions, DockerCheck, ImageCheck } from './docker/checks.js';
export type { DockerOptions } from './docker/docker-client.js';
export { prune } from './docker/cleanup.js';
export type { PruneOptions } from './docker/cleanup.js';
export { DockerUnavailableError, ImageError, InstallError, SandboxError } from './errors.js';
export type { RuntimeErrorOptions } from './errors.js';
export { parsePythonError } from './traceback.js';
export { blockedConnections } from './result.js';
export { imageFromEnvironment, runtimeDefaults } from './settings.js';
export { offlineImageScript } from './docker/image.js';
export type {
  Artifact,
  BlockedConnection,
  CloseOptions,
  CreateProjectOptions,
  EnvironmentInfo,
  Installer,
  NetworkMode,
  NetworkReport,
  Project,
  PythonError,
  RefusedArtifact,
  RequirementsOption,
  RunOptions,
  RunResult,
  Runtime,
  RuntimeEvent,
  RuntimeInfo,
  RuntimeOptions,
} from './types.js';
