/**
 * The warm pool: started, unused sandboxes kept ready so a run costs about one `docker exec`.
 *
 * Sandboxes are grouped by pool key (everything fixed at container creation: image, network, limits,
 * runtime, tmpfs sizes); any sandbox of a key serves any run with those settings. Only warmed keys are
 * pooled (the runtime warms its default settings); a run with other settings (a per-run memory limit)
 * gets a container of its own, started for it and removed after it. A run takes one and
 * never gives it back: after the run it is destroyed and the pool is refilled in the background, so
 * no two runs ever share a container. A run that finds the pool empty takes a sandbox still being
 * started if there is one, else starts its own; only `warm()` and `release()` start sandboxes for the
 * pool itself. A key left unused for `idleMs` is emptied and not
 * refilled until its next run.
 */
import type { Logger } from '../logger.js';
import { poolKey, type SandboxSettings } from './container-options.js';
import type { Sandbox } from './sandbox.js';

/** How long after a run its key's pool is topped up again. */
const refillDelayMs = 100;

interface Pending {
  promise: Promise<Sandbox | undefined>;
  claimed: boolean;
}

interface PoolEntry {
  settings: SandboxSettings;
  ready: Sandbox[];
  pending: Set<Pending>;
  lastUsed: number;
  idleTimer: NodeJS.Timeout | undefined;
  refillTimer: NodeJS.Timeout | undefined;
  /** Emptied for idleness: no refills until the next acquire. */
  idle: boolean;
}

export interface SandboxPoolOptions {
  size: number;
  idleMs: number;
  create: (settings: SandboxSettings, key: string) => Promise<Sandbox>;
  logger: Logger;
}

export class SandboxPool {
  readonly #options: SandboxPoolOptions;
  readonly #entries = new Map<string, PoolEntry>();
  #closed = false;

  constructor(options: SandboxPoolOptions) {
    this.#options = options;
  }

  /** Ready sandboxes per key (for tests and `describe`). */
  get readyCount(): number {
    let count = 0;
    for (const entry of this.#entries.values()) count += entry.ready.length;
    return count;
  }

  /** A started sandbox for these settings, for one run. */
  async acquire(settings: SandboxSettings): Promise<Sandbox> {
    const key = poolKey(settings);
    const entry = this.#entries.get(key);
    // Settings nobody warmed (a one-off per-run memory limit, say) get a fresh container, no pool.
    if (entry === undefined) return this.#options.create(settings, key);
    entry.lastUsed = Date.now();
    entry.idle = false;
    this.#armIdleTimer(key, entry);

    while (entry.ready.length > 0) {
      const sandbox = entry.ready.shift()!;
      if (sandbox.alive) return sandbox;
      void sandbox.destroy();
    }
    for (const pending of entry.pending) {
      if (pending.claimed) continue;
      pending.claimed = true;
      const sandbox = await pending.promise;
      if (sandbox?.alive) return sandbox;
      break;
    }
    return this.#options.create(settings, key);
  }

  /**
   * Destroys a sandbox that was used, and tops its key's pool up again shortly after: the delay keeps
   * container start-ups from competing with the caller handling its result, and lets a one-shot caller
   * that closes right away (`pycage run`) do so without waiting for a container it will never use.
   */
  async release(sandbox: Sandbox): Promise<void> {
    const entry = this.#entries.get(sandbox.poolKey);
    const destroyed = sandbox.destroy();
    if (entry !== undefined && !this.#closed && entry.refillTimer === undefined) {
      entry.refillTimer = setTimeout(() => {
        entry.refillTimer = undefined;
        this.#refill(sandbox.poolKey, entry);
      }, refillDelayMs);
      entry.refillTimer.unref();
    }
    await destroyed;
  }

  /** Starts filling the pool for these settings without taking anything from it. */
  warm(settings: SandboxSettings): void {
    const key = poolKey(settings);
    const entry = this.#entry(key, settings);
    entry.lastUsed = Date.now();
    entry.idle = false;
    this.#armIdleTimer(key, entry);
    this.#refill(key, entry);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const work: Array<Promise<unknown>> = [];
    for (const entry of this.#entries.values()) {
      clearTimeout(entry.idleTimer);
      clearTimeout(entry.refillTimer);
      entry.refillTimer = undefined;
      for (const sandbox of entry.ready.splice(0)) work.push(sandbox.destroy());
      for (const pending of entry.pending) work.push(pending.promise.then((sandbox) => (pending.claimed ? undefined : sandbox?.destroy())));
    }
    await Promise.allSettled(work);
  }

  #entry(key: string, settings: SandboxSettings): PoolEntry {
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      entry = { settings, ready: [], pending: new Set(), lastUsed: Date.now(), idleTimer: undefined, refillTimer: undefined, idle: false };
      this.#entries.set(key, entry);
    }
    return entry;
  }

  #refill(key: string, entry: PoolEntry): void {
    if (this.#closed || entry.idle) return;
    let available = entry.ready.length;
    for (const pending of entry.pending) if (!pending.claimed) available += 1;
    for (; available < this.#options.size; available += 1) {
      const pending: Pending = { claimed: false, promise: Promise.resolve(undefined) };
      pending.promise = this.#options.create(entry.settings, key).then(
        (sandbox) => {
          entry.pending.delete(pending);
          if (!pending.claimed) {
            if (this.#closed || entry.idle) void sandbox.destroy();
            else entry.ready.push(sandbox);
          }
          return sandbox;
        },
        (error: unknown) => {
          entry.pending.delete(pending);
          // No retry loop here: the next run starts its own sandbox and reports the error if it persists.
          this.#options.logger.warn(`could not warm a sandbox: ${error instanceof Error ? error.message : String(error)}`);
          return undefined;
        },
      );
      entry.pending.add(pending);
    }
  }

  #armIdleTimer(key: string, entry: PoolEntry): void {
    clearTimeout(entry.idleTimer);
    entry.idleTimer = setTimeout(() => {
      if (Date.now() - entry.lastUsed < this.#options.idleMs) return;
      entry.idle = true;
      const idle = entry.ready.splice(0);
      if (idle.length > 0) this.#options.logger.debug(`pool ${key}: ${idle.length} idle sandbox(es) expired`);
      for (const sandbox of idle) void sandbox.destroy();
    }, this.#options.idleMs);
    // The pool never keeps the process alive on its own.
    entry.idleTimer.unref();
  }
}
