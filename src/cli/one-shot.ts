/**
 * The runtime of a one-shot command (`pycage run`, `pycage "<request>"`): Ctrl-C stops the work in
 * progress, and the pool keeps one container, so a retry still finds a warm one. Kept apart from
 * runtime-setup.ts so that `pycage requirements`, which loads that file, does not load the runtime.
 */
import { createRuntime, type Runtime } from '../runtime/index.js';
import type { CliFlags } from './args.js';
import { abortOnSignals, type Interruptible } from './interrupts.js';
import type { CliIo } from './io.js';
import type { Reporter } from './reporter.js';
import { runtimeOptionsFrom } from './runtime-setup.js';

export interface OneShotRuntime {
  readonly runtime: Runtime;
  readonly interrupts: Interruptible;
  /** Stops listening for signals, clears any spinner and lets the containers go, without waiting. */
  close(): Promise<void>;
}

/** @param stopping what the user is told at Ctrl-C. */
export function oneShotRuntime(flags: CliFlags, io: CliIo, reporter: Reporter, stopping: string): OneShotRuntime {
  const interrupts = abortOnSignals(io, () => reporter.warn(stopping));
  const runtime = createRuntime(runtimeOptionsFrom(flags, io, reporter, { poolSize: 1 }));
  return {
    runtime,
    interrupts,
    async close() {
      interrupts.dispose();
      reporter.pause();
      // pycage exits right after: the containers' lifelines are cut and Docker removes them on its own,
      // so the user does not wait for the removals (the next start sweeps anything left).
      await runtime.close({ wait: false });
    },
  };
}
