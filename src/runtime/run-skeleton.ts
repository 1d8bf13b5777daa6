/**
 * The skeleton of one run, the same for both runners: the output collector and its cap, the timer, the
 * caller's abort, why pycage stopped the script (if it did), the `run-start` and `run-end` events and
 * the result. A runner supplies only what differs, as `RunSteps`: how its script runs, how it is
 * stopped, and what happens after it (the Docker runner reaps, collects and judges an OOM kill; the
 * local runner copies the output folder).
 *
 * In order: the caller's abort is listened to -> `beforeStart` -> `run-start`, the clock and the timer
 * -> `runScript` -> the timer is off; an abort so far throws -> `afterScript` -> the result, `run-end`.
 * Taking and giving back what a run runs in (a container, a work directory) is the runner's, around this.
 */
import { performance } from 'node:perf_hooks';
import { throwIfAborted } from '../abort.js';
import { AbortedError } from '../errors.js';
import type { Logger } from '../logger.js';
import { displayName, writeArtifacts, type ArtifactFile } from './artifacts.js';
import type { ExecuteRequest } from './base-runtime.js';
import { OutputCollector } from './output.js';
import { buildRunResult } from './result.js';
import type { Artifact, NetworkReport, RefusedArtifact, RunResult } from './types.js';

/** Why pycage stopped a script itself. */
export type ScriptStopReason = 'timeout' | 'output-limit';

/** What a runner's steps see of the run while it goes on. */
export interface RunControl {
  /** Where the script's output goes (live to the caller, capped). */
  readonly collector: OutputCollector;
  /** Why pycage stopped the script, if it did; the first reason wins, and none counts after an abort. */
  readonly stopReason: ScriptStopReason | undefined;
  /** The caller aborted, at whatever point of the run. */
  readonly aborted: boolean;
  /** Throws the runner's AbortedError once the caller has aborted. */
  throwIfCancelled(): void;
  /** The script is started again (in a fresh container): its duration is measured from now. */
  restartClock(): void;
  /** Everything the script printed (kept part); only once it has ended. */
  output(): { stdout: string; stderr: string };
}

/** What a run's result says besides its output, its stop reason and its duration. */
export interface RunEnd {
  /** The script's own status; null when there is none (its container went away under it). */
  exitCode: number | null;
  oomKilled: boolean;
  artifacts: Artifact[];
  refusedArtifacts: RefusedArtifact[];
  artifactsError?: string | undefined;
}

export interface RunSteps<Outcome> {
  /** What the AbortedError of a cancelled run says (what happened to the script). */
  cancelledMessage: string;
  /** Stops the script (time is up, or its output passed the cap); the run goes on to what it wrote. */
  stop(reason: ScriptStopReason): void;
  /** The caller aborted: ends the script and everything of the run at once. */
  abort(): void;
  /** Work before the run counts as started (no `run-start` yet, no timer). */
  beforeStart?(): Promise<void>;
  /** The script, until it ends or is stopped; its output goes to `run.collector`. */
  runScript(run: RunControl): Promise<Outcome>;
  /** Everything after the script, and what the result is made of. */
  afterScript(outcome: Outcome, run: RunControl): Promise<RunEnd>;
  /** The run's network, and what it refused, for the result. */
  network(): NetworkReport;
  /** An error thrown once the run had started, as the caller should see it. */
  explainFailure?(error: unknown): unknown;
}

export async function superviseRun<Outcome>(request: ExecuteRequest, steps: RunSteps<Outcome>): Promise<RunResult> {
  const { limits, options } = request;
  let stopReason: ScriptStopReason | undefined;
  let aborted = false;
  let startedAt = 0;
  let timer: NodeJS.Timeout | undefined;
  const stop = (reason: ScriptStopReason): void => {
    if (stopReason !== undefined || aborted) return;
    stopReason = reason;
    steps.stop(reason);
  };
  // Past the output cap the script is stopped, not left running with its output discarded: a script
  // that prints megabytes is almost always stuck in a loop, and draining a flood until the timeout would
  // cost the host CPU for nothing. The first bytes are kept, and the result says why it ended (exit 1,
  // OutputLimitError, outputTruncated).
  const collector = new OutputCollector({
    limitBytes: limits.outputLimitBytes,
    onStdout: options.onStdout,
    onStderr: options.onStderr,
    onLimit: () => stop('output-limit'),
  });
  const onAbort = (): void => {
    aborted = true;
    steps.abort();
  };
  const run: RunControl = {
    collector,
    get stopReason() {
      return stopReason;
    },
    get aborted() {
      return aborted;
    },
    throwIfCancelled: () => {
      if (aborted) throw new AbortedError(steps.cancelledMessage, { cause: options.abortSignal?.reason });
    },
    restartClock: () => {
      startedAt = performance.now();
    },
    output: () => collector.finish(),
  };
  let runStarted = false;
  try {
    throwIfAborted(options.abortSignal);
    options.abortSignal?.addEventListener('abort', onAbort, { once: true });
    // Awaited only when there is something to wait for: without it, nothing stands between the abort
    // check above and the script's start.
    if (steps.beforeStart !== undefined) await steps.beforeStart();
    request.emit({ type: 'run-start' });
    runStarted = true;
    startedAt = performance.now();
    timer = setTimeout(() => stop('timeout'), limits.timeoutMs);
    const outcome = await steps.runScript(run);
    const durationMs = Math.round(performance.now() - startedAt);
    clearTimeout(timer);
    run.throwIfCancelled();
    const end = await steps.afterScript(outcome, run);
    const { stdout, stderr } = collector.finish();
    const result = buildRunResult({
      exitCode: end.exitCode,
      stdout,
      stderr,
      stopReason,
      oomKilled: end.oomKilled,
      outputTruncated: collector.truncated,
      outputLimitBytes: limits.outputLimitBytes,
      durationMs,
      requirements: request.requirements,
      artifacts: end.artifacts,
      refusedArtifacts: end.refusedArtifacts,
      artifactsError: end.artifactsError,
      network: steps.network(),
      environment: request.environment?.info,
    });
    request.emit({ type: 'run-end', exitCode: result.exitCode, durationMs });
    return result;
  } catch (error) {
    throw runStarted && steps.explainFailure !== undefined ? steps.explainFailure(error) : error;
  } finally {
    clearTimeout(timer);
    options.abortSignal?.removeEventListener('abort', onAbort);
    collector.finish();
  }
}

/** A run that copies nothing out (fresh lists: a caller may change its result's). */
export function noArtifacts(): Pick<RunEnd, 'artifacts' | 'refusedArtifacts'> {
  return { artifacts: [], refusedArtifacts: [] };
}

/**
 * Writes the files of a run's output folder into the caller's `outputDir` (see writeArtifacts), and
 * logs what was not copied: what writeArtifacts refused and what was refused before it (`refusedBefore`:
 * entries of the sandbox's archive).
 */
export async function keepArtifacts(
  outputDir: string,
  files: readonly ArtifactFile[],
  options: { refusedBefore?: readonly RefusedArtifact[]; logger: Logger },
): Promise<Pick<RunEnd, 'artifacts' | 'refusedArtifacts'>> {
  const written = await writeArtifacts(outputDir, files);
  const refusedArtifacts = [...(options.refusedBefore ?? []), ...written.refused];
  if (refusedArtifacts.length > 0) {
    options.logger.warn(`not copied from the output directory: ${refusedArtifacts.slice(0, 10).map((item) => `${displayName(item.name)} (${item.reason})`).join(', ')}`);
  }
  return { artifacts: written.artifacts, refusedArtifacts };
}
