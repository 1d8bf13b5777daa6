/**
 * What an environment install runs, as argv lists, and which cache key it lands under. Pure functions:
 * the uv path cannot run on machines without uv, so its exact commands are checked here by unit tests,
 * and the install script (install.py) only executes what it is given.
 */
import { createHash } from 'node:crypto';
import { UsageError } from '../errors.js';
import type { Installer } from './types.js';

export interface InstallCommand {
  argv: string[];
  /** Added to the install process's environment for this command. */
  env: Record<string, string>;
}

export interface PackageSourceOptions {
  indexUrl?: string | undefined;
  noIndex?: boolean | undefined;
  /** Directory as seen by the installer (inside the install container, or on the host for local runs). */
  findLinks?: string | undefined;
}

export interface InstallPlanInput extends PackageSourceOptions {
  installer: Installer;
  /** The base interpreter the venv is made from (the probe's `sys.executable`). */
  python: string;
  /** `uv` executable, when the installer is uv. @default 'uv' */
  uv?: string | undefined;
  /** The venv to create. */
  venvDirectory: string;
  requirements: readonly string[];
  /** Scratch space for the installer's cache. */
  cacheDirectory: string;
  /**
   * Let the installer build source distributions (their build code runs at install). Without it the
   * install takes wheels only: `--only-binary :all:` for pip, `--no-build` for uv. @default false
   */
  allowSdist?: boolean | undefined;
}

/** pip's defaults (15 s, 5 retries with backoff) make an unreachable index take minutes to report. */
export const pipNetworkOptions = ['--timeout', '10', '--retries', '1'] as const;

/**
 * Trimmed, de-duplicated, sorted; comments and blank lines dropped. Anything that would read as an
 * option (`--index-url=...`) is refused: a requirement list must not be able to redirect the installer.
 */
export function normalizeRequirements(requirements: readonly string[]): string[] {
  const seen = new Set<string>();
  for (const raw of requirements) {
    const requirement = raw.replace(/\s+#.*$/, '').trim();
    if (requirement === '' || requirement.startsWith('#')) continue;
    if (requirement.startsWith('-')) {
      throw new UsageError(`Requirement ${JSON.stringify(requirement)} looks like an installer option; give package names only.`);
    }
    if (/[\r\n\0]/.test(requirement)) throw new UsageError(`Requirement ${JSON.stringify(requirement)} contains a line break.`);
    seen.add(requirement);
  }
  return [...seen].sort();
}

export interface EnvironmentKeyInput {
  /** Image id (`sha256:...`) for the sandbox; the interpreter's real path for the local runner. */
  base: string;
  pythonVersion: string;
  installer: Installer;
  requirements: readonly string[];
}

/** sha256 of (image id + Python version + installer + sorted requirements), hex. */
export function environmentKey(input: EnvironmentKeyInput): string {
  const material = JSON.stringify([input.base, input.pythonVersion, input.installer, normalizeRequirements(input.requirements)]);
  return createHash('sha256').update(material).digest('hex');
}

export function sourceArguments(options: PackageSourceOptions): string[] {
  const argv: string[] = [];
  if (options.noIndex === true) argv.push('--no-index');
  else if (options.indexUrl !== undefined) argv.push('--index-url', options.indexUrl);
  if (options.findLinks !== undefined) argv.push('--find-links', options.findLinks);
  return argv;
}

export function venvPython(venvDirectory: string): string {
  return `${venvDirectory}/bin/python`;
}

/** The commands that build the venv and install the requirements into it, in order. */
export function installCommands(input: InstallPlanInput): InstallCommand[] {
  const requirements = normalizeRequirements(input.requirements);
  const python = venvPython(input.venvDirectory);
  if (input.installer === 'uv') {
    const uv = input.uv ?? 'uv';
    const env = {
      UV_CACHE_DIR: input.cacheDirectory,
      // The cache is on another filesystem than the volume: copy rather than fail to hardlink.
      UV_LINK_MODE: 'copy',
      // Use the image's interpreter; never fetch one.
      UV_PYTHON_DOWNLOADS: 'never',
      UV_HTTP_TIMEOUT: '10',
      UV_NO_CONFIG: '1',
    };
    const commands: InstallCommand[] = [{ argv: [uv, 'venv', '--python', input.python, input.venvDirectory], env }];
    if (requirements.length > 0) {
      const wheelsOnly = input.allowSdist === true ? [] : ['--no-build'];
      commands.push({ argv: [uv, 'pip', 'install', '--python', python, ...wheelsOnly, ...sourceArguments(input), '--', ...requirements], env });
    }
    return commands;
  }
  const env = { PIP_CACHE_DIR: input.cacheDirectory, PIP_CONFIG_FILE: '/dev/null' };
  const commands: InstallCommand[] = [{ argv: [input.python, '-m', 'venv', input.venvDirectory], env }];
  if (requirements.length > 0) {
    commands.push({
      argv: [
        python,
        '-m',
        'pip',
        'install',
        '--no-input',
        '--disable-pip-version-check',
        '--progress-bar',
        'off',
        ...pipNetworkOptions,
        ...(input.allowSdist === true ? [] : ['--only-binary', ':all:']),
        ...sourceArguments(input),
        '--',
        ...requirements,
      ],
      env,
    });
  }
  return commands;
}
