import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Logger } from '../../../src/logger.js';
import { poolKey, type SandboxSettings } from '../../../src/runtime/docker/container-options.js';
import { maxRemovalDelayMs, SandboxPool, type PoolStats } from '../../../src/runtime/docker/pool.js';
import type { Sandbox } from '../../../src/runtime/docker/sandbox.js';

const settings: SandboxSettings = {
  image: 'sha256:1',
  imagePath: '/usr/bin',
  network: 'open',
  memoryBytes: 1 << 28,
  cpus: 1,
  pidsLimit: 64,
  gvisor: false,
  tmpBytes: 1 << 20,
  workBytes: 1 << 20,
};

interface FakeSandbox {
  name: string;
  poolKey: string;
  alive: boolean;
  destroyed: boolean;
  abandoned: boolean;
  destroy(): Promise<void>;
  abandon(): void;
}

/** A pool over fake sandboxes, each created after `delayMs`, so the pool's bookkeeping can be seen. */
function fakePool(size: number, options: { delayMs?: number; idleMs?: number; fail?: boolean; maxSize?: number; onRest?: (stats: PoolStats) => void } = {}) {
  const created: FakeSandbox[] = [];
  const pool = new SandboxPool({
    size,
    ...(options.maxSize === undefined ? {} : { maxSize: options.maxSize }),
    ...(options.onRest === undefined ? {} : { onRest: options.onRest }),
    idleMs: options.idleMs ?? 60_000,
    logger: new Logger(),
    create: async (_settings, key) => {
      const sandbox: FakeSandbox = {
        name: `fake-${created.length + 1}`,
        poolKey: key,
        alive: true,
        destroyed: false,
        abandoned: false,
        destroy: async () => {
          sandbox.destroyed = true;
          sandbox.alive = false;
        },
        abandon: () => {
          sandbox.abandoned = true;
          sandbox.alive = false;
        },
      };
      created.push(sandbox);
      if (options.delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
      if (options.fail) throw new Error('engine said no');
      return sandbox as unknown as Sandbox;
    },
  });
  return { pool, created };
}

const fake = (sandbox: Sandbox): FakeSandbox => sandbox as unknown as FakeSandbox;

/**
 * Lets `milliseconds` of fake time pass, running the pool's timers (refill, removal delay, idle) and the
 * promises they settle in order, so no test races a real timer against a real sleep.
 */
const settle = (milliseconds = 20): Promise<void> => vi.advanceTimersByTimeAsync(milliseconds).then(() => undefined);

/** Fake time past the refill: pool.ts tops a key up 100 ms after its last run ends (in the quiet after runs). */
const pastRefillMs = 150;

/** Lets fake time pass until `work` settles: for steps that wait on a sandbox that takes time to start. */
async function whileTimePasses<T>(work: Promise<T>): Promise<T> {
  let settled = false;
  work.then(
    () => (settled = true),
    () => (settled = true),
  );
  while (!settled) await vi.advanceTimersByTimeAsync(10);
  return work;
}

/** A release, with fake time passing until the used sandbox is removed (removals wait for a quiet spell). */
const released = (pool: SandboxPool, sandbox: Sandbox): Promise<void> => whileTimePasses(pool.release(sandbox));

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('SandboxPool', () => {
  it('warms one sandbox, hands it to the first run, and tops up to `size` after the run', async () => {
    const { pool, created } = fakePool(2);
    pool.warm(settings);
    await settle();
    // A runtime made for one script starts one container.
    expect(created).toHaveLength(1);
    expect(pool.stats().ready).toBe(1);
    const sandbox = await pool.acquire(settings);
    expect(fake(sandbox).name).toBe('fake-1');
    expect(pool.stats().ready).toBe(0);
    await released(pool, sandbox);
    expect(fake(sandbox).destroyed).toBe(true);
    // Topped up shortly after the run, not during it.
    expect(created).toHaveLength(1);
    await settle(pastRefillMs);
    expect(pool.stats().ready).toBe(2);
    expect(created).toHaveLength(3);
    expect(pool.stats()).toEqual({ ready: 2, starting: 0, removing: 0, refillScheduled: false, target: 2, active: 0 });
    await pool.close();
  });

  it('starts nothing for the pool when closed right after a run (a one-shot caller)', async () => {
    const { pool, created } = fakePool(1);
    pool.warm(settings);
    const sandbox = await pool.acquire(settings);
    const removed = pool.release(sandbox);
    await pool.close();
    await removed;
    await settle(pastRefillMs);
    expect(created).toHaveLength(1);
  });

  it('gives a run a sandbox still starting rather than starting another', async () => {
    const { pool, created } = fakePool(1, { delayMs: 30 });
    pool.warm(settings);
    const sandbox = await whileTimePasses(pool.acquire(settings));
    expect(fake(sandbox).name).toBe('fake-1');
    await whileTimePasses(pool.close());
    expect(created.length).toBeLessThanOrEqual(2);
  });

  it('starts fresh sandboxes for concurrent runs beyond the pool', async () => {
    const { pool, created } = fakePool(1);
    pool.warm(settings);
    await settle();
    const taken = await Promise.all([pool.acquire(settings), pool.acquire(settings), pool.acquire(settings)]);
    expect(new Set(taken.map((sandbox) => fake(sandbox).name)).size).toBe(3);
    expect(created.length).toBeGreaterThanOrEqual(3);
    await whileTimePasses(Promise.all(taken.map((sandbox) => pool.release(sandbox))));
    await pool.close();
    for (const sandbox of created) expect(sandbox.destroyed || taken.includes(sandbox as unknown as Sandbox)).toBe(true);
  });

  it('does not pool settings nobody warmed', async () => {
    const { pool, created } = fakePool(2);
    const sandbox = await pool.acquire({ ...settings, memoryBytes: 1 << 26 });
    await released(pool, sandbox);
    await settle();
    expect(created).toHaveLength(1);
    expect(pool.stats().ready).toBe(0);
  });

  it('skips a ready sandbox that died', async () => {
    const { pool, created } = fakePool(1);
    pool.warm(settings);
    await settle();
    created[0]!.alive = false;
    const sandbox = await pool.acquire(settings);
    expect(fake(sandbox).name).not.toBe('fake-1');
    expect(created[0]!.destroyed).toBe(true);
    await pool.close();
  });

  it('empties an idle key and stops refilling it until it is used again', async () => {
    const { pool, created } = fakePool(2, { idleMs: 1000 });
    pool.warm(settings);
    await vi.advanceTimersByTimeAsync(10);
    expect(pool.stats().ready).toBe(1);
    await vi.advanceTimersByTimeAsync(1500);
    expect(pool.stats().ready).toBe(0);
    expect(created.every((sandbox) => sandbox.destroyed)).toBe(true);
    const sandbox = await pool.acquire(settings);
    await released(pool, sandbox);
    await vi.advanceTimersByTimeAsync(pastRefillMs);
    expect(pool.stats().ready).toBe(2);
    await pool.close();
  });

  it('destroys everything it holds on close, including sandboxes that finish starting later', async () => {
    const { pool, created } = fakePool(2, { delayMs: 30 });
    pool.warm(settings);
    await whileTimePasses(pool.close());
    expect(created).toHaveLength(1);
    expect(created.every((sandbox) => sandbox.destroyed)).toBe(true);
    expect(pool.stats().ready).toBe(0);
  });

  it('abandons, never removes, what it holds or gets back after close({ wait: false })', async () => {
    const { pool, created } = fakePool(2, { delayMs: 30 });
    pool.warm(settings);
    await settle(50);
    await released(pool, await pool.acquire(settings));
    await settle(pastRefillMs);
    expect(pool.stats().ready).toBe(2);
    const [running, finished, own] = await whileTimePasses(Promise.all([pool.acquire(settings), pool.acquire(settings), pool.acquire(settings)]));
    // `finished` waits for its removal while the others run; then the runtime closes without waiting.
    void pool.release(finished!);
    await pool.close({ wait: false });
    expect(fake(finished!).abandoned).toBe(true);
    await released(pool, running!);
    await released(pool, own!);
    expect([running, own].map((sandbox) => fake(sandbox!).abandoned)).toEqual([true, true]);
    // Only the sandbox used before the close went through a removal.
    expect(created.filter((sandbox) => sandbox.destroyed).map((sandbox) => sandbox.name)).toEqual(['fake-1']);
  });

  it('abandons a sandbox that finishes starting after close({ wait: false })', async () => {
    const { pool, created } = fakePool(1, { delayMs: 30 });
    pool.warm(settings);
    await pool.close({ wait: false });
    expect(created[0]!.abandoned).toBe(false);
    await settle(50);
    expect(created[0]!.abandoned).toBe(true);
    expect(created[0]!.destroyed).toBe(false);
  });

  it('holds back removals and refills while other runs of the key execute, then does both', async () => {
    const { pool, created } = fakePool(1, { maxSize: 8 });
    pool.warm(settings);
    await settle();
    const burst = await Promise.all([pool.acquire(settings), pool.acquire(settings), pool.acquire(settings)]);
    expect(pool.stats().active).toBe(3);
    const first = pool.release(burst[0]!);
    const second = pool.release(burst[1]!);
    await settle(pastRefillMs);
    // One run still executes: nothing removed, nothing started.
    expect(burst.slice(0, 2).map((sandbox) => fake(sandbox).destroyed)).toEqual([false, false]);
    expect(created).toHaveLength(3);
    expect(pool.stats()).toMatchObject({ removing: 2, refillScheduled: false, active: 1 });
    await released(pool, burst[2]!);
    await whileTimePasses(Promise.all([first, second]));
    expect(burst.every((sandbox) => fake(sandbox).destroyed)).toBe(true);
    // The pool now keeps as many ready as the burst needed.
    await settle(pastRefillMs);
    expect(pool.stats().ready).toBe(3);
    expect(pool.stats()).toMatchObject({ ready: 3, starting: 0, removing: 0, target: 3, active: 0 });
    await pool.close();
  });

  it('removes a used sandbox after at most maxRemovalDelayMs, even while another run executes', async () => {
    const { pool } = fakePool(1);
    pool.warm(settings);
    await vi.advanceTimersByTimeAsync(10);
    const [long, short] = await Promise.all([pool.acquire(settings), pool.acquire(settings)]);
    void pool.release(short!);
    await vi.advanceTimersByTimeAsync(maxRemovalDelayMs - 10);
    expect(fake(short!).destroyed).toBe(false);
    await vi.advanceTimersByTimeAsync(20);
    expect(fake(short!).destroyed).toBe(true);
    expect(fake(long!).destroyed).toBe(false);
    await released(pool, long!);
    await pool.close();
  });

  it('grows to the bursts it sees, at most maxSize, and back to size after idleMs without one', async () => {
    const { pool } = fakePool(1, { maxSize: 3, idleMs: 10_000 });
    pool.warm(settings);
    await vi.advanceTimersByTimeAsync(10);
    const burst = await Promise.all(Array.from({ length: 5 }, () => pool.acquire(settings)));
    await whileTimePasses(Promise.all(burst.map((sandbox) => pool.release(sandbox))));
    await vi.advanceTimersByTimeAsync(pastRefillMs);
    expect(pool.stats().ready).toBe(3);
    // Used now and then, one run at a time: the burst is recent, the pool stays grown.
    await vi.advanceTimersByTimeAsync(6000);
    await released(pool, await pool.acquire(settings));
    await vi.advanceTimersByTimeAsync(pastRefillMs);
    expect(pool.stats().ready).toBe(3);
    // No burst for idleMs: back to one.
    await vi.advanceTimersByTimeAsync(6000);
    await released(pool, await pool.acquire(settings));
    await vi.advanceTimersByTimeAsync(pastRefillMs);
    expect(pool.stats().ready).toBe(1);
    expect(pool.stats().target).toBe(1);
    await pool.close();
  });

  it('replaces a used sandbox at once when the key runs low (after the first run), so single runs back to back keep finding one', async () => {
    const { pool, created } = fakePool(2, { maxSize: 8 });
    pool.warm(settings);
    await settle();
    await released(pool, await pool.acquire(settings));
    await settle(pastRefillMs);
    expect(pool.stats().ready).toBe(2);
    for (let index = 0; index < 3; index += 1) {
      const single = await pool.acquire(settings);
      const before = created.length;
      const removed = pool.release(single);
      // Started at the release, not at the next run and not after a delay.
      expect(created.length).toBe(before + 1);
      await whileTimePasses(removed);
    }
    await settle();
    expect(pool.stats()).toMatchObject({ ready: 2, starting: 0, target: 2 });
    await pool.close();
  });

  it('tops up in the quiet after runs while enough are ready, so nothing starts between runs back to back', async () => {
    const { pool, created } = fakePool(2, { maxSize: 8 });
    pool.warm(settings);
    await settle();
    const burst = await Promise.all([1, 2, 3, 4].map(() => pool.acquire(settings)));
    await whileTimePasses(Promise.all(burst.map((sandbox) => pool.release(sandbox))));
    await settle(pastRefillMs);
    expect(pool.stats()).toMatchObject({ ready: 4, target: 4 });
    const before = created.length;
    // Two single runs back to back leave two ready: nothing is started between them.
    for (let index = 0; index < 2; index += 1) await released(pool, await pool.acquire(settings));
    expect(created.length).toBe(before);
    expect(pool.stats()).toMatchObject({ ready: 2, refillScheduled: true });
    // A third leaves one, fewer than `size`: the refill starts at once (two at a time).
    const removed = pool.release(await pool.acquire(settings));
    expect(created.length).toBe(before + 2);
    await whileTimePasses(removed);
    await settle(pastRefillMs);
    expect(pool.stats()).toMatchObject({ ready: 4, starting: 0, refillScheduled: false });
    await pool.close();
  });

  it('removes used sandboxes in the quiet after runs back to back, not between them', async () => {
    const { pool } = fakePool(2, { maxSize: 8 });
    pool.warm(settings);
    await settle();
    await released(pool, await pool.acquire(settings));
    await settle(pastRefillMs);
    const used: Sandbox[] = [];
    const removals: Array<Promise<void>> = [];
    for (let index = 0; index < 3; index += 1) {
      const sandbox = await pool.acquire(settings);
      used.push(sandbox);
      removals.push(pool.release(sandbox));
    }
    expect(used.map((sandbox) => fake(sandbox).destroyed)).toEqual([false, false, false]);
    await settle(60);
    expect(used.map((sandbox) => fake(sandbox).destroyed)).toEqual([true, true, true]);
    await Promise.all(removals);
    await pool.close();
  });

  it('does not grow for a single run that waits for a replacement still starting', async () => {
    const { pool } = fakePool(1, { maxSize: 8, delayMs: 50 });
    pool.warm(settings);
    await settle(60);
    await released(pool, await pool.acquire(settings));
    await settle(200);
    for (let index = 0; index < 3; index += 1) await released(pool, await whileTimePasses(pool.acquire(settings)));
    await settle(200);
    expect(pool.stats()).toMatchObject({ ready: 1, target: 1 });
    await pool.close();
  });

  it('keeps one more ready for every run of a burst that found none once it was full, so a burst right after single runs finds enough next time', async () => {
    const { pool, created } = fakePool(2, { maxSize: 16, delayMs: 50 });
    pool.warm(settings);
    await settle(60);
    // A first burst of eight: the pool keeps eight.
    const first = await whileTimePasses(Promise.all(Array.from({ length: 8 }, () => pool.acquire(settings))));
    await whileTimePasses(Promise.all(first.map((sandbox) => pool.release(sandbox))));
    await settle(1000);
    expect(pool.stats()).toMatchObject({ ready: 8, target: 8 });
    const round = async (): Promise<{ waited: boolean }> => {
      // Four single runs back to back, quicker than a start: their replacements are still starting.
      for (let index = 0; index < 4; index += 1) await released(pool, await pool.acquire(settings));
      const before = created.length;
      const burst = Promise.all(Array.from({ length: 8 }, () => pool.acquire(settings)));
      let acquired = false;
      void burst.then(() => (acquired = true));
      // No fake time passes: only a burst served from ready sandboxes is acquired now.
      await vi.advanceTimersByTimeAsync(0);
      const waited = !acquired || created.length > before;
      const taken = await whileTimePasses(burst);
      await whileTimePasses(Promise.all(taken.map((sandbox) => pool.release(sandbox))));
      await settle(2000);
      return { waited };
    };
    // Four of the burst found none ready: four more are kept from now on.
    expect((await round()).waited).toBe(true);
    expect(pool.stats()).toMatchObject({ ready: 12, target: 12 });
    // The next round's burst finds all eight ready.
    expect((await round()).waited).toBe(false);
    expect(pool.stats()).toMatchObject({ ready: 12, target: 12 });
    await pool.close();
  });

  it('starts at most two sandboxes at a time to refill', async () => {
    const { pool } = fakePool(1, { maxSize: 8, delayMs: 50 });
    pool.warm(settings);
    await settle(60);
    const burst = await whileTimePasses(Promise.all(Array.from({ length: 6 }, () => pool.acquire(settings))));
    await whileTimePasses(Promise.all(burst.map((sandbox) => pool.release(sandbox))));
    expect(pool.stats()).toMatchObject({ starting: 2, target: 6 });
    await settle(40);
    expect(pool.stats().starting).toBe(2);
    await settle(300);
    expect(pool.stats()).toMatchObject({ ready: 6, starting: 0 });
    await pool.close();
  });

  it('says once per quiet spell that it has come to rest, with how many are ready', async () => {
    const rests: PoolStats[] = [];
    const { pool } = fakePool(2, { delayMs: 30, onRest: (stats) => rests.push(stats) });
    pool.warm(settings);
    expect(rests).toEqual([]);
    await settle(50);
    // Warm: one started for the first run, nothing else in flight.
    expect(rests).toEqual([{ ready: 1, starting: 0, removing: 0, refillScheduled: false, target: 2, active: 0 }]);
    const sandbox = await pool.acquire(settings);
    const removed = pool.release(sandbox);
    // The used one is being removed and the refill is scheduled: not at rest.
    expect(rests).toHaveLength(1);
    await whileTimePasses(removed);
    await settle(200);
    expect(rests.map((stats) => stats.ready)).toEqual([1, 2]);
    await settle(1000);
    expect(rests).toHaveLength(2);
    await pool.close();
  });

  it('logs a failed warm-up and lets the run report its own error', async () => {
    const { pool } = fakePool(1, { fail: true });
    pool.warm(settings);
    await expect(pool.acquire(settings)).rejects.toThrow('engine said no');
    await pool.close();
  });

  it('groups by pool key', () => {
    expect(poolKey(settings)).toMatch(/^[0-9a-f]{16}$/);
  });
});
