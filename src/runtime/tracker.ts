/**
 * What a runtime has under way, so that close() can end it: the things it started (sandbox containers,
 * local process groups), which of them a run or an install is using, which are being removed, and the
 * other work close() must wait for (a sandbox's proxied connections). One record with a phase per item,
 * instead of a set per question kept in step by hand.
 *
 * close({ wait: true }) ends what is in use (a run's container goes, which ends the run) and waits for
 * every removal and piece of work; close({ wait: false }) abandons every item at once and waits for
 * nothing (see CloseOptions.wait).
 */

/** Something a runtime starts and must end. */
export interface Tracked {
  /** Resolves once it is gone, however it went. */
  readonly ended: Promise<void>;
  /** Ends it for certain; resolves when it is gone. */
  destroy(): Promise<void>;
  /** Lets go of it without waiting for anything. */
  abandon(): void;
}

/** `started`: alive, not handed out (warm in the pool, still starting, or done with and removing itself). */
type Phase = 'started' | 'in-use' | 'removing';

export class RuntimeTracker<Item extends Tracked> {
  readonly #items = new Map<Item, Phase>();
  readonly #work = new Set<Promise<void>>();

  /** Counts an item this runtime started, until it ends. */
  started(item: Item): Item {
    if (!this.#items.has(item)) {
      this.#items.set(item, 'started');
      void item.ended.then(() => this.#items.delete(item));
    }
    return item;
  }

  /** A run or an install uses the item: close() ends it rather than wait for the run. */
  use(item: Item): void {
    this.started(item);
    this.#items.set(item, 'in-use');
  }

  /** The run or install is done with it and removes it itself. */
  doneWith(item: Item): void {
    if (this.#items.get(item) === 'in-use') this.#items.set(item, 'started');
  }

  /** Its removal is under way: close() waits for that instead of ending it again. */
  removing(item: Item, removal: Promise<unknown>): void {
    if (this.#items.has(item)) this.#items.set(item, 'removing');
    this.waitFor(removal);
  }

  /** Work close() waits for; a failure of it is the work's own business and is not reported here. */
  waitFor(work: Promise<unknown>): void {
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    this.#work.add(settled);
    void settled.then(() => this.#work.delete(settled));
  }

  async close(options: { wait: boolean }): Promise<void> {
    if (!options.wait) {
      for (const item of this.#items.keys()) item.abandon();
      return;
    }
    const inUse = [...this.#items].filter(([, phase]) => phase === 'in-use').map(([item]) => item);
    await Promise.allSettled(inUse.map((item) => item.destroy()));
    // Removals and connections started by the runs that just ended are in the set by now.
    await Promise.allSettled([...this.#work]);
  }
}
