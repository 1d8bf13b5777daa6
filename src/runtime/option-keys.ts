/**
 * The valid keys of every options object the runtime's public methods take, kept in step with the
 * interfaces in types.ts by the compiler (see src/options.ts), and the one-line checks the runtime's
 * entrances call, so a misspelled option is a UsageError instead of a silently kept default.
 */
import { checkOptionKeys, type OptionKeys } from '../options.js';
import type { CloseOptions, CreateProjectOptions, RunOptions, RuntimeOptions } from './types.js';
import type { PruneOptions } from './docker/cleanup.js';
import type { CheckDockerOptions, CheckImageOptions } from './docker/checks.js';

export const runtimeOptionKeys = {
  isolate: true,
  image: true,
  network: true,
  memoryBytes: true,
  cpus: true,
  pidsLimit: true,
  timeoutMs: true,
  outputLimitBytes: true,
  gvisor: true,
  indexUrl: true,
  findLinks: true,
  noIndex: true,
  poolSize: true,
  poolMaxSize: true,
  poolIdleMs: true,
  docker: true,
  allowHosts: true,
  hosts: true,
  allowUrlRequirements: true,
  allowSdist: true,
  allowPackages: true,
  minReleaseAgeDays: true,
  environmentLimitBytes: true,
  environmentVolume: true,
  cacheDir: true,
  python: true,
  logger: true,
  onEvent: true,
} as const satisfies OptionKeys<RuntimeOptions>;

export const runOptionKeys = {
  requirements: true,
  env: true,
  args: true,
  files: true,
  stdin: true,
  timeoutMs: true,
  memoryBytes: true,
  cpus: true,
  network: true,
  allowHosts: true,
  outputLimitBytes: true,
  outputDir: true,
  onStdout: true,
  onStderr: true,
  onEvent: true,
  abortSignal: true,
} as const satisfies OptionKeys<RunOptions>;

/** runProject takes a run's options except `requirements`: the project's own are used. */
export const projectRunOptionKeys = withoutKey(runOptionKeys, 'requirements') satisfies OptionKeys<Omit<RunOptions, 'requirements'>>;

function withoutKey<Keys extends object, Key extends keyof Keys>(keys: Keys, key: Key): Omit<Keys, Key> {
  const { [key]: _left, ...rest } = keys;
  return rest;
}

export const createProjectOptionKeys = {
  code: true,
  name: true,
  requirements: true,
  files: true,
  onEvent: true,
  abortSignal: true,
} as const satisfies OptionKeys<CreateProjectOptions>;

export const startOptionKeys = { abortSignal: true } as const satisfies OptionKeys<{ abortSignal?: AbortSignal }>;

export const closeOptionKeys = { wait: true } as const satisfies OptionKeys<CloseOptions>;

export const pruneOptionKeys = { docker: true, logger: true } as const satisfies OptionKeys<PruneOptions>;

export const checkDockerOptionKeys = { docker: true, abortSignal: true } as const satisfies OptionKeys<CheckDockerOptions>;

export const checkImageOptionKeys = { image: true, docker: true } as const satisfies OptionKeys<CheckImageOptions>;

/** Runtime options a caller may put on a run by mistake: they are set once, on createRuntime. */
const runtimeOnly = Object.fromEntries(
  Object.keys(runtimeOptionKeys)
    .filter((key) => !Object.hasOwn(runOptionKeys, key))
    .map((key) => [key, 'createRuntime']),
);

export function checkRuntimeOptions(options: unknown): void {
  checkOptionKeys('createRuntime', options, runtimeOptionKeys, { elsewhere: { outputDir: 'runScript', requirements: 'runScript' } });
}

export function checkRunOptions(options: unknown): void {
  checkOptionKeys('runScript', options, runOptionKeys, { elsewhere: runtimeOnly });
}

export function checkProjectRunOptions(options: unknown): void {
  checkOptionKeys('runProject', options, projectRunOptionKeys, { elsewhere: { ...runtimeOnly, requirements: 'createProject' } });
}

export function checkCreateProjectOptions(options: unknown): void {
  checkOptionKeys('createProject', options, createProjectOptionKeys, { optional: false });
}

export function checkStartOptions(options: unknown): void {
  checkOptionKeys('start', options, startOptionKeys);
}

export function checkCloseOptions(options: unknown): void {
  checkOptionKeys('close', options, closeOptionKeys);
}

export function checkPruneOptions(options: unknown): void {
  checkOptionKeys('prune', options, pruneOptionKeys);
}

export function checkDockerCheckOptions(options: unknown): void {
  checkOptionKeys('checkDocker', options, checkDockerOptionKeys);
}

export function checkImageCheckOptions(options: unknown): void {
  checkOptionKeys('checkImage', options, checkImageOptionKeys);
}
