/**
 * What an environment install runs, as argv lists, and which cache key it lands under. Pure functions:
 * the uv path cannot run on machines without uv, so its exact commands are checked here by unit tests,
 * and the install script (install.py) only executes what it is given.
 */
import { createHash } from 'node:crypto';
import { UsageError } from '../../errors.js';
import { hasCredentials, plainHttpHost, urlWithoutCredentials } from '../../index-url.js';
import type { Installer } from '../types.js';

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

/** Where an environment's packages come from, as far as it decides what gets installed. */
export interface EnvironmentSource {
  /** Credentials in it are ignored: the same index with another user's token holds the same packages. */
  indexUrl?: string | undefined;
  noIndex?: boolean | undefined;
  /** The wheelhouse files of --find-links, with the sha256 (hex) of their contents. */
  findLinksFiles?: ReadonlyArray<{ name: string; sha256: string }> | undefined;
  /** Source distributions allowed: the same pins may then be built from sources rather than wheels. */
  allowSdist?: boolean | undefined;
}

export interface EnvironmentKeyInput {
  /** Image id (`sha256:...`) for the sandbox; the interpreter's real path for the local runner. */
  base: string;
  pythonVersion: string;
  installer: Installer;
  requirements: readonly string[];
  /** Where the packages come from. @default PyPI, no find-links */
  source?: EnvironmentSource | undefined;
}

/**
 * sha256 of (image id + Python version + installer + sorted requirements + package source), hex. The
 * source counts because `pkg==1.0` from a mirror or a wheelhouse need not be PyPI's `pkg==1.0`.
 */
export function environmentKey(input: EnvironmentKeyInput): string {
  const source = input.source ?? {};
  const noIndex = source.noIndex === true;
  const parts: unknown[] = [input.base, input.pythonVersion, input.installer, normalizeRequirements(input.requirements)];
  // Left out when there is nothing to say, so environments built from PyPI alone keep their keys.
  if (source.allowSdist === true) parts.push({ allowSdist: true });
  if (noIndex || source.indexUrl !== undefined || (source.findLinksFiles?.length ?? 0) > 0) {
    parts.push({
      indexUrl: noIndex ? null : source.indexUrl === undefined ? null : urlWithoutCredentials(source.indexUrl),
      noIndex,
      findLinks: [...(source.findLinksFiles ?? [])].map((file) => `${file.name} ${file.sha256}`).sort(),
    });
  }
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/** The `findLinksFiles` of `environmentKey`, from the wheelhouse files themselves. */
export function findLinksFileHashes(files: ReadonlyArray<{ name: string; data: Uint8Array }>): Array<{ name: string; sha256: string }> {
  return files.map((file) => ({ name: file.name, sha256: createHash('sha256').update(file.data).digest('hex') }));
}

/**
 * The installer's source options. An index URL with credentials is not among them: it goes in the
 * command's environment (see `sourceEnvironment`), because install.py logs each command line and `ps`
 * shows it. An `http://` index is trusted for its host: the user named it, and pip and uv refuse plain
 * HTTP elsewhere than localhost ("not a trusted or secure host").
 */
export function sourceArguments(options: PackageSourceOptions, installer: Installer = 'pip'): string[] {
  const argv: string[] = [];
  if (options.noIndex === true) argv.push('--no-index');
  else if (options.indexUrl !== undefined) {
    if (!hasCredentials(options.indexUrl)) argv.push('--index-url', options.indexUrl);
    const host = plainHttpHost(options.indexUrl);
    if (host !== undefined) argv.push(installer === 'uv' ? '--allow-insecure-host' : '--trusted-host', host);
  }
  if (options.findLinks !== undefined) argv.push('--find-links', options.findLinks);
  return argv;
}

/** The index URL with its credentials, for the installer's environment only (`PIP_INDEX_URL`, `UV_INDEX_URL`). */
export function sourceEnvironment(options: PackageSourceOptions, installer: Installer): Record<string, string> {
  if (options.noIndex === true || options.indexUrl === undefined || !hasCredentials(options.indexUrl)) return {};
  return installer === 'uv' ? { UV_INDEX_URL: options.indexUrl } : { PIP_INDEX_URL: options.indexUrl };
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
      commands.push({
        argv: [uv, 'pip', 'install', '--python', python, ...wheelsOnly, ...sourceArguments(input, 'uv'), '--', ...requirements],
        env: { ...env, ...sourceEnvironment(input, 'uv') },
      });
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
        ...sourceArguments(input, 'pip'),
        '--',
        ...requirements,
      ],
      env: { ...env, ...sourceEnvironment(input, 'pip') },
    });
  }
  return commands;
}
