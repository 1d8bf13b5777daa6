/**
 * What both runners share: requirement handling (`'auto'` asks the requirements stage), install
 * failures as results, projects, events, close-once semantics and the signal handlers. A runner
 * supplies four things: how it starts (returning what it found, its `Prepared` state, which every later
 * step is handed), how it builds an environment (through ensureEnvironment), how it executes a script
 * (through superviseRun, the run skeleton), and how it cleans up.
 */
import { PolicyError, PycageError, UsageError } from '../errors.js';
import { untilAborted } from '../abort.js';
import { maskSecretsIn, maskUrl } from '../index-url.js';
import { toLogger, type Logger } from '../logger.js';
import { installFailureSummary } from './environments/ensure-environment.js';
import { normalizeRequirements } from './environments/install-commands.js';
import { encodeRunPayload, filePayload, toBytes, type RunHeader } from './payload.js';
import { loadProject, newProjectName, saveProject } from './projects.js';
import { installFailureResult } from './result.js';
import { checkEnvironment, resolveRunLimits, type ResolvedRuntimeOptions, type RunLimits } from './settings.js';
import { registerOpenRuntime, unregisterOpenRuntime } from './signals.js';
import { InstallError } from './errors.js';
import { checkCloseOptions, checkCreateProjectOptions, checkProjectRunOptions, checkRunOptions, checkStartOptions } from './option-keys.js';
import type { PackageSource } from '../requirements/index.js';
import type {
  CloseOptions,
  CreateProjectOptions,
  EnvironmentInfo,
  Project,
  RequirementsOption,
  RunOptions,
  RunResult,
  Runtime,
  RuntimeEvent,
  RuntimeInfo,
} from './types.js';

/** The script's file name inside the run directory (it shows in tracebacks). */
export const scriptName = 'script.py';

export type EnvironmentResult =
  | { ok: true; info: EnvironmentInfo; python: string; binDirectory: string; venvDirectory: string }
  | { ok: false; info: EnvironmentInfo; exitCode: number; output: string };

export interface ExecuteRequest {
  code: string;
  options: RunOptions;
  limits: RunLimits;
  env: Record<string, string>;
  requirements: string[];
  environment: Extract<EnvironmentResult, { ok: true }> | undefined;
  /** Files next to the script, names checked, script name reserved. */
  files: { entries: Array<{ path: string; size: number }>; blobs: Uint8Array[] };
  stdin: Uint8Array | undefined;
  emit: (event: RuntimeEvent) => void;
}

/** What a runner found when it started; it extends this with what its builds and runs need (image, probe). */
export interface Prepared {
  info: RuntimeInfo;
}

export abstract class BaseRuntime<Ready extends Prepared = Prepared> implements Runtime {
  abstract readonly isolated: boolean;
  protected readonly options: ResolvedRuntimeOptions;
  protected readonly logger: Logger;
  #started: Promise<Ready> | undefined;
  #closing: Promise<void> | undefined;
  #registered = false;

  protected constructor(options: ResolvedRuntimeOptions) {
    this.options = options;
    this.logger = toLogger(options.logger, 'Runtime');
  }

  protected get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** Image, probe, pool: whatever the runner needs before its first run. Called once (again after a failure). */
  protected abstract prepare(abortSignal: AbortSignal | undefined): Promise<Ready>;
  protected abstract buildEnvironment(
    ready: Ready,
    requirements: string[],
    context: { emit: (event: RuntimeEvent) => void; abortSignal: AbortSignal | undefined },
  ): Promise<EnvironmentResult>;
  protected abstract execute(ready: Ready, request: ExecuteRequest): Promise<RunResult>;
  /** Lets go of everything the runtime holds; with `wait: false` it must not wait for Docker (see CloseOptions). */
  protected abstract shutdown(options: { wait: boolean }): Promise<void>;

  start(options: { abortSignal?: AbortSignal } = {}): Promise<RuntimeInfo> {
    checkStartOptions(options);
    return this.#prepared(options.abortSignal).then((ready) => ready.info);
  }

  /** What prepare() found, preparing once; a failed start (Docker down, image missing) is tried again next time. */
  #prepared(abortSignal: AbortSignal | undefined): Promise<Ready> {
    this.#throwIfClosed();
    if (!this.#registered) {
      this.#registered = true;
      registerOpenRuntime(this);
    }
    if (this.#started === undefined) {
      this.#started = this.prepare(abortSignal);
      this.#started.catch(() => {
        this.#started = undefined;
      });
    }
    return untilAborted(this.#started, abortSignal);
  }

  describe(): Promise<RuntimeInfo> {
    return this.start();
  }

  async runScript(code: string, options: RunOptions = {}): Promise<RunResult> {
    checkRunOptions(options);
    this.#throwIfClosed();
    if (typeof code !== 'string') throw new UsageError('runScript needs the script as a string.');
    const emit = this.#emitter(options.onEvent);
    const limits = resolveRunLimits(this.options, options);
    const env = checkEnvironment(options.env);
    const files = filePayload(options.files ?? {}, [scriptName]);
    const stdin = options.stdin === undefined ? undefined : toBytes(options.stdin);
    const ready = await this.#prepared(options.abortSignal);

    const requirements = await this.#resolveRequirements(code, options.requirements ?? 'none', ready.info, emit, options.abortSignal);
    let environment: Extract<EnvironmentResult, { ok: true }> | undefined;
    if (requirements.length > 0) {
      const built = await this.buildEnvironment(ready, requirements, { emit, abortSignal: options.abortSignal });
      if (!built.ok) {
        this.logger.warn(`installing ${requirements.join(' ')} failed (exit ${built.exitCode})`);
        const output = maskSecretsIn(built.output, [this.options.indexUrl]);
        const result = installFailureResult({
          requirements,
          environment: built.info,
          exitCode: built.exitCode,
          output,
          network: { mode: limits.network, blocked: [] },
        });
        if (result.stderr !== '') this.#safely(() => options.onStderr?.(result.stderr));
        return result;
      }
      environment = built;
    }
    this.#throwIfClosed();
    return this.execute(ready, { code, options, limits, env, requirements, environment, files, stdin, emit });
  }

  async createProject(options: CreateProjectOptions): Promise<Project> {
    checkCreateProjectOptions(options);
    this.#throwIfClosed();
    const emit = this.#emitter(options.onEvent);
    const name = options.name ?? newProjectName();
    const files = options.files ?? {};
    filePayload(files, [scriptName]);
    const ready = await this.#prepared(options.abortSignal);
    const requirements = await this.#resolveRequirements(options.code, options.requirements ?? 'auto', ready.info, emit, options.abortSignal);
    let environment: EnvironmentInfo | undefined;
    if (requirements.length > 0) {
      const built = await this.buildEnvironment(ready, requirements, { emit, abortSignal: options.abortSignal });
      if (!built.ok) {
        const output = maskSecretsIn(built.output, [this.options.indexUrl]);
        throw new InstallError(`Could not install the requirements of project ${name}: ${installFailureSummary(output)}`, {
          requirements,
          output,
        });
      }
      environment = built.info;
    }
    const project = await saveProject({ cacheDir: this.options.cacheDir, name, code: options.code, requirements, files, environment });
    this.logger.info(`project ${project.name} saved in ${project.directory}`);
    return project;
  }

  async runProject(name: string, options: Omit<RunOptions, 'requirements'> = {}): Promise<RunResult> {
    checkProjectRunOptions(options);
    this.#throwIfClosed();
    const project = await loadProject(this.options.cacheDir, name);
    return this.runScript(project.code, { ...options, requirements: project.requirements, files: { ...project.files, ...(options.files ?? {}) } });
  }

  close(options: CloseOptions = {}): Promise<void> {
    checkCloseOptions(options);
    this.#closing ??= (async () => {
      try {
        await this.shutdown({ wait: options.wait ?? true });
      } finally {
        unregisterOpenRuntime(this);
      }
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #throwIfClosed(): void {
    if (this.#closing !== undefined) throw new PycageError('This runtime is closed; create a new one.');
  }

  #emitter(local: ((event: RuntimeEvent) => void) | undefined): (event: RuntimeEvent) => void {
    return (event) => {
      this.#safely(() => this.options.onEvent?.(event));
      this.#safely(() => local?.(event));
    };
  }

  #safely(callback: () => void): void {
    try {
      callback();
    } catch (error) {
      this.logger.warn(`an event callback threw: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /**
   * The bootstrap's stdin for this run: the script, the caller's files and stdin, framed. Only where
   * the run's directories are differs between the runners.
   */
  protected runPayload(request: ExecuteRequest, directories: Pick<RunHeader, 'workDir' | 'tempDir'>): Buffer {
    const code = toBytes(request.code);
    const header: RunHeader = {
      workDir: directories.workDir,
      tempDir: directories.tempDir,
      script: scriptName,
      args: [...(request.options.args ?? [])],
      files: [{ path: scriptName, size: code.length }, ...request.files.entries],
      stdinSize: request.stdin === undefined ? null : request.stdin.length,
      outputDir: 'output',
    };
    return encodeRunPayload(header, [code, ...request.files.blobs, ...(request.stdin === undefined ? [] : [request.stdin])]);
  }

  /** What `describe()` reports: the probe's findings plus the limits and sources every run uses. */
  protected runtimeInfo(found: Pick<RuntimeInfo, 'isolated' | 'image' | 'pythonVersion' | 'installer' | 'gvisor'>): RuntimeInfo {
    const packageSource: PackageSource = {};
    // Shown, logged and printed by callers: the credentials stay with the installer (see #resolveRequirements).
    if (this.options.indexUrl !== undefined) packageSource.indexUrl = maskUrl(this.options.indexUrl);
    if (this.options.findLinks !== undefined) packageSource.findLinks = this.options.findLinks;
    if (this.options.noIndex) packageSource.noIndex = true;
    return {
      ...found,
      network: this.options.network,
      memoryBytes: this.options.memoryBytes,
      cpus: this.options.cpus,
      timeoutMs: this.options.timeoutMs,
      packageSource,
    };
  }

  async #resolveRequirements(
    code: string,
    option: RequirementsOption,
    info: RuntimeInfo,
    emit: (event: RuntimeEvent) => void,
    abortSignal: AbortSignal | undefined,
  ): Promise<string[]> {
    if (option === 'none') return [];
    if (option !== 'auto') {
      if (!Array.isArray(option)) throw new UsageError(`requirements must be 'auto', 'none' or a list, not ${JSON.stringify(option)}.`);
      const { checkRequirements } = await import('../requirements/index.js');
      checkRequirements(option, { allowUrlRequirements: this.options.allowUrlRequirements });
      return normalizeRequirements(option);
    }
    const { requirementsForScript } = await import('../requirements/index.js');
    const inferred = await requirementsForScript({
      code,
      author: 'user',
      pythonVersion: info.pythonVersion,
      // info's index URL has its credentials masked; pinning needs them.
      packageSource: { ...info.packageSource, indexUrl: this.options.indexUrl },
      policy: this.options,
      cacheDir: this.options.cacheDir,
      abortSignal,
      logger: this.options.logger,
    });
    // A package nobody vouches for (an import name used as is) is not installed without a yes, and a
    // library run has nobody to ask: it is refused unless allowPackages names it.
    const refused = inferred.refused;
    if (refused.length > 0) {
      throw new PolicyError(`Refused: ${refused.map((item) => item.message).join(' ')} (runtime option allowPackages)`, {
        refused: refused.map((item) => item.name),
      });
    }
    const requirements = normalizeRequirements(inferred.requirements);
    emit({ type: 'requirements', requirements, warnings: inferred.warnings });
    for (const warning of inferred.warnings) this.logger.warn(warning);
    return requirements;
  }
}
