/**
 * The Docker runner: every script in a fresh, hardened container (taken warm from the pool), its files
 * and code sent in through one exec's stdin, its output streamed back live and capped, and the
 * container removed afterwards. A run ends in phases, each with its own bound:
 * 1. the script: until it exits, its time is up or its output passes the cap;
 * 2. the reap: every process of the sandbox user is killed (reap.py, as root) before anything else
 *    runs in the container; if that does not finish in time, the container is removed instead;
 * 3. the collection: the output directory and the OOM counter read by collect.py, as the sandbox user
 *    (no process of that user is alive any more to interfere), within its own bound;
 * 4. the removal, in the background.
 * An abort removes the container at once, in whatever phase, which kills everything in it for certain.
 *
 * In the code: execute() takes a container and hands the run to superviseRun (run-skeleton.ts, which
 * holds the timer, the output cap, the abort and the result for both runners); its `runScript` step is
 * phase 1, #afterScript phases 2 and 3, and #release phase 4.
 */
import { setMaxListeners } from 'node:events';
import type { Duplex } from 'node:stream';
import { AbortedError, ExitCode } from '../../errors.js';
import { readArtifactArchive, artifactLimitBytes, artifactLimitFiles } from '../artifacts.js';
import { BaseRuntime, type EnvironmentResult, type ExecuteRequest, type Prepared } from '../base-runtime.js';
import { removeContainers, sweepOrphans } from './cleanup.js';
import { outputDirectory, proxyEnvironment, workDirectory, type SandboxSettings } from './container-options.js';
import { daemonMessage, DockerClient } from './docker-client.js';
import { chooseInstaller } from '../environments/ensure-environment.js';
import { DockerEnvironments } from '../environments/environment.js';
import { DockerUnavailableError, SandboxError } from '../errors.js';
import { probeImage, resolveImage, type ResolvedImage } from './image.js';
import { containerLabels, labelFilter, newSessionId } from './labels.js';
import { OomWatcher } from './oom-watch.js';
import { lastJsonLine } from '../output.js';
import type { PythonProbe } from '../probe.js';
import { SandboxPool } from './pool.js';
import { loadConfinedSource, loadPythonSource } from '../python/sources.js';
import { createBlockedLog, createEgressPolicy, formatBlockedEntry, packageIndexAllowHosts, serveProxyConnection, type BlockedLog } from '../network/index.js';
import { keepArtifacts, noArtifacts, superviseRun, type RunControl, type RunEnd, type ScriptStopReason } from '../run-skeleton.js';
import { scriptEnvironment } from '../script-environment.js';
import { type ExecOptions, type ExecOutcome, Sandbox } from './sandbox.js';
import { resolveRunLimits, runtimeDefaults, type ResolvedRuntimeOptions, type RunLimits } from '../settings.js';
import { RuntimeTracker } from '../tracker.js';
import type { RunResult, RuntimeEvent } from '../types.js';

const gibibyte = 1024 * 1024 * 1024;

/** What the Docker runner found at start: the image every run uses and what its Python offers. */
interface DockerReady extends Prepared {
  image: ResolvedImage;
  probe: PythonProbe;
}

/** Longest the collection of a run's output directory may take before the container is removed without it. */
const collectBoundMs = 30_000;

/** What collect.py brought back: the OOM-kill count (null when unreadable) and the output directory as a tar. */
interface Collected {
  oomKills: number | null;
  archive: Buffer | undefined;
}

export class DockerRuntime extends BaseRuntime<DockerReady> {
  readonly isolated = true;
  readonly session = newSessionId();
  readonly #client: DockerClient;
  readonly #pool: SandboxPool;
  readonly #environments: DockerEnvironments;
  readonly #oom: OomWatcher;
  /** Every sandbox this runtime started, which run or install uses it, its removal, its proxied connections. */
  readonly #tracker = new RuntimeTracker<Sandbox>();
  /** Docker may hold containers of this runtime that the bookkeeping missed: close() looks for them. */
  #mayHaveContainers = false;
  #counter = 0;

  constructor(options: ResolvedRuntimeOptions) {
    super(options);
    this.#client = new DockerClient(options.docker);
    this.#pool = new SandboxPool({
      size: options.poolSize,
      maxSize: options.poolMaxSize,
      idleMs: options.poolIdleMs,
      create: (settings, key) => this.#createSandbox(settings, key),
      logger: this.logger.child('Pool'),
      onRest: (stats) => this.#notify({ type: 'pool-ready', ready: stats.ready }),
    });
    this.#oom = new OomWatcher({ client: this.#client, session: this.session, logger: this.logger.child('Sandbox') });
    this.#environments = new DockerEnvironments({
      client: this.#client,
      volumePrefix: options.environmentVolume,
      session: this.session,
      source: { indexUrl: options.indexUrl, noIndex: options.noIndex, findLinks: options.findLinks, allowSdist: options.allowSdist },
      logger: this.logger.child('Environment'),
    });
  }

  /** A runtime-level event (the image, the pool) to the runtime's observer, which cannot break the start or the pool. */
  #notify(event: RuntimeEvent): void {
    try {
      this.options.onEvent?.(event);
    } catch {
      // An observer's failure is its own; the image build and the pool go on, silently as before.
    }
  }

  protected async prepare(abortSignal: AbortSignal | undefined): Promise<DockerReady> {
    await this.#client.ping(abortSignal);
    await sweepOrphans(this.#client, this.logger);
    if (this.options.network === 'open') {
      this.logger.warn("network 'open': scripts get Docker's plain bridge and can reach this host, the LAN and other containers");
    }
    if (this.options.gvisor) await this.#checkGvisor();
    const image = await resolveImage({
      client: this.#client,
      image: this.options.image,
      logger: this.logger,
      onEvent: (event) => this.#notify(event),
      abortSignal,
    });
    this.#mayHaveContainers = true;
    // Not awaited, so the pool starts warming at once: start() never rejects (a failure is only
    // logged), and execute() awaits it before every run.
    void this.#oom.start();
    // The pool fills while the image is probed; the runtime's own limits, as a run without options gets.
    if (this.options.poolSize > 0) this.#pool.warm(this.#runSettings(image, resolveRunLimits(this.options, {})));
    const probe = await probeImage({
      client: this.#client,
      image,
      settings: this.#probeSettings(image),
      session: this.session,
      cacheDir: this.options.cacheDir,
      logger: this.logger.child('Sandbox'),
    });
    const info = this.runtimeInfo({
      isolated: true,
      image: image.reference,
      pythonVersion: probe.pythonVersion,
      installer: chooseInstaller(probe) ?? 'pip',
      gvisor: this.options.gvisor,
    });
    return { info, image, probe };
  }

  protected async buildEnvironment(
    { image, probe }: DockerReady,
    requirements: string[],
    context: { emit: (event: RuntimeEvent) => void; abortSignal: AbortSignal | undefined },
  ): Promise<EnvironmentResult> {
    return this.#environments.ensure({
      image,
      probe,
      requirements,
      settings: this.#installSettings(image),
      limitBytes: this.options.environmentLimitBytes,
      egress: (sandbox) => {
        // An install reaches the package index hosts and nothing else. What the proxy could not reach
        // goes into the install's output: pip only says "no matching distribution" for an index that
        // answered 502 through a proxy.
        const blocked = createBlockedLog();
        const failures = new Set<string>();
        sandbox.onConnection = this.#egress(
          sandbox,
          packageIndexAllowHosts(this.options.indexUrl === undefined ? {} : { indexUrl: this.options.indexUrl }),
          blocked,
          (message) => failures.add(message),
        );
        return () => [
          ...[...failures].map((message) => `${message} (through the egress proxy)`),
          ...blocked.entries().map((entry) => `pycage: the install was refused ${formatBlockedEntry(entry)} (only the package index is reachable)`),
        ];
      },
      onEvent: context.emit,
      abortSignal: context.abortSignal,
      track: (sandbox) => {
        this.#tracker.use(sandbox);
        return () => this.#tracker.doneWith(sandbox);
      },
    });
  }

  protected async execute({ image }: DockerReady, request: ExecuteRequest): Promise<RunResult> {
    const { limits } = request;
    const settings = this.#runSettings(image, limits, request.environment?.info.key);
    const script = await this.#scriptExec(image, request);
    const blocked = createBlockedLog();
    // A run with an environment keeps a container with that environment warm for the next one.
    if (request.environment !== undefined && this.options.poolSize > 0) this.#pool.warm(settings);

    let sandbox = await this.#acquire(settings);
    const useEgress = (target: Sandbox): void => {
      if (limits.network === 'public') target.onConnection = this.#egress(target, limits.allowHosts, blocked);
    };
    useEgress(sandbox);
    try {
      const result = await superviseRun(request, {
        cancelledMessage: 'The run was cancelled; its container was removed.',
        // The script's processes are killed (the exec then ends and the run goes on to collect what it
        // wrote); if they cannot be, the container goes.
        stop: (reason) => {
          this.logger.debug(`stopping the script in ${sandbox.name}: ${reason}`);
          const target = sandbox;
          void target.reap().then((reaped) => {
            if (!reaped) void target.destroy();
          });
        },
        abort: () => {
          this.logger.debug(`run in ${sandbox.name} cancelled`);
          void sandbox.destroy();
        },
        // Reopens the OOM events stream if the daemon restarted since the last run.
        beforeStart: () => this.#oom.start(),
        // Phase 1: the script's own interpreter runs the bootstrap, which then runs the script in-process.
        runScript: async (run) => {
          const execOptions = { ...script, onOutput: (stream: 'stdout' | 'stderr', data: Buffer) => run.collector.write(stream, data) };
          try {
            return await sandbox.run(execOptions);
          } catch (error) {
            // A pooled container that died while waiting (daemon restart, someone's prune) is replaced once.
            if (!(error instanceof SandboxError) || run.stopReason !== undefined || run.aborted || sandbox.alive) throw error;
            this.logger.warn(`${sandbox.name} was gone before the run started; using a fresh container`);
            this.#release(sandbox);
            sandbox = await this.#acquire(settings);
            useEgress(sandbox);
            run.restartClock();
            return await sandbox.run(execOptions);
          }
        },
        afterScript: (outcome, run) => this.#afterScript({ image, request, sandbox, outcome, run }),
        network: () => ({ mode: limits.network, blocked: blocked.entries() }),
        // The daemon answered when the run started: it went away under the run (stopped, restarted, the
        // connection to it cut), which "is Docker installed and running?" would not describe.
        explainFailure: (error) => (error instanceof DockerUnavailableError ? daemonStoppedDuringRun(error) : error),
      });
      this.logger.debug(`run in ${sandbox.name}: exit ${result.exitCode} in ${result.durationMs} ms`);
      return result;
    } finally {
      sandbox.onConnection = undefined;
      this.#release(sandbox);
    }
  }

  /** The exec that runs a script: the bootstrap, its stdin (script, files, stdin) and its variables. */
  async #scriptExec(image: ResolvedImage, request: ExecuteRequest): Promise<Omit<ExecOptions, 'onOutput' | 'user'>> {
    const { limits } = request;
    const bootstrap = await loadConfinedSource('bootstrap');
    const payload = this.runPayload(request, { workDir: workDirectory, tempDir: '/tmp' });
    const environment = scriptEnvironment({ path: image.path, home: workDirectory, outputDirectory, environment: request.environment });
    // The script's own loopback stays direct, unless the user named a loopback address: 127.0.0.1 in
    // --allow-host means this machine's, reached through the proxy.
    if (limits.network === 'public') Object.assign(environment, proxyEnvironment(!limits.allowHosts.some(namesLoopback)));
    Object.assign(environment, request.env);
    return { cmd: [request.environment?.python ?? 'python3', '-c', bootstrap], env: environment, stdin: payload };
  }

  /**
   * Phases 2 and 3, once the script's exec has ended: every process of the sandbox user is killed;
   * then, when wanted, the output directory and the OOM counter are collected, and the script's status
   * is judged (an OOM kill, a container stopped from outside, a missing interpreter).
   */
  async #afterScript(ended: { image: ResolvedImage; request: ExecuteRequest; sandbox: Sandbox; outcome: ExecOutcome; run: RunControl }): Promise<RunEnd> {
    const { image, request, sandbox, outcome, run } = ended;
    // close() (a SIGINT, say) removed the container under the run: that is a cancel, not a sandbox failure.
    if (run.stopReason === undefined && this.closed) throw new AbortedError('The runtime was closed while the script ran; its container was removed.');

    // Phase 2: nothing the script started survives into pycage's own steps.
    const reaped = sandbox.alive && (await sandbox.reap());
    run.throwIfCancelled();
    if (!reaped) void sandbox.destroy();

    const { outputDir } = request.options;
    const suspect = run.stopReason === undefined && mayBeOomKill(outcome, this.options.gvisor);
    let collected: Collected | undefined;
    if (reaped && sandbox.alive && (outputDir !== undefined || suspect)) {
      // Phase 3. The container may die while this starts (under gVisor an OOM takes it down a moment
      // after the exec ends): then there is nothing to collect, and the verdict comes from the events.
      collected = await this.#collectWithin(sandbox, image, outputDir !== undefined);
      run.throwIfCancelled();
    }
    const kept = outputDir !== undefined && collected?.archive !== undefined ? await this.#keepArchive(outputDir, collected.archive) : noArtifacts();
    const oomKilled = suspect && (await this.#oomVerdict(sandbox, collected?.oomKills ?? null, outcome.exitCode));
    const exitCode = scriptStatus(sandbox, outcome.exitCode, run.stopReason, oomKilled);
    this.#oom.forget(sandbox.id);
    if (request.environment !== undefined && interpreterMissing(request.environment.python, exitCode, run.output())) {
      // This process must stop taking the key for complete, so the next run builds it again.
      this.#environments.forget(request.environment.info.key);
    }
    return { exitCode, oomKilled, ...kept };
  }

  /** What comes out of the sandbox is hostile: a corrupt archive is a result that says so (artifactsError). */
  async #keepArchive(outputDir: string, archive: Buffer): Promise<Pick<RunEnd, 'artifacts' | 'refusedArtifacts' | 'artifactsError'>> {
    const read = await readArtifactArchive(archive);
    if (read.error !== undefined) this.logger.warn(read.error);
    const kept = await keepArtifacts(outputDir, read.files, { refusedBefore: read.refused, logger: this.logger });
    return { ...kept, artifactsError: read.error };
  }

  /**
   * Whether the memory limit killed a script whose ending looked like it (see mayBeOomKill).
   * @param oomKills the container's own cgroup counter, when collect.py could read it
   * @param exitCode the exec's status
   */
  async #oomVerdict(sandbox: Sandbox, oomKills: number | null, exitCode: number | null): Promise<boolean> {
    // The container's own cgroup counter, read in the container itself: the exact answer.
    if (oomKills !== null) return oomKills > 0;
    // No cgroup to read (gVisor, or the container is gone): Docker's events say, once the container has
    // died; removing it now (the run is over) makes that happen at once.
    const state = await sandbox.state();
    void sandbox.destroy();
    // A bound against a hang, not a wait: it ends at the `die`, which a loaded daemon can send late.
    const verdict = await this.#oom.verdict(sandbox.id, 30_000);
    // Nothing here stopped it (no stop reason, not closed), yet Docker was asked to: the container was
    // stopped from outside, and the script's status says nothing about the script.
    if (verdict === false && this.#oom.wasKilled(sandbox.id)) {
      this.#oom.forget(sandbox.id);
      throw new SandboxError(
        `The sandbox container ${sandbox.name} was stopped from outside pycage during the run (docker stop, kill or rm, or the Docker daemon shutting down), so the script did not finish.`,
        { containerId: sandbox.id },
      );
    }
    // With no events either, an unexplained SIGKILL is taken for the memory limit.
    return verdict ?? (state?.oomKilled === true || exitCode === ExitCode.memory);
  }

  /**
   * The egress proxy for one sandbox's connections: this policy, refusals recorded in `blocked`, and
   * upstream failures (a name that does not resolve, a refused connection) passed to `onFailure`.
   */
  #egress(sandbox: Sandbox, allowHosts: readonly string[], blocked: BlockedLog, onFailure?: (message: string) => void): (connection: Duplex) => void {
    const policy = createEgressPolicy({ allowHosts });
    const logger = this.logger.child('Egress');
    // What the proxy still does for a sandbox when it goes (a connect upstream in flight, a relay) stops
    // with it, and close() waits for that: no connection of a run outlives the runtime.
    const sandboxGone = new AbortController();
    // One listener per connection being served (the keeper allows 256 at once): no leak to warn about.
    setMaxListeners(0, sandboxGone.signal);
    void sandbox.ended.then(() => sandboxGone.abort());
    return (connection) => {
      const served = serveProxyConnection(connection, {
        policy,
        ...(this.options.hosts === undefined ? {} : { extraHosts: this.options.hosts }),
        onBlocked: blocked.record,
        logger,
        abortSignal: sandboxGone.signal,
      }).then(
        (outcome) => {
          if (outcome.kind === 'failed' && outcome.status >= 500) onFailure?.(outcome.message);
        },
        () => connection.destroy(),
      );
      this.#tracker.waitFor(served);
    };
  }

  protected async shutdown(options: { wait: boolean }): Promise<void> {
    this.#oom.close();
    if (!options.wait) {
      // Nothing more is sent to Docker, and removals in flight are given up, so no request holds the
      // process up: every container's lifeline is cut, its main process exits, and AutoRemove deletes
      // it (CloseOptions.wait). Sandboxes still starting are abandoned by the pool once started.
      void this.#pool.close({ wait: false });
      await this.#tracker.close({ wait: false });
      return;
    }
    await this.#pool.close();
    await this.#tracker.close({ wait: true });
    // Anything of this session the bookkeeping missed (a create whose answer never came back).
    if (this.#mayHaveContainers) {
      try {
        const leftovers = await this.#client.listContainers(labelFilter(this.session));
        // Failures are ignored: a leftover that cannot be removed now is the start-up sweep's business.
        await removeContainers(this.#client, leftovers, () => undefined);
      } catch (error) {
        this.logger.warn(`could not check for leftover containers: ${daemonMessage(error)}`);
      }
    }
  }

  async #acquire(settings: SandboxSettings): Promise<Sandbox> {
    const sandbox = await this.#pool.acquire(settings);
    this.#tracker.use(sandbox);
    if (this.closed) {
      this.#release(sandbox);
      throw new AbortedError('The runtime was closed.');
    }
    return sandbox;
  }

  #release(sandbox: Sandbox): void {
    this.#tracker.removing(sandbox, this.#pool.release(sandbox));
  }

  async #createSandbox(settings: SandboxSettings, key: string): Promise<Sandbox> {
    this.#counter += 1;
    const sandbox = await Sandbox.create({
      client: this.#client,
      settings,
      labels: containerLabels({ role: 'run', session: this.session, pool: key }),
      name: `pycage-${this.session}-run-${this.#counter}`,
      poolKey: key,
      logger: this.logger.child('Sandbox'),
    });
    return this.#tracker.started(sandbox);
  }

  /** collect.py within `collectBoundMs`; past it, or if the container is gone, nothing is collected. */
  async #collectWithin(sandbox: Sandbox, image: ResolvedImage, wantsArtifacts: boolean): Promise<Collected> {
    const nothing: Collected = { oomKills: null, archive: undefined };
    const late = new Promise<undefined>((resolve) => setTimeout(resolve, collectBoundMs, undefined).unref());
    const collected = this.#collect(sandbox, image, wantsArtifacts).catch((error: unknown) => {
      if (error instanceof SandboxError) return nothing;
      throw error;
    });
    const outcome = await Promise.race([collected, late]);
    if (outcome === undefined) {
      this.logger.warn(`collecting the output of ${sandbox.name} took longer than ${collectBoundMs / 1000} s; the container is removed without it`);
      void sandbox.destroy();
      return nothing;
    }
    return outcome;
  }

  /** Runs collect.py: the output directory as a tar (when wanted) and the OOM-kill count. */
  async #collect(sandbox: Sandbox, image: ResolvedImage, wantsArtifacts: boolean): Promise<Collected> {
    const source = await loadPythonSource('collect');
    const chunks: Buffer[] = [];
    let size = 0;
    let status = '';
    const cap = artifactLimitBytes + 16 * 1024 * 1024;
    await sandbox.exec({
      cmd: ['python3', '-I', '-S', '-c', source, outputDirectory, String(artifactLimitBytes), String(wantsArtifacts ? artifactLimitFiles : 0)],
      env: { PATH: image.path, LANG: 'C.UTF-8', HOME: workDirectory },
      onOutput: (stream, data) => {
        if (stream === 'stderr') {
          if (status.length < 1024 * 1024) status += data.toString('utf8');
          return;
        }
        size += data.length;
        if (size <= cap) chunks.push(data);
      },
    });
    const parsed = lastJsonLine(status) as { oomKills?: unknown } | null | undefined;
    const oomKills = typeof parsed?.oomKills === 'number' ? parsed.oomKills : null;
    return { oomKills, archive: wantsArtifacts && size <= cap ? Buffer.concat(chunks) : undefined };
  }

  async #checkGvisor(): Promise<void> {
    if (!(await this.#client.runtimes()).includes('runsc')) {
      throw new SandboxError('gVisor was asked for, but this Docker engine has no `runsc` runtime.', {
        hint: 'Install gVisor and register it in /etc/docker/daemon.json ("runtimes": {"runsc": {"path": "/usr/bin/runsc"}}), or run without --gvisor.',
      });
    }
  }

  #runSettings(image: ResolvedImage, limits: RunLimits, environmentKey?: string): SandboxSettings {
    return {
      environment: environmentKey === undefined ? undefined : { key: environmentKey, volume: this.#environments.volumeFor(environmentKey) },
      image: image.id,
      imagePath: image.path,
      network: limits.network,
      memoryBytes: limits.memoryBytes,
      cpus: limits.cpus,
      pidsLimit: this.options.pidsLimit,
      gvisor: this.options.gvisor,
      tmpBytes: runtimeDefaults.tmpBytes,
      workBytes: runtimeDefaults.workBytes,
    };
  }

  /** Installs never run under gVisor (their build code is confined like a script, but by runc). */
  #installSettings(image: ResolvedImage): SandboxSettings {
    return {
      image: image.id,
      imagePath: image.path,
      network: this.options.noIndex ? 'none' : 'public',
      // The environment is built in a tmpfs, whose pages count against the memory limit.
      memoryBytes: Math.max(this.options.memoryBytes, gibibyte) + this.options.environmentLimitBytes,
      cpus: Math.max(this.options.cpus, 1),
      pidsLimit: Math.max(this.options.pidsLimit, 512),
      gvisor: false,
      tmpBytes: gibibyte,
      workBytes: 64 * 1024 * 1024,
    };
  }

  #probeSettings(image: ResolvedImage): SandboxSettings {
    return {
      image: image.id,
      imagePath: image.path,
      network: 'none',
      memoryBytes: 256 * 1024 * 1024,
      cpus: 1,
      pidsLimit: 64,
      gvisor: false,
      tmpBytes: 16 * 1024 * 1024,
      workBytes: 16 * 1024 * 1024,
    };
  }
}

/** Whether an --allow-host entry names a loopback address (`127.0.0.1:8000`, `localhost`, `[::1]:80`). */
function namesLoopback(entry: string): boolean {
  return /^(?:127\.|localhost(?::|$)|\[::1\]|::1$)/i.test(entry.trim());
}

/**
 * Whether a script that pycage did not stop may have been killed for memory: killed by SIGKILL that
 * nobody here sent, or no status at all. Under gVisor an OOM takes the whole sandbox down and the exec's
 * status is whatever runsc says then (often 128), so every failed gVisor run is checked.
 */
function mayBeOomKill(outcome: ExecOutcome, gvisor: boolean): boolean {
  const { exitCode } = outcome;
  return exitCode === null || exitCode === ExitCode.memory || outcome.containerExited || (gvisor && exitCode !== 0);
}

/**
 * The script's status for its result. An exec that ended with no status, which pycage did not stop and
 * the memory limit did not kill, means the container itself stopped: that is a sandbox failure, thrown.
 */
function scriptStatus(sandbox: Sandbox, exitCode: number | null, stopReason: ScriptStopReason | undefined, oomKilled: boolean): number | null {
  if (exitCode !== null || stopReason !== undefined) return exitCode;
  if (oomKilled) return ExitCode.memory;
  const said = sandbox.lifelineOutput.trim();
  throw new SandboxError(`The sandbox container ${sandbox.name} stopped during the run${said ? `: ${said.slice(0, 300)}` : ''}.`, { containerId: sandbox.id });
}

/**
 * The environment's interpreter could not be started because its volume is gone or empty (`pycage
 * prune`): Docker fails the exec with 126 or 127 and a message naming the path. `exitCode` is the exec's
 * own status (the result may say 124 or 137 instead).
 */
function interpreterMissing(python: string, exitCode: number | null, output: { stdout: string; stderr: string }): boolean {
  return (exitCode === 126 || exitCode === 127) && `${output.stdout}${output.stderr}`.includes(python);
}

function daemonStoppedDuringRun(error: DockerUnavailableError): DockerUnavailableError {
  return new DockerUnavailableError(
    `The Docker daemon at ${error.endpoint} stopped during the run: the connection to it was cut and it no longer answers, so the script did not finish.`,
    { endpoint: error.endpoint, cause: error },
  );
}
