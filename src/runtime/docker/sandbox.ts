/**
 * One started, hardened container and the execs run in it.
 *
 * The container's main process is the keeper (keeper.py, as root with CAP_KILL, CAP_SETUID and
 * CAP_SETGID only); `Sandbox.create` attaches to its stdin before starting it and keeps the attach
 * connection (the lifeline) open, unref'd so it never holds the Node process up (a run or a reap in
 * progress refs it, as an exec's stream did). When this process dies the connection closes, the keeper
 * exits, and AutoRemove deletes the container: nothing outlives its owner, even after SIGKILL, and the
 * script (another uid) cannot freeze the keeper to prevent it. Under network `public` the same
 * connection carries the egress tunnel: the script's proxied connections arrive through
 * `onConnection`.
 *
 * A script runs through the keeper, not a `docker exec` (`run`): the keeper forks a child that drops
 * to the sandbox user and execs the bootstrap, and the child's stdin, stdout and stderr travel on the
 * lifeline in frames of their own kinds beside the tunnel's (keeper.py documents them). One script per
 * container: a second `run` is refused here and in the keeper. The reap goes the same way (reap.py in
 * a forked child of the keeper). pycage's other steps (collect, store, installs) still use `exec`.
 * Stopping a run never relies on closing a stream (that does not stop the process inside): `destroy()`
 * removes the whole container, which kills every process in it for certain.
 */
import type { Duplex } from 'node:stream';
import { PycageError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { keeperUser, sandboxCreateOptions, sandboxUser, toEnvList, workDirectory, type SandboxSettings } from './container-options.js';
import { daemonMessage, statusCode, type DockerClient, type HijackedStream } from './docker-client.js';
import { SandboxError } from '../errors.js';
import { encodeFrame, Tunnel } from '../network/tunnel.js';
import { FrameDemuxer, type StreamName } from '../output.js';
import { loadPythonSource } from '../python/sources.js';
import { whileCreating } from './reaper.js';

/** Longest the reaping of a run's processes may take before the whole container is removed instead. */
export const reapBoundMs = 5000;
/** How long an exec stream may stay open after its container died before it is cut. */
const drainAfterExitMs = 500;
const lifelineOutputLimit = 16 * 1024;
/** Frame kinds of a run and a reap through the keeper (keeper.py); kinds below `run` are the tunnel's. */
const KeeperKind = { run: 16, stdin: 17, eof: 18, stdout: 19, stderr: 20, exit: 21, refused: 22, reap: 23, reaped: 24 } as const;
const frameHeaderBytes = 9;
/** Largest stdin frame sent to the keeper. */
const stdinFrameBytes = 64 * 1024;
/** A frame from the keeper longer than this is a broken peer: nothing more is read from it. */
const maxKeeperFrameBytes = 1024 * 1024;

interface KeeperRun {
  id: number;
  onOutput: (stream: StreamName, data: Buffer) => void;
  finish: (exitCode: number | null) => void;
  refuse: (message: string) => void;
}

export interface ExecOptions {
  cmd: string[];
  /** `root` is for pycage's own steps (collect, store): root with the keeper's capabilities. @default 'sandbox' (uid 10001, no capabilities) */
  user?: 'sandbox' | 'root';
  env: Record<string, string>;
  /** Written to the process's stdin, which is then closed. Without it the exec has no stdin. */
  stdin?: Uint8Array;
  onOutput: (stream: StreamName, data: Buffer) => void;
}

export interface ExecOutcome {
  /** null when the process's status could not be known (its container went away under it). */
  exitCode: number | null;
  /** True when the container stopped while the exec was running. */
  containerExited: boolean;
}

interface SandboxCreation {
  client: DockerClient;
  settings: SandboxSettings;
  labels: Record<string, string>;
  name: string;
  poolKey: string;
  logger: Logger;
}

export class Sandbox {
  readonly id: string;
  readonly name: string;
  readonly poolKey: string;
  readonly #client: DockerClient;
  readonly #lifeline: HijackedStream;
  readonly #logger: Logger;
  readonly #exited: Promise<void>;
  #alive = true;
  #destroying: Promise<void> | undefined;
  /** Aborts an in-flight removal request when the sandbox is abandoned. */
  readonly #removal = new AbortController();
  readonly #ended: Promise<void>;
  #markEnded!: () => void;
  #lifelineOutput = '';
  readonly #tunnel: Tunnel;
  #onConnection: ((connection: Duplex) => void) | undefined;
  /** Bytes of the keeper's stdout not yet split into frames. */
  #keeperPending: Buffer = Buffer.alloc(0);
  #keeperBroken = false;
  /** Stream ids of runs and reaps, this container's own (the tunnel numbers its connections apart). */
  #nextStream = 1;
  #runStarted = false;
  #run: KeeperRun | undefined;
  readonly #reaps = new Map<number, (status: number | undefined) => void>();
  /** Runs and reaps waiting on the keeper: while any is, the lifeline keeps Node running, as an exec's stream would. */
  #waiting = 0;

  private constructor(options: {
    client: DockerClient;
    id: string;
    lifeline: HijackedStream;
    name: string;
    poolKey: string;
    logger: Logger;
  }) {
    this.#client = options.client;
    this.#lifeline = options.lifeline;
    this.#logger = options.logger;
    this.id = options.id;
    this.name = options.name;
    this.poolKey = options.poolKey;
    this.#ended = new Promise((resolve) => (this.#markEnded = resolve));
    this.#tunnel = new Tunnel({
      send: (frame) => {
        if (!options.lifeline.destroyed) options.lifeline.write(frame);
      },
      onConnection: (connection) => {
        if (this.#onConnection === undefined) connection.destroy();
        else this.#onConnection(connection);
      },
    });
    // The keeper's stdout carries the tunnel's frames and the run's; its stderr (tini or python failing
    // to start) is kept as text.
    const demuxer = new FrameDemuxer((stream, data) => {
      if (stream === 'stdout') this.#fromKeeper(data);
      else if (this.#lifelineOutput.length < lifelineOutputLimit) this.#lifelineOutput += data.toString('utf8');
    });
    this.#exited = new Promise((resolve) => {
      const onGone = (): void => {
        if (this.#alive) this.#logger.debug(`container ${this.name} stopped`);
        this.#alive = false;
        this.#tunnel.close();
        for (const settle of this.#reaps.values()) settle(undefined);
        this.#reaps.clear();
        this.#run?.finish(null);
        resolve();
      };
      options.lifeline.on('data', (chunk: Buffer) => demuxer.push(chunk));
      options.lifeline.on('end', onGone);
      options.lifeline.on('close', onGone);
      // A reset connection (daemon restart) is an exit like any other, never an uncaught error.
      options.lifeline.on('error', onGone);
    });
  }

  /**
   * Creates, attaches to and starts a container; a failed start removes what it made. Until it is
   * started with its lifeline attached, the container is the reaper's to remove should this process
   * die (reaper.ts).
   */
  static create(options: SandboxCreation): Promise<Sandbox> {
    return whileCreating(options.client, options.name, options.logger, () => Sandbox.#create(options));
  }

  static async #create(options: SandboxCreation): Promise<Sandbox> {
    const { client, settings, labels, name, poolKey, logger } = options;
    const createOptions = sandboxCreateOptions(settings, labels, await loadPythonSource('keeper'), name);
    let id: string;
    try {
      id = await client.createContainer(createOptions);
    } catch (error) {
      // The client has already turned "cannot connect" into DockerUnavailableError.
      if (PycageError.isInstance(error)) throw error;
      throw new SandboxError(`Could not create a sandbox container from ${settings.image}: ${daemonMessage(error)}`, { cause: error });
    }
    try {
      const lifeline = await client.attachContainer(id);
      await client.startContainer(id);
      // The lifeline must never keep Node running on its own; the runtime's open handles decide that.
      lifeline.unref?.();
      logger.debug(`started ${name} (${id.slice(0, 12)})`);
      return new Sandbox({ client, id, lifeline, name, poolKey, logger });
    } catch (error) {
      await client.removeContainer(id).catch(() => undefined);
      if (PycageError.isInstance(error)) throw error;
      throw new SandboxError(`Could not start sandbox container ${name}: ${daemonMessage(error)}`, { cause: error, containerId: id });
    }
  }

  get alive(): boolean {
    return this.#alive && this.#destroying === undefined;
  }

  /** Resolves when the container has stopped (for whatever reason). */
  get exited(): Promise<void> {
    return this.#exited;
  }

  /**
   * Who handles the script's proxied connections (network `public`): the run that holds this sandbox
   * sets it with its own egress policy. Unset, a connection is refused.
   */
  set onConnection(handler: ((connection: Duplex) => void) | undefined) {
    this.#onConnection = handler;
  }

  /** What the container's main process printed on stderr (e.g. tini failing to find python3). */
  get lifelineOutput(): string {
    return this.#lifelineOutput;
  }

  /** Runs one command to its end and reports its exit status. */
  async exec(options: ExecOptions): Promise<ExecOutcome> {
    const withStdin = options.stdin !== undefined;
    let stream: Duplex;
    let execId: string;
    try {
      ({ id: execId, stream } = await this.#client.startExec(this.id, {
        cmd: options.cmd,
        env: toEnvList(options.env),
        user: options.user === 'root' ? keeperUser : sandboxUser,
        // Root without CAP_DAC_OVERRIDE cannot enter the sandbox user's 0700 work directory.
        workingDir: options.user === 'root' ? '/' : workDirectory,
        stdin: withStdin,
      }));
    } catch (error) {
      if (PycageError.isInstance(error)) throw error;
      const code = statusCode(error);
      if (code === 404 || code === 409) this.#alive = false;
      throw new SandboxError(`Could not run a command in ${this.name}: ${daemonMessage(error)}`, { cause: error, containerId: this.id });
    }

    const demuxer = new FrameDemuxer(options.onOutput);
    let containerExited = false;
    await new Promise<void>((resolve) => {
      let settled = false;
      let drainTimer: NodeJS.Timeout | undefined;
      const finish = (): void => {
        if (settled) return;
        settled = true;
        clearTimeout(drainTimer);
        resolve();
      };
      stream.on('data', (chunk: Buffer) => demuxer.push(chunk));
      stream.on('end', finish);
      stream.on('close', finish);
      stream.on('error', finish);
      // If the container dies, the exec stream normally ends with it; some runtimes (an old runsc
      // sandbox that crashed) leave it open, so it is cut after a short grace.
      void this.#exited.then(() => {
        containerExited = true;
        drainTimer = setTimeout(() => {
          stream.destroy();
          finish();
        }, drainAfterExitMs);
        drainTimer.unref();
      });
      if (options.stdin !== undefined) {
        stream.write(options.stdin);
        stream.end();
      }
    });

    let exitCode: number | null = null;
    try {
      const info = await this.#client.inspectExec(execId);
      exitCode = info.running ? null : info.exitCode;
    } catch (error) {
      if (PycageError.isInstance(error)) throw error;
      // The container (and its exec record) may already be gone: the status is then unknown.
    }
    return { exitCode, containerExited: containerExited || !this.#alive };
  }

  /**
   * Runs the script's command through the keeper (as the sandbox user, no capabilities) to its end and
   * reports its exit status as an exec would: null when the container went away under it. Once per
   * container.
   */
  async run(options: Omit<ExecOptions, 'user'>): Promise<ExecOutcome> {
    if (!this.alive) throw new SandboxError(`Could not run a command in ${this.name}: the container is gone.`, { containerId: this.id });
    if (this.#runStarted) throw new SandboxError(`${this.name} has already run a script; every run needs a fresh container.`, { containerId: this.id });
    const fields = [workDirectory, String(options.cmd.length), ...options.cmd, ...toEnvList(options.env)];
    if (fields.some((field) => field.includes('\0'))) throw new SandboxError('A command or environment variable of the run holds a NUL character.');
    this.#runStarted = true;
    const id = this.#nextStream++;
    const exitCode = await this.#holding(new Promise<number | null>((resolve, reject) => {
      let settled = false;
      this.#run = {
        id,
        onOutput: options.onOutput,
        finish: (code) => {
          if (settled) return;
          settled = true;
          resolve(code);
        },
        refuse: (message) => {
          if (settled) return;
          settled = true;
          reject(new SandboxError(`The keeper of ${this.name} did not start the run: ${message}`, { containerId: this.id }));
        },
      };
      this.#send(encodeFrame(KeeperKind.run, id, Buffer.from(fields.join('\0'), 'utf8')));
      const stdin = options.stdin ?? new Uint8Array(0);
      for (let offset = 0; offset < stdin.length; offset += stdinFrameBytes) {
        this.#send(encodeFrame(KeeperKind.stdin, id, stdin.subarray(offset, offset + stdinFrameBytes)));
      }
      this.#send(encodeFrame(KeeperKind.eof, id));
    })).finally(() => {
      this.#run = undefined;
    });
    if (exitCode === null) {
      // The lifeline ended before the keeper said how the run ended: the container stopped, or the
      // connection to the daemon was cut. Asking the daemon tells which (an exec's inspect did the same):
      // a daemon that no longer answers is a DockerUnavailableError, not a sandbox failure.
      try {
        await this.#client.inspectContainer(this.id);
      } catch (error) {
        if (PycageError.isInstance(error)) throw error;
      }
    }
    return { exitCode, containerExited: exitCode === null || !this.#alive };
  }

  /** Keeps the Node process up while `work` waits on the keeper (the lifeline is unref'd otherwise). */
  async #holding<T>(work: Promise<T>): Promise<T> {
    if (this.#waiting++ === 0) this.#lifeline.ref?.();
    try {
      return await work;
    } finally {
      if (--this.#waiting === 0) this.#lifeline.unref?.();
    }
  }

  #send(frame: Buffer): void {
    if (!this.#lifeline.destroyed) this.#lifeline.write(frame);
  }

  /** Splits the keeper's stdout into frames: the tunnel's go to the tunnel, the run's and reaps' here. */
  #fromKeeper(chunk: Buffer): void {
    if (this.#keeperBroken) return;
    this.#keeperPending = this.#keeperPending.length === 0 ? chunk : Buffer.concat([this.#keeperPending, chunk]);
    while (this.#keeperPending.length >= frameHeaderBytes) {
      const kind = this.#keeperPending.readUInt8(0);
      const stream = this.#keeperPending.readUInt32BE(1);
      const length = this.#keeperPending.readUInt32BE(5);
      if (length > maxKeeperFrameBytes) {
        this.#keeperBroken = true;
        this.#tunnel.close();
        return;
      }
      if (this.#keeperPending.length < frameHeaderBytes + length) return;
      const frame = this.#keeperPending.subarray(0, frameHeaderBytes + length);
      this.#keeperPending = this.#keeperPending.subarray(frameHeaderBytes + length);
      const payload = frame.subarray(frameHeaderBytes);
      if (kind < KeeperKind.run) {
        this.#tunnel.receive(kind, stream, payload);
        continue;
      }
      if (kind === KeeperKind.reaped) {
        this.#reaps.get(stream)?.(payload.length === 4 ? payload.readInt32BE(0) : undefined);
        continue;
      }
      // Frames of any other run (there is none in this container) are dropped.
      const run = this.#run;
      if (run === undefined || stream !== run.id) continue;
      if (kind === KeeperKind.stdout) run.onOutput('stdout', Buffer.from(payload));
      else if (kind === KeeperKind.stderr) run.onOutput('stderr', Buffer.from(payload));
      else if (kind === KeeperKind.exit && payload.length === 4) run.finish(payload.readInt32BE(0));
      else if (kind === KeeperKind.refused) run.refuse(payload.toString('utf8'));
    }
  }

  /**
   * Kills every process of the sandbox user (reap.py, run by a forked child of the keeper, as root:
   * nothing the script left behind can stop it). True when none is left; false when some survived
   * `boundMs`, the container died, or the keeper did not answer in time: the caller must then remove
   * the container rather than go on in it.
   */
  async reap(boundMs = reapBoundMs): Promise<boolean> {
    if (!this.alive) return false;
    const source = await loadPythonSource('reap');
    const bound = new Promise<'late'>((resolve) => setTimeout(resolve, boundMs, 'late').unref());
    const id = this.#nextStream++;
    const reaped = new Promise<number | undefined>((resolve) => this.#reaps.set(id, resolve));
    this.#send(encodeFrame(KeeperKind.reap, id, Buffer.from(`${boundMs / 1000}\0${source}`, 'utf8')));
    const outcome = await this.#holding(Promise.race([reaped, bound]));
    this.#reaps.delete(id);
    if (outcome !== 0) {
      this.#logger.warn(`could not end every process of the sandbox user in ${this.name}${outcome === 'late' ? ` within ${boundMs} ms` : ''}`);
      return false;
    }
    return true;
  }

  /** Inspects the container's State.OOMKilled, or undefined when it is gone. */
  async state(): Promise<{ oomKilled: boolean } | undefined> {
    try {
      const info = await this.#client.inspectContainer(this.id);
      return { oomKilled: info.oomKilled };
    } catch {
      return undefined;
    }
  }

  /** Resolves once the sandbox has been removed or abandoned. */
  get ended(): Promise<void> {
    return this.#ended;
  }

  /**
   * Cuts the lifeline and gives up a removal in flight, sending nothing more to Docker: the container's
   * main process sees its stdin close and exits, and AutoRemove deletes the container, as after a crash
   * of this process. For closing without waiting: no request is left to hold the process up. A later
   * destroy() does nothing more.
   */
  abandon(): void {
    this.#removal.abort();
    this.#tunnel.close();
    this.#lifeline.destroy();
    this.#alive = false;
    this.#destroying ??= Promise.resolve();
    this.#markEnded();
  }

  /** Waits (up to 5 s) for a removal already under way; a container that is gone answers at once. */
  async #untilRemoved(): Promise<void> {
    const signal = AbortSignal.any([this.#removal.signal, AbortSignal.timeout(5000)]);
    await this.#client.waitUntilRemoved(this.id, signal).catch(() => undefined);
  }

  /** Kills and removes the container (every process in it dies). Idempotent. */
  destroy(): Promise<void> {
    this.#destroying ??= (async () => {
      try {
        await this.#client.removeContainer(this.id, this.#removal.signal);
      } catch (error) {
        const code = statusCode(error);
        // 404: already gone (AutoRemove won); 409: removal already in progress (AutoRemove of a container
        // that stopped on its own): wait for it to end, so "destroyed" means gone; aborted: abandoned.
        if (code === 409 && !this.#removal.signal.aborted) await this.#untilRemoved();
        else if (code !== 404 && !this.#removal.signal.aborted) this.#logger.warn(`could not remove ${this.name}: ${daemonMessage(error)}`);
      }
      this.#lifeline.destroy();
      this.#alive = false;
      this.#markEnded();
    })();
    return this.#destroying;
  }
}
