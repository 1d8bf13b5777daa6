/**
 * The warm pool: started, unused sandboxes kept ready so a run does not wait for a container start.
 *
 * Sandboxes are grouped by pool key (everything fixed at container creation: image, network, limits,
 * runtime, tmpfs sizes); any sandbox of a key serves any run with those settings. Only warmed keys are
 * pooled (the runtime warms its default settings); a run with other settings (a per-run memory limit)
 * gets a container of its own, started for it and removed after it. A run takes one and never gives it
 * back: after the run it is destroyed and the pool is refilled in the background, so no two runs ever
 * share a container. A run that finds the pool empty takes a sandbox still being started if there is
 * one, else starts its own.
 *
 * How many a key keeps follows the concurrency it sees: at least `size`; after N runs at once, N; and
 * one more for every run of a burst that found no sandbox ready once the key had been full (a burst
 * that came right after single runs, whose replacements were still starting), so the next such burst
 * finds enough started; at most `maxSize`, and back to `size` once no burst has been seen for `idleMs`.
 * Used sandboxes are replaced ahead of demand, in the quiet after runs: once no run of the key has
 * ended for `refillDelayMs` (so runs back to back, then a burst, all take from what is ready, and no
 * start competes with them), or at once when a run leaves the key with fewer than `size` ready or
 * starting (a caller running scripts one after another keeps finding one). After a key's first run the
 * refill is always delayed, so a one-shot caller that closes right away (`pycage run`) starts nothing
 * it will never use.
 *
 * Container starts and removals are daemon work that competes with the scripts for the CPU, so the
 * pool does both in the background and never at the expense of runs in flight: at most
 * `maxStartsInFlight` starts at a time for the pool as a whole; while a run of a key executes, nothing
 * is started for that key (what is missing is started when its last run ends); and used containers
 * are removed once no run of their key has started for `removalQuietMs` (runs back to back go first),
 * at most `maxRemovalDelayMs` after their run. A key left unused for `idleMs` is emptied and not
 * refilled until its next run.
 */
import type { Logger } from '../../logger.js';
import { poolKey, type SandboxSettings } from './container-options.js';
import type { Sandbox } from './sandbox.js';

/** The quiet after the last run of a key before its pool is topped up (a one-shot caller has closed by then). */
const refillDelayMs = 100;
/** Longest a used container waits for its removal while other runs of its key execute. */
export const maxRemovalDelayMs = 1000;
/** How long a key must have no run starting before its used containers are removed. */
const removalQuietMs = 50;
/** Sandboxes the pool starts at once for refills (a run that needs one starts its own regardless). */
const maxStartsInFlight = 2;

interface Pending {
  promise: Promise<Sandbox | undefined>;
  claimed: boolean;
}

interface PoolEntry {
  settings: SandboxSettings;
  ready: Sandbox[];
  pending: Set<Pending>;
  /** Runs between acquire() and release(): the concurrency this key sees. */
  active: number;
  /** Runs that hold a started sandbox (their script may be executing). */
  executing: number;
  /** How many ready sandboxes to keep: `size` to `maxSize`. */
  target: number;
  /** When the key last saw a burst (more runs at once than it kept, or a burst run that found none ready). */
  grownAt: number;
  /** The key has had `target` sandboxes ready at least once: a run that waits after that is a sign of demand. */
  filled: boolean;
  /** Runs released so far: the first one's refill is always delayed. */
  released: number;
  /** How many the last refill asked for: what a start slot that frees up goes on filling towards. */
  wanted: number;
  /** Used sandboxes whose removal waits for the runs still executing. */
  used: Array<{ sandbox: Sandbox; resolve: () => void }>;
  usedTimer: NodeJS.Timeout | undefined;
  /** Removes the used sandboxes once the key has been quiet for `removalQuietMs`. */
  quietTimer: NodeJS.Timeout | undefined;
  lastUsed: number;
  idleTimer: NodeJS.Timeout | undefined;
  refillTimer: NodeJS.Timeout | undefined;
  /** Emptied for idleness: no refills until the next acquire. */
  idle: boolean;
}

export interface SandboxPoolOptions {
  /** Ready sandboxes kept per warmed key. */
  size: number;
  /** Most ready sandboxes a key may grow to after bursts. @default size */
  maxSize?: number;
  idleMs: number;
  create: (settings: SandboxSettings, key: string) => Promise<Sandbox>;
  logger: Logger;
  /**
   * Called each time the pool comes to rest (once per quiet spell): nothing starting, being removed or
   * scheduled, no run in flight. The runtime reports it as the `pool-ready` event.
   */
  onRest?: (stats: PoolStats) => void;
}

/** What the pool is doing: what `onRest` reports, and what the pool's tests check. */
export interface PoolStats {
  ready: number;
  /** Sandboxes being started for the pool (not yet claimed by a run). */
  starting: number;
  /** Used sandboxes waiting for, or in, their removal. */
  removing: number;
  /** A refill is scheduled. */
  refillScheduled: boolean;
  /** Sum of the keys' targets. */
  target: number;
  /** Runs between acquire() and release(). */
  active: number;
}

export class SandboxPool {
  readonly #options: SandboxPoolOptions;
  readonly #maxSize: number;
  readonly #entries = new Map<string, PoolEntry>();
  #removing = 0;
  /** Refill starts in flight, all keys together. */
  #starting = 0;
  /** onRest was told about the current quiet spell. */
  #resting = false;
  #closed = false;
  /** Closed without waiting: sandboxes are abandoned (lifeline cut) rather than removed. */
  #abandon = false;

  constructor(options: SandboxPoolOptions) {
    this.#options = options;
    this.#maxSize = Math.max(options.size, options.maxSize ?? options.size);
  }


  stats(): PoolStats {
    const stats: PoolStats = { ready: 0, starting: 0, removing: this.#removing, refillScheduled: false, target: 0, active: 0 };
    for (const entry of this.#entries.values()) {
      stats.ready += entry.ready.length;
      for (const pending of entry.pending) if (!pending.claimed) stats.starting += 1;
      stats.refillScheduled ||= entry.refillTimer !== undefined;
      stats.target += entry.target;
      stats.active += entry.active;
    }
    return stats;
  }

  /** A started sandbox for these settings, for one run. Every acquire must be followed by one release. */
  async acquire(settings: SandboxSettings): Promise<Sandbox> {
    const key = poolKey(settings);
    const entry = this.#entries.get(key);
    // Settings nobody warmed (a one-off per-run memory limit, say) get a fresh container, no pool.
    if (entry === undefined) return this.#options.create(settings, key);
    entry.lastUsed = Date.now();
    entry.idle = false;
    entry.active += 1;
    this.#resting = false;
    // A run starts: the removals wait for the next quiet (or their bound).
    clearTimeout(entry.quietTimer);
    entry.quietTimer = undefined;
    this.#armIdleTimer(key, entry);
    this.#grow(key, entry);
    let sandbox: Sandbox;
    try {
      sandbox = await this.#take(entry, settings, key);
    } catch (error) {
      entry.active -= 1;
      throw error;
    }
    entry.executing += 1;
    return sandbox;
  }

  /**
   * The demand a run shows: more runs at once than the key keeps ready, or, once the key has been
   * full, a run of a burst that finds none ready (a burst that came while the replacements of earlier
   * runs were still starting, as after single runs back to back). Either way the key keeps more ready
   * from now on, up to `maxSize`. A single run that waits for a replacement still starting grows
   * nothing: a caller running scripts one at a time never needs more than the pool refills.
   */
  #grow(key: string, entry: PoolEntry): void {
    let wanted = entry.target;
    if (entry.active > entry.target) wanted = entry.active;
    else if (entry.filled && entry.active > 1 && !entry.ready.some((sandbox) => sandbox.alive)) wanted = entry.target + 1;
    else return;
    entry.grownAt = Date.now();
    wanted = Math.min(wanted, this.#maxSize);
    if (wanted <= entry.target) return;
    this.#options.logger.debug(`pool ${key}: ${entry.active} run(s) at once, ${entry.ready.length} ready; keeping ${wanted} ready from now on`);
    entry.target = wanted;
  }

  async #take(entry: PoolEntry, settings: SandboxSettings, key: string): Promise<Sandbox> {
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
   * Destroys a sandbox that was used once its key is quiet (no run executing, none started for
   * `removalQuietMs`; at most `maxRemovalDelayMs` after this), and replaces it once no run of its key
   * executes: after `refillDelayMs` of quiet, or at once when the key runs low. Resolves when the
   * sandbox is gone.
   */
  release(sandbox: Sandbox): Promise<void> {
    const entry = this.#entries.get(sandbox.poolKey);
    if (entry === undefined || this.#closed) return this.#destroy(sandbox);
    entry.active = Math.max(0, entry.active - 1);
    entry.executing = Math.max(0, entry.executing - 1);
    entry.released += 1;
    const removed = new Promise<void>((resolve) => entry.used.push({ sandbox, resolve }));
    this.#removing += 1;
    if (entry.usedTimer === undefined) {
      entry.usedTimer = setTimeout(() => this.#removeUsed(entry), maxRemovalDelayMs);
      entry.usedTimer.unref();
    }
    if (entry.executing === 0) this.#removeWhenQuiet(entry);
    if (entry.active === 0) {
      if (entry.released > 1 && this.#available(entry) < this.#options.size) this.#refillNow(sandbox.poolKey, entry);
      else this.#scheduleRefill(sandbox.poolKey, entry);
    }
    this.#checkRest();
    return removed;
  }

  /** Tells `onRest`, once per quiet spell, that the pool has come to rest. */
  #checkRest(): void {
    if (this.#closed || this.#options.onRest === undefined) return;
    const stats = this.stats();
    let waiting = false;
    for (const entry of this.#entries.values()) waiting ||= entry.used.length > 0 || entry.usedTimer !== undefined || entry.quietTimer !== undefined;
    if (waiting || this.#starting > 0 || stats.starting > 0 || stats.removing > 0 || stats.refillScheduled || stats.active > 0) {
      this.#resting = false;
      return;
    }
    if (this.#resting) return;
    this.#resting = true;
    this.#options.onRest(stats);
  }

  /**
   * Starts warming the pool for these settings without taking anything from it: one sandbox now (the
   * one a first run will take), the rest of `size` after that run, so a runtime made for a single
   * script starts a single container.
   */
  warm(settings: SandboxSettings): void {
    const key = poolKey(settings);
    const entry = this.#entry(key, settings);
    entry.lastUsed = Date.now();
    entry.idle = false;
    this.#armIdleTimer(key, entry);
    this.#refill(key, entry, Math.min(1, entry.target));
    this.#checkRest();
  }

  /**
   * Removes every sandbox the pool holds, including those still starting (once they have started).
   * With `wait: false` they are abandoned instead (see Sandbox.abandon), and so is every sandbox
   * released after this; nothing is awaited.
   */
  async close(options: { wait?: boolean } = {}): Promise<void> {
    this.#closed = true;
    this.#abandon = options.wait === false;
    const work: Array<Promise<unknown>> = [];
    for (const entry of this.#entries.values()) {
      clearTimeout(entry.idleTimer);
      clearTimeout(entry.refillTimer);
      entry.refillTimer = undefined;
      this.#removeUsed(entry);
      for (const sandbox of entry.ready.splice(0)) work.push(this.#end(sandbox));
      for (const pending of entry.pending) work.push(pending.promise.then((sandbox) => (pending.claimed || sandbox === undefined ? undefined : this.#end(sandbox))));
    }
    if (this.#abandon) return;
    await Promise.allSettled(work);
  }

  /** Removes a sandbox, or after close({ wait: false }) abandons it. */
  #end(sandbox: Sandbox): Promise<void> {
    if (this.#abandon) {
      sandbox.abandon();
      return Promise.resolve();
    }
    return sandbox.destroy();
  }

  #destroy(sandbox: Sandbox): Promise<void> {
    this.#removing += 1;
    return this.#end(sandbox).finally(() => {
      this.#removing -= 1;
      this.#checkRest();
    });
  }

  /** Removes the key's used sandboxes once no run of it has started for `removalQuietMs`. */
  #removeWhenQuiet(entry: PoolEntry): void {
    clearTimeout(entry.quietTimer);
    entry.quietTimer = setTimeout(() => this.#removeUsed(entry), removalQuietMs);
    entry.quietTimer.unref();
  }

  #removeUsed(entry: PoolEntry): void {
    clearTimeout(entry.usedTimer);
    entry.usedTimer = undefined;
    clearTimeout(entry.quietTimer);
    entry.quietTimer = undefined;
    for (const { sandbox, resolve } of entry.used.splice(0)) {
      void this.#end(sandbox).finally(() => {
        this.#removing -= 1;
        resolve();
        this.#checkRest();
      });
    }
  }

  /** Sandboxes of the key ready or being started for the pool (not claimed by a run). */
  #available(entry: PoolEntry): number {
    let available = entry.ready.length;
    for (const pending of entry.pending) if (!pending.claimed) available += 1;
    return available;
  }

  #scheduleRefill(key: string, entry: PoolEntry): void {
    clearTimeout(entry.refillTimer);
    entry.refillTimer = setTimeout(() => {
      entry.refillTimer = undefined;
      // Runs came in the meantime: the last of them to end schedules the refill again.
      if (entry.active === 0) this.#refillNow(key, entry);
      this.#checkRest();
    }, refillDelayMs);
    entry.refillTimer.unref();
  }

  /** Tops the key up to its target (after shrinking it if no burst was seen for `idleMs`). */
  #refillNow(key: string, entry: PoolEntry): void {
    clearTimeout(entry.refillTimer);
    entry.refillTimer = undefined;
    if (entry.target > this.#options.size && Date.now() - entry.grownAt >= this.#options.idleMs) this.#shrink(key, entry);
    this.#refill(key, entry, entry.target);
  }

  /** A refill start ended: its slot goes to a key still short of its target and not executing runs. */
  #nextStart(): void {
    for (const [key, entry] of this.#entries) {
      if (this.#starting >= maxStartsInFlight) return;
      if (entry.active === 0 && entry.refillTimer === undefined) this.#refill(key, entry, entry.wanted);
    }
  }

  #entry(key: string, settings: SandboxSettings): PoolEntry {
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      entry = {
        settings,
        ready: [],
        pending: new Set(),
        active: 0,
        executing: 0,
        target: this.#options.size,
        grownAt: 0,
        filled: false,
        released: 0,
        wanted: 0,
        used: [],
        usedTimer: undefined,
        quietTimer: undefined,
        lastUsed: Date.now(),
        idleTimer: undefined,
        refillTimer: undefined,
        idle: false,
      };
      this.#entries.set(key, entry);
    }
    return entry;
  }

  /** Starts sandboxes until `count` are ready or starting for the pool, at most `maxStartsInFlight` at a time. */
  #refill(key: string, entry: PoolEntry, count: number): void {
    if (this.#closed || entry.idle) return;
    entry.wanted = count;
    for (let available = this.#available(entry); available < count && this.#starting < maxStartsInFlight; available += 1) {
      const pending: Pending = { claimed: false, promise: Promise.resolve(undefined) };
      this.#starting += 1;
      pending.promise = this.#options.create(entry.settings, key).then(
        (sandbox) => {
          entry.pending.delete(pending);
          if (!pending.claimed) {
            if (this.#closed || entry.idle) void this.#end(sandbox);
            else entry.ready.push(sandbox);
          }
          if (entry.ready.length >= entry.target) entry.filled = true;
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
      void pending.promise.finally(() => {
        this.#starting -= 1;
        this.#nextStart();
        this.#checkRest();
      });
    }
  }

  /** No burst for `idleMs`: back to `size` ready sandboxes. */
  #shrink(key: string, entry: PoolEntry): void {
    entry.target = this.#options.size;
    const extra = entry.ready.splice(entry.target);
    if (extra.length > 0) this.#options.logger.debug(`pool ${key}: no burst for a while, ${extra.length} extra sandbox(es) removed`);
    for (const sandbox of extra) void this.#destroy(sandbox);
  }

  #armIdleTimer(key: string, entry: PoolEntry): void {
    clearTimeout(entry.idleTimer);
    entry.idleTimer = setTimeout(() => {
      if (Date.now() - entry.lastUsed < this.#options.idleMs) return;
      entry.idle = true;
      entry.target = this.#options.size;
      const idle = entry.ready.splice(0);
      if (idle.length > 0) this.#options.logger.debug(`pool ${key}: ${idle.length} idle sandbox(es) expired`);
      for (const sandbox of idle) void this.#destroy(sandbox);
    }, this.#options.idleMs);
    // The pool never keeps the process alive on its own.
    entry.idleTimer.unref();
  }
}
