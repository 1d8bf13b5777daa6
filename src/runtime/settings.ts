/**
 * Runtime and run options with their defaults filled in and their values checked, so the rest of the
 * runtime never sees an undefined limit or a negative memory size. Bad values are usage errors (exit 2).
 */
import path from 'node:path';
import type { DockerOptions } from './docker/docker-client.js';
import { defaultCacheDirectory } from '../cache-directory.js';
import { UsageError } from '../errors.js';
import type { NetworkMode, RunOptions, RuntimeEvent, RuntimeOptions } from './types.js';
import type { Logger, LogSink } from '../logger.js';
import { parseAllowHost } from './network/index.js';

export const runtimeDefaults = {
  network: 'public' as NetworkMode,
  memoryBytes: 512 * 1024 * 1024,
  cpus: 1,
  pidsLimit: 256,
  timeoutMs: 60_000,
  outputLimitBytes: 4 * 1024 * 1024,
  poolSize: 2,
  /** poolMaxSize is the larger of this and poolSize. */
  poolMaxSize: 12,
  poolIdleMs: 5 * 60_000,
  environmentVolume: 'pycage-env',
  environmentLimitBytes: 4 * 1024 * 1024 * 1024,
  /** tmpfs sizes; tmpfs pages count against the memory limit anyway. */
  tmpBytes: 256 * 1024 * 1024,
  workBytes: 256 * 1024 * 1024,
} as const;

/** Docker refuses memory limits under 6 MiB. */
const minimumMemoryBytes = 6 * 1024 * 1024;

export interface ResolvedRuntimeOptions {
  isolate: boolean;
  /** undefined: the default image from docker/Dockerfile. */
  image: string | undefined;
  network: NetworkMode;
  allowHosts: readonly string[];
  hosts: Readonly<Record<string, string | readonly string[]>> | undefined;
  memoryBytes: number;
  cpus: number;
  pidsLimit: number;
  timeoutMs: number;
  outputLimitBytes: number;
  gvisor: boolean;
  indexUrl: string | undefined;
  findLinks: string | undefined;
  noIndex: boolean;
  allowUrlRequirements: boolean;
  allowSdist: boolean;
  allowPackages: readonly string[];
  minReleaseAgeDays: number | undefined;
  poolSize: number;
  poolMaxSize: number;
  poolIdleMs: number;
  docker: DockerOptions | undefined;
  environmentVolume: string;
  environmentLimitBytes: number;
  cacheDir: string;
  python: string;
  logger: Logger | LogSink | undefined;
  onEvent: ((event: RuntimeEvent) => void) | undefined;
}

function positive(name: string, value: number | undefined, fallback: number, options: { integer?: boolean; minimum?: number } = {}): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || (options.integer === true && !Number.isInteger(value))) {
    throw new UsageError(`${name} must be a positive ${options.integer === true ? 'integer' : 'number'}, not ${String(value)}.`);
  }
  if (options.minimum !== undefined && value < options.minimum) throw new UsageError(`${name} must be at least ${options.minimum}, not ${value}.`);
  return value;
}

function network(value: string | undefined, fallback: NetworkMode): NetworkMode {
  if (value === undefined) return fallback;
  if (value !== 'public' && value !== 'none' && value !== 'open') {
    throw new UsageError(`network must be 'public', 'none' or 'open', not ${JSON.stringify(value)}.`);
  }
  return value;
}

/** `allowHosts` only means something under network `public`; each entry is checked by the egress policy's parser. */
function allowHosts(value: readonly string[] | undefined, fallback: readonly string[], mode: NetworkMode): readonly string[] {
  if (value === undefined) return fallback;
  if (!Array.isArray(value) || value.some((entry) => typeof entry !== 'string')) throw new UsageError('allowHosts must be a list of host names, addresses or networks.');
  if (value.length > 0 && mode !== 'public') throw new UsageError(`allowHosts works with network 'public', not '${mode}'.`);
  for (const entry of value) parseAllowHost(entry);
  return [...value];
}

export function resolveRuntimeOptions(options: RuntimeOptions = {}, environment: NodeJS.ProcessEnv = process.env): ResolvedRuntimeOptions {
  const poolSize = options.poolSize ?? runtimeDefaults.poolSize;
  if (!Number.isInteger(poolSize) || poolSize < 0) throw new UsageError(`poolSize must be a whole number, 0 or more, not ${String(poolSize)}.`);
  const poolMaxSize = options.poolMaxSize ?? Math.max(poolSize, runtimeDefaults.poolMaxSize);
  if (!Number.isInteger(poolMaxSize) || poolMaxSize < poolSize) {
    throw new UsageError(`poolMaxSize must be a whole number, at least poolSize (${poolSize}), not ${String(poolMaxSize)}.`);
  }
  const image = options.image ?? imageFromEnvironment(environment);
  if (options.environmentVolume !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]+$/.test(options.environmentVolume)) {
    throw new UsageError(`environmentVolume ${JSON.stringify(options.environmentVolume)} is not a valid Docker volume name.`);
  }
  return {
    isolate: options.isolate ?? true,
    image,
    network: network(options.network, runtimeDefaults.network),
    allowHosts: allowHosts(options.allowHosts, [], options.network ?? runtimeDefaults.network),
    hosts: options.hosts,
    memoryBytes: positive('memoryBytes', options.memoryBytes, runtimeDefaults.memoryBytes, { integer: true, minimum: minimumMemoryBytes }),
    cpus: positive('cpus', options.cpus, runtimeDefaults.cpus),
    pidsLimit: positive('pidsLimit', options.pidsLimit, runtimeDefaults.pidsLimit, { integer: true }),
    timeoutMs: positive('timeoutMs', options.timeoutMs, runtimeDefaults.timeoutMs),
    outputLimitBytes: positive('outputLimitBytes', options.outputLimitBytes, runtimeDefaults.outputLimitBytes, { integer: true }),
    gvisor: options.gvisor ?? false,
    indexUrl: options.indexUrl,
    findLinks: options.findLinks === undefined ? undefined : path.resolve(options.findLinks),
    noIndex: options.noIndex ?? false,
    allowUrlRequirements: options.allowUrlRequirements ?? false,
    allowSdist: options.allowSdist ?? false,
    allowPackages: [...(options.allowPackages ?? [])],
    minReleaseAgeDays: options.minReleaseAgeDays,
    poolSize,
    poolMaxSize,
    poolIdleMs: positive('poolIdleMs', options.poolIdleMs, runtimeDefaults.poolIdleMs),
    docker: options.docker,
    environmentVolume: options.environmentVolume ?? runtimeDefaults.environmentVolume,
    environmentLimitBytes: positive('environmentLimitBytes', options.environmentLimitBytes, runtimeDefaults.environmentLimitBytes, { integer: true, minimum: 64 * 1024 * 1024 }),
    cacheDir: options.cacheDir ?? defaultCacheDirectory(environment),
    python: options.python ?? 'python3',
    logger: options.logger,
    onEvent: options.onEvent,
  };
}

export interface RunLimits {
  timeoutMs: number;
  memoryBytes: number;
  cpus: number;
  network: NetworkMode;
  allowHosts: readonly string[];
  outputLimitBytes: number;
}

/** A run's limits: its own options over the runtime's. */
export function resolveRunLimits(runtime: ResolvedRuntimeOptions, options: RunOptions): RunLimits {
  return {
    timeoutMs: positive('timeoutMs', options.timeoutMs, runtime.timeoutMs),
    memoryBytes: positive('memoryBytes', options.memoryBytes, runtime.memoryBytes, { integer: true, minimum: minimumMemoryBytes }),
    cpus: positive('cpus', options.cpus, runtime.cpus),
    network: network(options.network, runtime.network),
    allowHosts: allowHosts(options.allowHosts, runtime.allowHosts, options.network ?? runtime.network),
    outputLimitBytes: positive('outputLimitBytes', options.outputLimitBytes, runtime.outputLimitBytes, { integer: true }),
  };
}

/** Caller env must be plain strings with sane names; nothing else goes into the sandbox. */
export function checkEnvironment(env: Record<string, string> | undefined): Record<string, string> {
  if (env === undefined) return {};
  for (const [name, value] of Object.entries(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new UsageError(`Environment variable name ${JSON.stringify(name)} is not valid.`);
    if (typeof value !== 'string' || value.includes('\0')) throw new UsageError(`Environment variable ${name} must be a string without NUL bytes.`);
  }
  return { ...env };
}

/** The image PYCAGE_IMAGE names, if it names one (an empty value means the default). */
export function imageFromEnvironment(environment: NodeJS.ProcessEnv): string | undefined {
  const image = environment.PYCAGE_IMAGE;
  return image === undefined || image === '' ? undefined : image;
}
