/**
 * Which of this session's containers hit their memory limit, from Docker's own events.
 *
 * A run container is removed as soon as it stops (AutoRemove, for the lifeline), so its
 * `State.OOMKilled` is usually gone by the time anyone could inspect it; and under gVisor an OOM takes
 * the whole sandbox down, leaving no cgroup to read. The events stream (one per runtime, filtered to
 * the session's label, its socket unref'd) reports `oom` as it happens, whatever the runtime, and the
 * container's `die` after it: events on one stream are ordered, so once `die` has arrived, an `oom`
 * that did not come before it never happened. That makes the answer exact rather than a guess on a
 * timer.
 *
 * The same stream carries `kill`, which Docker logs only when it is asked to stop or kill a container
 * (`docker stop`, `kill`, `rm -f`, or the daemon shutting down), never when the kernel or the
 * container's own processes end it: so a run's container that died with a `kill` before its `die`,
 * while pycage itself had not stopped it, was stopped from outside.
 *
 * The order of `oom` and `die` is Docker's, and under load it is not always that one: seen under gVisor
 * on a busy machine (about 1 run in 5 of the memory-bomb test), the container died with 137 and its
 * `oom` never came before the `die`. So a `die` with status 137 (the main process, the keeper, killed
 * by SIGKILL) and no `kill` before it also counts as an OOM: nothing in the sandbox can signal the
 * keeper (another uid, no capabilities), Docker was not asked to, and what is left to send SIGKILL
 * there is the kernel's (or gVisor's) OOM killer.
 */
import type { Readable } from 'node:stream';
import type { Logger } from '../../logger.js';
import { onContainerEvents, type ContainerEvent, type DockerClient } from './docker-client.js';
import { labelKeys } from './labels.js';

export class OomWatcher {
  readonly #client: DockerClient;
  readonly #session: string;
  readonly #logger: Logger;
  readonly #seen = new Set<string>();
  /** Recently died containers and their main process's status (bounded: every run's container dies). */
  readonly #died = new Map<string, number | undefined>();
  /** Containers Docker was asked to stop or kill (bounded likewise). */
  readonly #killed = new Set<string>();
  readonly #waiters = new Map<string, Set<() => void>>();
  #stream: Readable | undefined;
  #opening: Promise<void> | undefined;
  #closed = false;

  constructor(options: { client: DockerClient; session: string; logger: Logger }) {
    this.#client = options.client;
    this.#session = options.session;
    this.#logger = options.logger;
  }

  /** True while the events stream is open, i.e. while an absent event means no OOM. */
  get healthy(): boolean {
    return this.#stream !== undefined;
  }

  /** Opens the stream if it is not open (it closes when the daemon restarts). Never throws. */
  start(): Promise<void> {
    if (this.#closed || this.#stream !== undefined) return Promise.resolve();
    this.#opening ??= this.#open().finally(() => {
      this.#opening = undefined;
    });
    return this.#opening;
  }

  async #open(): Promise<void> {
    try {
      const stream = await this.#client.containerEvents({ actions: ['oom', 'kill', 'die'], labels: [`${labelKeys.session}=${this.#session}`] });
      if (this.#closed) {
        stream.destroy();
        return;
      }
      onContainerEvents(stream, (event) => this.#record(event));
      const onGone = (): void => {
        if (this.#stream === stream) this.#stream = undefined;
      };
      stream.on('end', onGone);
      stream.on('close', onGone);
      stream.on('error', onGone);
      this.#stream = stream;
    } catch (error) {
      this.#logger.debug(`no OOM events: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  #record({ action, id, attributes }: ContainerEvent): void {
    if (action === 'oom') this.#seen.add(id);
    else if (action === 'kill') bound(this.#killed.add(id));
    else if (action === 'die') {
      const status = Number.parseInt(attributes.exitCode ?? '', 10);
      bound(this.#died.set(id, Number.isNaN(status) ? undefined : status));
    } else return;
    for (const wake of this.#waiters.get(id) ?? []) wake();
  }

  /**
   * Whether the container had an OOM. Waits for its `die` event (the caller should be removing it) up
   * to `waitMs`; undefined when no answer could be had (no events stream, or no `die` in time).
   */
  async verdict(containerId: string, waitMs: number): Promise<boolean | undefined> {
    const answer = (): boolean | undefined => {
      if (this.#seen.has(containerId)) return true;
      if (!this.#died.has(containerId)) return undefined;
      return this.#died.get(containerId) === sigkillStatus && !this.#killed.has(containerId);
    };
    if (answer() !== undefined || !this.healthy) return answer();
    return new Promise((resolve) => {
      let waiters = this.#waiters.get(containerId);
      if (waiters === undefined) {
        waiters = new Set();
        this.#waiters.set(containerId, waiters);
      }
      const done = (): void => {
        const value = answer();
        if (value === undefined && this.healthy && !timedOut) return;
        clearTimeout(timer);
        waiters.delete(wake);
        if (waiters.size === 0) this.#waiters.delete(containerId);
        resolve(value);
      };
      const wake = (): void => done();
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        done();
      }, waitMs);
      waiters.add(wake);
    });
  }

  /**
   * Whether Docker was asked to stop or kill the container before it died. Exact once `verdict` has
   * seen its `die` (events arrive in order); a caller asks only about a container it did not stop.
   */
  wasKilled(containerId: string): boolean {
    return this.#killed.has(containerId);
  }

  /** Forgets a container once its run is over. */
  forget(containerId: string): void {
    this.#seen.delete(containerId);
    this.#died.delete(containerId);
    this.#killed.delete(containerId);
  }

  close(): void {
    this.#closed = true;
    this.#stream?.destroy();
    this.#stream = undefined;
  }
}

/** A main process ended by SIGKILL (128 + 9). */
const sigkillStatus = 137;

/** Keeps the newest 256 entries (sets and maps iterate in insertion order). */
function bound(ids: Set<string> | Map<string, unknown>): void {
  if (ids.size > 256) ids.delete(ids.keys().next().value!);
}
