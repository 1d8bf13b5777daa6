/**
 * The local runner's environments: venvs under `<cacheDir>/envs/<key>`, built by install.py run with
 * this machine's python (the same script as in the sandbox, with its per-key lock and completion
 * marker, so two processes building one environment build it once). Installer caches live in
 * `<cacheDir>/installer-cache`. Nothing is confined here: this is the unsandboxed runner.
 */
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AbortedError } from '../../errors.js';
import {
  installExitCode,
  installStatus,
  installTimeoutMessage,
  installTimeoutMs,
  type InstallOutcome,
} from '../environments/ensure-environment.js';
import { installCommands, type PackageSourceOptions } from '../environments/install-commands.js';
import { encodePayload } from '../payload.js';
import type { PythonProbe } from '../probe.js';
import { loadPythonSource } from '../python/sources.js';
import type { Installer } from '../types.js';
import { runHelper } from './processes.js';

/** Where the local runner keeps its venvs, one folder per key. */
export function localEnvironmentsDirectory(cacheDir: string): string {
  return path.join(cacheDir, 'envs');
}

/**
 * Builds the venv of `key` at `venvDirectory` (or finds it built). An abort kills the install's process
 * group and throws; the install's own time limit makes a failed install that says so.
 */
export async function installLocally(request: {
  key: string;
  venvDirectory: string;
  probe: PythonProbe;
  installer: Installer;
  requirements: readonly string[];
  source: PackageSourceOptions & { allowSdist?: boolean | undefined };
  cacheDir: string;
  /** PATH for install.py, which finds the installers with it (the script itself never sees it). */
  hostPath: string;
  abortSignal: AbortSignal | undefined;
}): Promise<InstallOutcome> {
  const { key, probe, installer, source, abortSignal } = request;
  const requirements = [...request.requirements];
  const envsDir = localEnvironmentsDirectory(request.cacheDir);
  await mkdir(envsDir, { recursive: true });
  const commands = installCommands({
    installer,
    python: probe.executable,
    uv: probe.uv ?? undefined,
    venvDirectory: request.venvDirectory,
    requirements,
    cacheDirectory: path.join(request.cacheDir, 'installer-cache'),
    indexUrl: source.indexUrl,
    noIndex: source.noIndex,
    findLinks: source.findLinks,
    allowSdist: source.allowSdist,
  });
  const payload = encodePayload({ key, envsDir, installer, requirements, commands, wheelhouse: null });
  const timeout = AbortSignal.timeout(installTimeoutMs);
  const outcome = await runHelper(probe.executable, ['-I', '-c', await loadPythonSource('install')], {
    input: payload,
    env: { PATH: request.hostPath, HOME: os.homedir(), LANG: 'C.UTF-8', PIP_NO_INPUT: '1' },
    abortSignal: abortSignal === undefined ? timeout : AbortSignal.any([abortSignal, timeout]),
  }).catch((error: unknown) => {
    if (abortSignal?.aborted) throw new AbortedError(undefined, { cause: error });
    if (timeout.aborted) return { exitCode: 1, signal: null, stdout: '', stderr: installTimeoutMessage };
    throw error;
  });
  const status = installStatus(outcome.stdout);
  return { exitCode: installExitCode(outcome.exitCode, status), output: outcome.stderr, reused: status === 'reused' };
}
