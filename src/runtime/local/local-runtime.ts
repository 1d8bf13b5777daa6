/**
 * The local runner (`isolate: false`): the script runs as a plain process of this machine's python3,
 * with NO isolation at all, for machines without Docker and for debugging. It keeps everything else of
 * the contract: the same bootstrap and result shape, environments cached as venvs under
 * `<cacheDir>/envs/<key>` (built by the same install script, with the same per-key lock), the output
 * cap, and a timeout that kills the whole process group (the script starts in a group of its own).
 * Memory, CPU, pids and network limits are not enforced here.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readOutputDirectory } from '../artifacts.js';
import { BaseRuntime, type EnvironmentResult, type ExecuteRequest, type Prepared } from '../base-runtime.js';
import { chooseInstaller, ensureEnvironment, venvDirectoryFor } from '../environments/ensure-environment.js';
import { ImageError } from '../errors.js';
import { parseProbe, type PythonProbe } from '../probe.js';
import { loadPythonSource } from '../python/sources.js';
import { keepArtifacts, noArtifacts, superviseRun } from '../run-skeleton.js';
import { scriptEnvironment } from '../script-environment.js';
import type { ResolvedRuntimeOptions } from '../settings.js';
import { RuntimeTracker } from '../tracker.js';
import type { RunResult, RuntimeEvent } from '../types.js';
import { installLocally, localEnvironmentsDirectory } from './local-environments.js';
import { runHelper, runScriptProcess, signalExitCode, type ProcessGroup, type ProcessOutcome } from './processes.js';

export const noIsolationWarning = 'isolate: false runs model-written code on this machine with no sandbox';

/** The PATH a local script gets (plus its venv's bin): enough to find system tools, nothing personal. */
const minimalPath = '/usr/local/bin:/usr/bin:/bin';

/** The host's PATH, used only to find the interpreter and the installers; the script never sees it. */
function hostPath(): string {
  return process.env.PATH ?? minimalPath;
}

/** What the local runner found at start: this machine's Python. */
interface LocalReady extends Prepared {
  probe: PythonProbe;
}

export class LocalRuntime extends BaseRuntime<LocalReady> {
  readonly isolated = false;
  /** The scripts' process groups, killed on close. */
  readonly #running = new RuntimeTracker<ProcessGroup>();

  constructor(options: ResolvedRuntimeOptions) {
    super(options);
    // To the caller's logger, never to the console: the library does not print (the CLI says it its own way).
    this.logger.warn(noIsolationWarning);
  }

  protected async prepare(): Promise<LocalReady> {
    const source = await loadPythonSource('probe');
    let outcome: ProcessOutcome;
    try {
      outcome = await runHelper(this.options.python, ['-I', '-c', source], { env: { PATH: hostPath(), LANG: 'C.UTF-8' } });
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
    const { cacheDir, indexUrl, noIndex, findLinks, allowSdist } = this.options;
    const source = { indexUrl, noIndex, findLinks, allowSdist };
    return ensureEnvironment({
      base: probe.executable,
      probe,
      installer,
      requirements,
      source,
      venvDirectory: (key) => venvDirectoryFor(key, localEnvironmentsDirectory(cacheDir)),
      install: (key, venvDirectory) =>
        installLocally({ key, venvDirectory, probe, installer, requirements, source, cacheDir, hostPath: hostPath(), abortSignal: context.abortSignal }),
      onEvent: context.emit,
    });
  }

  protected async execute({ probe }: LocalReady, request: ExecuteRequest): Promise<RunResult> {
    const { options } = request;
    const workDir = await mkdtemp(path.join(os.tmpdir(), 'pycage-run-'));
    try {
      const payload = this.runPayload(request, { workDir, tempDir: workDir });
      const outputDir = path.join(workDir, 'output');
      // The sandbox's variables, with this run's own directory for home and output.
      const env = { ...scriptEnvironment({ path: minimalPath, home: workDir, outputDirectory: outputDir, environment: request.environment }), ...request.env };
      const bootstrap = await loadPythonSource('bootstrap');
      let group: ProcessGroup | undefined;
      return await superviseRun(request, {
        cancelledMessage: 'The run was cancelled; its processes were killed.',
        stop: () => group?.kill(),
        abort: () => group?.kill(),
        runScript: async (run) => {
          try {
            return await runScriptProcess(request.environment?.python ?? probe.executable, ['-c', bootstrap], {
              cwd: workDir,
              env,
              input: payload,
              onOutput: (stream, data) => run.collector.write(stream, data),
              onStart: (started) => {
                group = started;
                this.#running.use(started);
              },
            });
          } finally {
            if (group !== undefined) this.#running.doneWith(group);
          }
        },
        afterScript: async (outcome) => ({
          exitCode: outcome.exitCode ?? signalExitCode(outcome.signal),
          oomKilled: false,
          // What a timed-out script wrote so far is kept too (its processes are dead by now).
          ...(options.outputDir === undefined ? noArtifacts() : await keepArtifacts(options.outputDir, await readOutputDirectory(outputDir), { logger: this.logger })),
        }),
        // The local runner cannot restrict the network: the script has the host's own.
        network: () => ({ mode: 'open', blocked: [] }),
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
