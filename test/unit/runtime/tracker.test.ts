import { describe, expect, it } from 'vitest';
import { RuntimeTracker, type Tracked } from '../../../src/runtime/tracker.js';

/** An item that records what was done to it and ends when destroyed, abandoned or told to. */
function item(): Tracked & { calls: string[]; end: () => void } {
  let end!: () => void;
  const ended = new Promise<void>((resolve) => {
    end = resolve;
  });
  const calls: string[] = [];
  return {
    calls,
    ended,
    end,
    destroy: async () => {
      calls.push('destroy');
      end();
    },
    abandon: () => {
      calls.push('abandon');
      end();
    },
  };
}

/** A promise settled by hand, and whether it has been awaited past. */
function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}

describe('RuntimeTracker', () => {
  it('on a waiting close, destroys what is in use and leaves the rest to its owner', async () => {
    const tracker = new RuntimeTracker<ReturnType<typeof item>>();
    const running = item();
    const warm = item();
    const returned = item();
    tracker.use(running);
    tracker.started(warm);
    tracker.use(returned);
    tracker.doneWith(returned);
    await tracker.close({ wait: true });
    expect(running.calls).toEqual(['destroy']);
    expect(warm.calls).toEqual([]);
    expect(returned.calls).toEqual([]);
  });

  it('on a waiting close, waits for removals and other work, failed or not', async () => {
    const tracker = new RuntimeTracker<ReturnType<typeof item>>();
    const used = item();
    tracker.use(used);
    const removal = deferred();
    const connection = deferred();
    tracker.removing(used, removal.promise);
    tracker.waitFor(connection.promise);
    let closed = false;
    const closing = tracker.close({ wait: true }).then(() => {
      closed = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    // Being removed already: not destroyed a second time.
    expect(used.calls).toEqual([]);
    removal.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(false);
    connection.reject(new Error('reset'));
    await closing;
    expect(closed).toBe(true);
  });

  it('on a close without waiting, abandons every item it still counts and waits for nothing', async () => {
    const tracker = new RuntimeTracker<ReturnType<typeof item>>();
    const running = item();
    const warm = item();
    const removed = item();
    const gone = item();
    tracker.use(running);
    tracker.started(warm);
    tracker.removing(tracker.started(removed), new Promise(() => undefined));
    tracker.started(gone);
    gone.end();
    await gone.ended;
    await tracker.close({ wait: false });
    expect(running.calls).toEqual(['abandon']);
    expect(warm.calls).toEqual(['abandon']);
    expect(removed.calls).toEqual(['abandon']);
    expect(gone.calls).toEqual([]);
  });

  it('forgets an item once it has ended, in whatever phase', async () => {
    const tracker = new RuntimeTracker<ReturnType<typeof item>>();
    const used = item();
    tracker.use(used);
    used.end();
    await used.ended;
    await tracker.close({ wait: true });
    expect(used.calls).toEqual([]);
  });
});
