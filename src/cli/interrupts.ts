/**
 * Ctrl-C and SIGTERM become an abort of the work in progress, so that runs are stopped and their
 * containers removed before pycage exits. A second Ctrl-C exits at once (see nodeIo).
 */
import type { CliIo } from './io.js';

export interface Interruptible {
  readonly signal: AbortSignal;
  /** Which signal stopped the work, if any. */
  readonly received: 'SIGINT' | 'SIGTERM' | undefined;
  dispose(): void;
}

export function abortOnSignals(io: CliIo, onSignal?: (signal: 'SIGINT' | 'SIGTERM') => void): Interruptible {
  const controller = new AbortController();
  let received: 'SIGINT' | 'SIGTERM' | undefined;
  const remove = io.onSignal((signal) => {
    received ??= signal;
    onSignal?.(signal);
    controller.abort(new Error(`received ${signal}`));
  });
  return {
    signal: controller.signal,
    get received() {
      return received;
    },
    dispose: remove,
  };
}
