/**
 * Builds run results the same way for both runners, so a caller sees one shape (the same keys, in the
 * same order) whether the script ran in Docker or locally, and the exit-code conventions hold everywhere:
 * 124 for a timeout, 137 for the memory limit.
 */
import { ExitCode } from '../errors.js';
import { installFailureSummary } from './environments/ensure-environment.js';
import { parsePythonError } from './traceback.js';
import type { Artifact, BlockedConnection, EnvironmentInfo, NetworkReport, PythonError, RefusedArtifact, RunResult } from './types.js';

/** Why pycage ended a run itself, if it did. */
export type StopReason = 'timeout' | 'output-limit' | 'abort' | undefined;

export interface RunFacts {
  /** The process's own status; null when unknown (its container was removed under it). */
  exitCode: number | null;
  stdout: string;
  stderr: string;
  stopReason: StopReason;
  oomKilled: boolean;
  outputTruncated: boolean;
  outputLimitBytes: number;
  durationMs: number;
  requirements: readonly string[];
  artifacts: Artifact[];
  refusedArtifacts: RefusedArtifact[];
  artifactsError: string | undefined;
  network: NetworkReport;
  environment: EnvironmentInfo | undefined;
}

export function outputLimitError(limitBytes: number): PythonError {
  return {
    name: 'OutputLimitError',
    message: `The script printed more than ${limitBytes} bytes; pycage stopped it and kept the first ${limitBytes}.`,
    traceback: '',
  };
}

export function buildRunResult(facts: RunFacts): RunResult {
  const timedOut = facts.stopReason === 'timeout';
  const stoppedForOutput = facts.stopReason === 'output-limit';
  let exitCode: number;
  if (timedOut) exitCode = ExitCode.timeout;
  else if (facts.oomKilled) exitCode = ExitCode.memory;
  else if (stoppedForOutput) exitCode = ExitCode.failure;
  else exitCode = facts.exitCode ?? ExitCode.failure;

  const result: RunResult = {
    exitCode,
    stdout: facts.stdout,
    stderr: facts.stderr,
    timedOut,
    oomKilled: facts.oomKilled,
    outputTruncated: facts.outputTruncated,
    durationMs: facts.durationMs,
    requirements: [...facts.requirements],
    artifacts: facts.artifacts,
    refusedArtifacts: facts.refusedArtifacts,
    network: facts.network,
  };
  if (facts.artifactsError !== undefined) result.artifactsError = facts.artifactsError;
  if (facts.environment !== undefined) result.environment = facts.environment;
  const error = stoppedForOutput ? outputLimitError(facts.outputLimitBytes) : exitCode !== 0 ? parsePythonError(facts.stderr) : undefined;
  if (error !== undefined) result.error = error;
  return result;
}

/** A run that never started because its requirements could not be installed. */
export function installFailureResult(options: {
  requirements: readonly string[];
  environment: EnvironmentInfo;
  exitCode: number;
  output: string;
  network: NetworkReport;
}): RunResult {
  return {
    exitCode: options.exitCode === 0 ? ExitCode.failure : options.exitCode,
    stdout: '',
    stderr: options.output,
    timedOut: false,
    oomKilled: false,
    outputTruncated: false,
    durationMs: 0,
    requirements: [...options.requirements],
    artifacts: [],
    refusedArtifacts: [],
    network: options.network,
    environment: options.environment,
    error: { name: 'InstallError', message: installFailureSummary(options.output), traceback: options.output.trimEnd() },
  };
}

/**
 * The connections a run's network refused. Read defensively: runtimes before the egress proxy give
 * no `network` field at all, and a malformed entry is skipped rather than trusted.
 */
export function blockedConnections(result: RunResult): BlockedConnection[] {
  const network = (result as { network?: { blocked?: unknown } }).network;
  const blocked = Array.isArray(network?.blocked) ? (network.blocked as unknown[]) : [];
  return blocked.flatMap((entry) => {
    if (typeof entry !== 'object' || entry === null) return [];
    const { host, port, reason } = entry as Record<string, unknown>;
    if (typeof host !== 'string') return [];
    return [{ host, port: typeof port === 'number' ? port : Number(port), reason: typeof reason === 'string' ? reason : 'refused' }];
  });
}
