/**
 * The local runner (`isolate: false`): the script runs as a plain process of this machine's python3,
 * with NO isolation at all, for machines without Docker and for debugging. It keeps everything else of
 * the contract: the same bootstrap and result shape, environments cached as venvs under
 * `<cacheDir>/envs/<key>` (built by the same install script, with the same per-key lock), the output
 * cap, and a timeout that kills the whole process group (the script starts in a group of its own).
 * Memory, CPU, pids and network limits are not enforced here.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { throwIfAborted } from '../../abort.js';
import { AbortedError } from '../../errors.js';
import { displayName, readOutputDirectory, writeArtifacts } from '../artifacts.js';
import { BaseRuntime, type EnvironmentResult, type ExecuteRequest, type Prepared } from '../base-runtime.js';
import {
  chooseInstaller,
  hashWheelhouse,
  installedEnvironment,
  installExitCode,
  installStatus,
  installTimeoutMessage,
  installTimeoutMs,
  venvDirectoryFor,
} from '../environments/environment.js';
import { ImageError } from '../errors.js';
import { environmentKey, installCommands } from '../environments/install-commands.js';
import { OutputCollector } from '../output.js';
import { encodePayload } from '../payload.js';
import { parseProbe, type PythonProbe } from '../probe.js';
import { loadPythonSource } from '../python/sources.js';
import type { StopReason } from '../result.js';
import { scriptEnvironment } from '../script-environment.js';
import type { ResolvedRuntimeOptions } from '../settings.js';
import { RuntimeTracker, type Tracked } from '../tracker.js';
import type { Artifact, RefusedArtifact, RunResult, RuntimeEvent } from '../types.js';

export const noIsolationWarning = 'isolate: false runs model-written code on this machine with no sandbox';

/** The PATH a local script gets (plus its venv's bin): enough to find system tools, nothing personal. */
const minimalPath = '/usr/local/bin:/usr/bin:/bin';

interface ProcessOutcome {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Kills a process group started with `detached: true` (the leader's pid names the group). */
function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/**
 * Runs a trusted helper (probe, install) with the host's python, stdin bytes in, text out. It gets a
 * process group of its own, so an abort kills pip along with the install script that started it.
 */
function runHelper(command: string, args: string[], options: { input?: Uint8Array; env: NodeJS.ProcessEnv; abortSignal?: AbortSignal | undefined }): Promise<ProcessOutcome> {
  return new Promise((resolve, reject) => {
    // Thrown in the executor: the promise rejects with it.
    throwIfAborted(options.abortSignal);
    const child = spawn(command, args, { env: options.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    const onAbort = (): void => killGroup(child.pid);
    options.abortSignal?.addEventListener('abort', onAbort, { once: true });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.on('error', (error) => {
      options.abortSignal?.removeEventListener('abort', onAbort);
      reject(error);
    });
    child.on('close', (exitCode, signal) => {
      options.abortSignal?.removeEventListener('abort', onAbort);
      if (options.abortSignal?.aborted) reject(new AbortedError(undefined, { cause: options.abortSignal.reason }));
      else resolve({ exitCode, signal, stdout, stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? Buffer.alloc(0));
  });
}

/**
 * A script's process group as the tracker sees it: ending it, with or without waiting, is one SIGKILL
 * to the group, which takes effect at once.
 */
function processGroup(child: ChildProcess): Tracked {
  const ended = new Promise<void>((resolve) => {
    child.once('close', () => resolve());
    child.once('error', () => resolve());
  });
  return {
    ended,
    destroy: async () => killGroup(child.pid),
    abandon: () => killGroup(child.pid),
  };
}

function signalExitCode(signal: NodeJS.Signals | null): number {
  const number = signal === null ? undefined : os.constants.signals[signal];
  return number === undefined ? 1 : 128 + number;
}

/** What the local runner found at start: this machine's Python. */
interface LocalReady extends Prepared {
  probe: PythonProbe;
}

export class LocalRuntime extends BaseRuntime<LocalReady> {
  readonly isolated = false;
  /** The scripts' process groups, killed on close. */
  readonly #running = new RuntimeTracker<Tracked>();

  constructor(options: ResolvedRuntimeOptions) {
    super(options);
    // To the caller's logger, never to the console: the library does not print (the CLI says it its own way).
    this.logger.warn(noIsolationWarning);
  }

  protected async prepare(): Promise<LocalReady> {
    const source = await loadPythonSource('probe');
    let outcome: ProcessOutcome;
    try {
      // The host's PATH is used only to find the interpreter; the script never sees it.
      outcome = await runHelper(this.options.python, ['-I', '-c', source], { env: { PATH: process.env.PATH ?? minimalPath, LANG: 'C.UTF-8' } });
    } catch (error) {
      throw new ImageError(`Cannot run ${this.options.python} on this machine: ${(error as Error).message}`, {
        image: 'local',
        cause: error,
        hint: 'Install Python 3, or pass the interpreter with the `python` option.',
      });
    }
    const probe = outcome.exitCode === 0 ? parseProbe(outcome.stdout) : undefined;
    if (probe === undefined) {
      throw new ImageError(`${this.options.python} did not answer the probe: ${outcome.stderr.trim().slice(0, 300)}`, { image: 'local' });
    }
    const info = this.runtimeInfo({
      isolated: false,
      image: 'local',
      pythonVersion: probe.pythonVersion,
      installer: chooseInstaller(probe) ?? 'pip',
      gvisor: false,
    });
    return { info, probe };
  }

  protected async buildEnvironment(
    { probe }: LocalReady,
    requirements: string[],
    context: { emit: (event: RuntimeEvent) => void; abortSignal: AbortSignal | undefined },
  ): Promise<EnvironmentResult> {
    const installer = chooseInstaller(probe) ?? 'pip';
    const key = environmentKey({
      base: probe.executable,
      pythonVersion: probe.pythonVersion,
      installer,
      requirements,
      source: { indexUrl: this.options.indexUrl, noIndex: this.options.noIndex, findLinksFiles: await hashWheelhouse(this.options.findLinks), allowSdist: this.options.allowSdist },
    });
    const envsDir = path.join(this.options.cacheDir, 'envs');
    const venvDirectory = venvDirectoryFor(key, envsDir);
    await mkdir(envsDir, { recursive: true });
    const started = Date.now();
    context.emit({ type: 'install-start', requirements });
    const commands = installCommands({
      installer,
      python: probe.executable,
      uv: probe.uv ?? undefined,
      venvDirectory,
      requirements,
      cacheDirectory: path.join(this.options.cacheDir, 'installer-cache'),
      indexUrl: this.options.indexUrl,
      noIndex: this.options.noIndex,
      findLinks: this.options.findLinks,
      allowSdist: this.options.allowSdist,
    });
    const payload = encodePayload({ key, envsDir, installer, requirements, commands, wheelhouse: null });
    const timeout = AbortSignal.timeout(installTimeoutMs);
    const outcome = await runHelper(probe.executable, ['-I', '-c', await loadPythonSource('install')], {
      input: payload,
      env: { PATH: process.env.PATH ?? minimalPath, HOME: os.homedir(), LANG: 'C.UTF-8', PIP_NO_INPUT: '1' },
      abortSignal: context.abortSignal === undefined ? timeout : AbortSignal.any([context.abortSignal, timeout]),
    }).catch((error: unknown) => {
      if (context.abortSignal?.aborted) throw new AbortedError(undefined, { cause: error });
      if (timeout.aborted) return { exitCode: 1, signal: null, stdout: '', stderr: installTimeoutMessage };
      throw error;
    });
    const durationMs = Date.now() - started;
    const status = installStatus(outcome.stdout);
    const exitCode = installExitCode(outcome.exitCode, status);
    if (exitCode !== 0) {
      return { ok: false, info: { key, reused: false, installer, installDurationMs: durationMs }, exitCode, output: outcome.stderr };
    }
    const reused = status === 'reused';
    context.emit({ type: 'install-done', reused, durationMs, installer });
    return installedEnvironment({ key, reused, installer, installDurationMs: durationMs }, venvDirectory);
  }

  protected async execute({ probe }: LocalReady, request: ExecuteRequest): Promise<RunResult> {
    const { options, limits } = request;
    const workDir = await mkdtemp(path.join(os.tmpdir(), 'pycage-run-'));
    try {
      const payload = this.runPayload(request, { workDir, tempDir: workDir });
      // The sandbox's variables, with this run's own directory for home and output.
      const env: Record<string, string> = {
        ...scriptEnvironment({ path: minimalPath, home: workDir, outputDirectory: path.join(workDir, 'output'), environment: request.environment }),
        ...request.env,
      };
      const bootstrap = await loadPythonSource('bootstrap');
      const collector = new OutputCollector({
        limitBytes: limits.outputLimitBytes,
        onStdout: options.onStdout,
        onStderr: options.onStderr,
        onLimit: () => stop('output-limit'),
      });
      let stopReason: StopReason;
      let child: ChildProcess | undefined;
      let running: Tracked | undefined;
      const stop = (reason: Exclude<StopReason, undefined>): void => {
        if (stopReason !== undefined) return;
        stopReason = reason;
        killGroup(child?.pid);
      };
      throwIfAborted(options.abortSignal);
      const onAbort = (): void => stop('abort');
      options.abortSignal?.addEventListener('abort', onAbort, { once: true });
      request.emit({ type: 'run-start' });
      const started = performance.now();
      let timer: NodeJS.Timeout | undefined;
      let outcome: { exitCode: number | null; signal: NodeJS.Signals | null };
      try {
        outcome = await new Promise((resolve, reject) => {
          // detached: a process group of its own, so a kill reaches every process the script started.
          const spawned = spawn(request.environment?.python ?? probe.executable, ['-c', bootstrap], { cwd: workDir, env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
          child = spawned;
          running = processGroup(spawned);
          this.#running.use(running);
          timer = setTimeout(() => stop('timeout'), limits.timeoutMs);
          spawned.stdout!.on('data', (data: Buffer) => collector.write('stdout', data));
          spawned.stderr!.on('data', (data: Buffer) => collector.write('stderr', data));
          spawned.stdin!.on('error', () => undefined);
          spawned.stdin!.end(payload);
          spawned.on('error', reject);
          let exited: { exitCode: number | null; signal: NodeJS.Signals | null } | undefined;
          spawned.on('exit', (exitCode, signal) => {
            exited = { exitCode, signal };
            // Whatever the script left running in its group goes with it (and releases stdout).
            killGroup(child?.pid);
          });
          spawned.on('close', (exitCode, signal) => resolve(exited ?? { exitCode, signal }));
        });
      } finally {
        clearTimeout(timer);
        options.abortSignal?.removeEventListener('abort', onAbort);
        if (running !== undefined) this.#running.doneWith(running);
      }
      const durationMs = Math.round(performance.now() - started);
      if (stopReason === 'abort') throw new AbortedError('The run was cancelled; its processes were killed.', { cause: options.abortSignal?.reason });

      let artifacts: Artifact[] = [];
      let refusedArtifacts: RefusedArtifact[] = [];
      // What a timed-out script wrote so far is kept too (its processes are dead by now).
      if (options.outputDir !== undefined) {
        const written = await writeArtifacts(options.outputDir, await readOutputDirectory(path.join(workDir, 'output')));
        refusedArtifacts = written.refused;
        const refused = written.refused.map((item) => `${displayName(item.name)} (${item.reason})`);
        if (refused.length > 0) this.logger.warn(`not copied from the output directory: ${refused.slice(0, 10).join(', ')}`);
        artifacts = written.artifacts;
      }
      return this.finishRun(request, collector, {
        exitCode: outcome.exitCode ?? signalExitCode(outcome.signal),
        stopReason,
        oomKilled: false,
        durationMs,
        artifacts,
        refusedArtifacts,
        artifactsError: undefined,
        // The local runner cannot restrict the network: the script has the host's own.
        network: { mode: 'open', blocked: [] },
      });
    } finally {
      await rm(workDir, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  /** Kills every running script's process group at once, so there is nothing to wait for either way. */
  protected async shutdown(options: { wait: boolean }): Promise<void> {
    await this.#running.close(options);
  }
}
