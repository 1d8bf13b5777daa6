/**
 * How a runner gets the environment for a set of requirements, the same for both runners: the key
 * (from the runner's Python, the installer, the pins and where the packages come from), the runner's
 * own "already complete" check, the install with its `install-start`/`install-done` events and its
 * timing, and what the runner hands on (a venv, or a failed install that becomes a result). Where the
 * venv lives and how install.py runs is the runner's, given as `EnvironmentSteps` (Docker:
 * environment.ts; local: local/local-environments.ts). Below the flow, what both read of an install.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../../errors.js';
import type { EnvironmentResult } from '../base-runtime.js';
import { lastJsonLine } from '../output.js';
import type { PythonProbe } from '../probe.js';
import type { EnvironmentInfo, Installer, RuntimeEvent } from '../types.js';
import { environmentKey, findLinksFileHashes, venvPython, type PackageSourceOptions } from './install-commands.js';

/** Longest an environment build may take before it is stopped (its container removed, its processes killed). */
export const installTimeoutMs = 15 * 60_000;
/** What an install stopped at `installTimeoutMs` adds to its output. */
export const installTimeoutMessage = `pycage: the install took longer than ${installTimeoutMs / 60_000} minutes and was stopped.\n`;
const wheelhouseSuffixes = ['.whl', '.tar.gz', '.tgz', '.zip', '.tar.bz2', '.tar.xz'];

/** How one install ended. */
export interface InstallOutcome {
  /** 0 when the environment is complete. */
  exitCode: number;
  /** The installer's output (capped), which a failed install's result carries. */
  output: string;
  /** Someone else (another runtime or process) had built it meanwhile. */
  reused: boolean;
}

export interface EnvironmentSteps {
  /** What the environment is built on, for its key: the image id, or the path of this machine's python. */
  base: string;
  probe: PythonProbe;
  installer: Installer;
  requirements: readonly string[];
  /** Where packages come from (the key covers it); `findLinks` as a folder on this machine. */
  source: PackageSourceOptions & { allowSdist?: boolean | undefined };
  /** Where the environment's venv is, as its scripts see it. */
  venvDirectory(key: string): string;
  /** This process knows the environment complete already: nothing is installed, no event but `install-done`. */
  isComplete?(key: string): boolean;
  /** Builds the environment, or finds it built by someone else (install.py's lock and marker). */
  install(key: string, venvDirectory: string): Promise<InstallOutcome>;
  /** The environment is complete (built or reused), before `install-done` is told. */
  onComplete?(key: string, outcome: { reused: boolean; durationMs: number }): void;
  onEvent(event: RuntimeEvent): void;
}

export async function ensureEnvironment(steps: EnvironmentSteps): Promise<EnvironmentResult> {
  const { probe, installer, source } = steps;
  const requirements = [...steps.requirements];
  const key = environmentKey({
    base: steps.base,
    pythonVersion: probe.pythonVersion,
    installer,
    requirements,
    source: { indexUrl: source.indexUrl, noIndex: source.noIndex, findLinksFiles: await hashWheelhouse(source.findLinks), allowSdist: source.allowSdist },
  });
  const venvDirectory = steps.venvDirectory(key);
  const info = (reused: boolean, installDurationMs: number): EnvironmentInfo => ({ key, reused, installer, installDurationMs });
  if (steps.isComplete?.(key) === true) {
    steps.onEvent({ type: 'install-done', reused: true, durationMs: 0, installer });
    return installedEnvironment(info(true, 0), venvDirectory);
  }

  const started = Date.now();
  steps.onEvent({ type: 'install-start', requirements });
  const outcome = await steps.install(key, venvDirectory);
  const durationMs = Date.now() - started;
  if (outcome.exitCode !== 0) return { ok: false, info: info(false, durationMs), exitCode: outcome.exitCode, output: outcome.output };
  steps.onComplete?.(key, { reused: outcome.reused, durationMs });
  steps.onEvent({ type: 'install-done', reused: outcome.reused, durationMs, installer });
  return installedEnvironment(info(outcome.reused, durationMs), venvDirectory);
}

export function chooseInstaller(probe: Pick<PythonProbe, 'uv' | 'venv'>): Installer | undefined {
  if (probe.uv !== null) return 'uv';
  if (probe.venv) return 'pip';
  return undefined;
}

/** Where an environment's venv lives under `root`: the mount point in every container, or the local runner's envs directory. */
export function venvDirectoryFor(key: string, root: string): string {
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

/** The line of an installer's output that says what went wrong (pip's `ERROR:`, uv's `error:`). */
export function installFailureSummary(output: string): string {
  const lines = output.split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('pycage-install:'));
  const errors = lines.filter((line) => /^(?:ERROR|error)\b/.test(line));
  const chosen = errors.at(-1) ?? lines.at(-1) ?? 'the installer failed';
  return chosen.replace(/^(?:ERROR|error):\s*/, '');
}

/** The wheelhouse files of a --find-links directory (top level only, as pip reads it), with their stats. */
export async function listWheelhouse(directory: string): Promise<Array<{ name: string; file: string; size: number; mtimeMs: number }>> {
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
