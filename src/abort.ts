/**
 * Every async operation takes an optional `abortSignal`; many also have a timeout of their own.
 * These helpers combine the two and turn an abort into pycage's `AbortedError`.
 */
import { AbortedError } from './errors.js';

/** One signal that fires when the caller aborts or when `timeoutMs` passes, whichever is first. */
export function combineSignals(abortSignal?: AbortSignal, timeoutMs?: number): AbortSignal | undefined {
  const signals: AbortSignal[] = [];
  if (abortSignal !== undefined) signals.push(abortSignal);
  if (timeoutMs !== undefined && Number.isFinite(timeoutMs)) signals.push(AbortSignal.timeout(timeoutMs));
  if (signals.length === 0) return undefined;
  if (signals.length === 1) return signals[0];
  return AbortSignal.any(signals);
}

/** Throws `AbortedError` when the signal has already fired. */
export function throwIfAborted(abortSignal?: AbortSignal): void {
  if (abortSignal?.aborted) throw new AbortedError(undefined, { cause: abortSignal.reason });
}

/**
 * `work`, or a rejection with `AbortedError` as soon as the signal fires, whichever comes first: for
 * work that cannot itself be cancelled right away (an SDK asleep between retries, a shared start-up).
 */
export function untilAborted<T>(work: Promise<T>, abortSignal: AbortSignal | undefined): Promise<T> {
  if (abortSignal === undefined) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new AbortedError(undefined, { cause: abortSignal.reason }));
    if (abortSignal.aborted) onAbort();
    abortSignal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => abortSignal.removeEventListener('abort', onAbort));
  });
}
