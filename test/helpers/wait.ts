/**
 * Waiting in tests without racing the clock. Speed is measured by bench/, never asserted by a test
 * (DESIGN.md, Tests), so a test waits for the thing itself: an event, a promise, or a condition polled
 * here. The one bound a test keeps is against a hang, where ending at all is the contract (a timeout
 * stops a runaway script, an abort ends a run, no container outlives a killed pycage). That bound is
 * `hangBoundMs`, far above what any such step takes on a loaded machine: it fails a test whose
 * guarantee is broken, never one whose machine is slow.
 */

/**
 * How long a step may take before a test calls it a hang. A guard, not a speed target: a broken
 * guarantee (a timeout that never fires, a container nobody removes) fails at this bound, and a slow
 * machine never gets near it. Below the integration tests' own timeout, so the failure names the step.
 */
export const hangBoundMs = 120_000;

export interface HangBoundOptions {
  /** @default hangBoundMs */
  boundMs?: number;
  /** Called when the bound passes, before the rejection: e.g. to kill the process that hangs. */
  onHang?: () => void;
}

/**
 * Settles as `work` does, or rejects naming `what` once `boundMs` has passed. For a step whose ending
 * is the guarantee under test: it must end, and the test does not care how fast.
 */
export async function withinHangBound<T>(work: Promise<T>, what: string, options: HangBoundOptions = {}): Promise<T> {
  const boundMs = options.boundMs ?? hangBoundMs;
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      options.onHang?.();
      reject(new Error(`${what} did not end within ${boundMs / 1000} s: taken for a hang (a guard against one, not a speed target)`));
    }, boundMs);
  });
  try {
    return await Promise.race([work, hang]);
  } finally {
    clearTimeout(timer);
  }
}

export interface WaitForOptions {
  /** @default hangBoundMs */
  boundMs?: number;
  /** Time between checks. @default 250 */
  intervalMs?: number;
  /** What the failure message adds about the state at the end (the containers still there, the screen). */
  state?: () => string;
}

/**
 * Polls `check` until it holds, for what only shows by looking (Docker state, a terminal's screen, a
 * process list); fails naming `what`, and the state when given, if it does not hold within the bound.
 */
export async function waitFor(check: () => boolean | Promise<boolean>, what: string, options: WaitForOptions = {}): Promise<void> {
  const boundMs = options.boundMs ?? hangBoundMs;
  const deadline = Date.now() + boundMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 250));
  }
  // One last look, so a check that turns true at the deadline is not reported as a hang.
  if (await check()) return;
  const state = options.state?.();
  throw new Error(`gave up after ${boundMs / 1000} s waiting for ${what}${state === undefined ? '' : `; ${state}`}`);
}

/**
 * "Once `count` have arrived" as a promise, for the test servers that record what they receive
 * (requests): `notify()` after each arrival. A test then acts while its client waits on the server.
 */
export function arrivals(current: () => number): { notify(): void; reached(count: number): Promise<void> } {
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  return {
    notify() {
      for (const waiter of waiters.filter((candidate) => current() >= candidate.count)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    },
    reached(count) {
      if (current() >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
  };
}
