/**
 * The agent's public shapes: what one attempt records, what the loop reports as it goes, and what it
 * returns. The CLI, the interactive session and library users all consume these.
 */
import type { ChatMessage, TokenUsage } from '../generator/index.js';
import type { RefusedPackage, RequirementDetail } from '../requirements/index.js';
import type { RunResult, RuntimeEvent } from '../runtime/index.js';

/** What started an attempt: a model answer, or the agent adding a package a `ModuleNotFoundError` named. */
export type AttemptTrigger = 'model' | 'missing-module' | 'edited';

/**
 * - `succeeded`: the script ran and exited 0.
 * - `failed`: the script ran and failed (non-zero exit, timeout, memory, install error).
 * - `no-code`: the model's answer had no Python block.
 * - `skipped`: the reviewer chose not to run it (or asked for another answer).
 * - `refused`: the package gate refused its packages (the model was told, or the run ends refused).
 */
export type AttemptStatus = 'succeeded' | 'failed' | 'no-code' | 'skipped' | 'refused';

export interface Attempt {
  /** 1-based, in the order the attempts happened. */
  number: number;
  trigger: AttemptTrigger;
  status: AttemptStatus;
  /** The model's whole answer, for attempts that asked the model. */
  answer?: string;
  code?: string;
  /** Which extraction rule chose the code. */
  rule?: string;
  requirements: string[];
  /** Warnings from requirement inference (an unreachable index, an unknown package). */
  warnings: string[];
  /** Each requirement's origin and what the index said (inferred requirements only). */
  packages?: RequirementDetail[];
  /** What the package gate refused, and why. */
  refused?: RefusedPackage[];
  result?: RunResult;
  /** Time spent waiting for the model; 0 when the attempt made no model call. */
  modelDurationMs: number;
  /** Tokens the model's answer cost, when the endpoint reported them (attempts that asked the model). */
  usage?: TokenUsage;
  /** Time spent installing and running; 0 when nothing ran. */
  runDurationMs: number;
}

/**
 * - `succeeded`: the last attempt's script exited 0.
 * - `failed`: every attempt was spent and the last run failed.
 * - `no-code`: every attempt was spent and the last answer had no code.
 * - `declined`: the reviewer chose not to run the code.
 * - `refused`: a safety policy refused it: a package nobody vouched for (not allowed, not approved),
 *   a URL or path requirement. Nothing was installed.
 */
export type AgentStatus = 'succeeded' | 'failed' | 'no-code' | 'declined' | 'refused';

export interface AgentResult {
  status: AgentStatus;
  /** The code of the last attempt that had any. */
  code?: string;
  requirements: string[];
  /** The last run's result, when anything ran. */
  result?: RunResult;
  attempts: Attempt[];
  /**
   * Exit status for the CLI contract: the script's own (124 timeout, 137 memory), 4 when the model never
   * gave code, 1 when declined, 5 when refused.
   */
  exitCode: number;
  /** For `refused`: what was refused and why (each entry names the package and how to allow it). */
  refused?: RefusedPackage[];
  /**
   * With status `no-code`: the model's own words, when it answered in prose with no code at all (a
   * refusal, a question back). Pass `history` to the next request and the model sees them.
   */
  message?: string;
  /**
   * The conversation to continue from for a follow-up request: earlier turns plus this request and the
   * code that answered it. Pass it back as `history`.
   */
  history: ChatMessage[];
}

/** The code the agent is about to run, shown to a reviewer who decides what happens to it. */
export interface Proposal {
  attempt: number;
  code: string;
  requirements: string[];
  warnings: string[];
  trigger: AttemptTrigger;
  /** Each requirement's origin and what the index said about it. */
  packages: RequirementDetail[];
  /**
   * Packages the gate will not install without a yes, with what the index says about each. A `run`
   * decision is that yes; `refuse` ends the request refused (exit 5).
   */
  flagged: RefusedPackage[];
}

export type ReviewDecision =
  | { action: 'run' }
  /** Run this code instead (edited by the user); its requirements are inferred again. */
  | { action: 'edit'; code: string }
  /** Ask the model for another answer; does not count as a failed attempt. */
  | { action: 'regenerate' }
  | { action: 'skip' }
  /** Refuse the flagged packages: the request ends `refused` (exit 5), nothing installed. */
  | { action: 'refuse' };

/**
 * What the loop reports as it goes. Names follow `RuntimeEvent`'s style, noun then what happened
 * (`model-start`, `code-ready`, `install-done`, `run-end`); the install and run events are the runtime's
 * own, tagged with the attempt.
 */
export type AgentEvent =
  | { type: 'model-start'; attempt: number }
  | { type: 'code-ready'; attempt: number; code: string; rule: string; reason: string; modelDurationMs: number; usage?: TokenUsage }
  /** `words`: the answer is prose with no code block at all (a refusal, a question back); it is not retried. */
  | { type: 'code-missing'; attempt: number; answer: string; words: boolean; modelDurationMs: number; usage?: TokenUsage }
  | { type: 'requirements'; attempt: number; requirements: string[]; warnings: string[] }
  | { type: 'module-missing'; attempt: number; module: string; requirement: string }
  /** The gate refused packages; `toldModel` when the model is asked for another way. */
  | { type: 'packages-refused'; attempt: number; refused: RefusedPackage[]; toldModel: boolean }
  | { type: 'install-start'; attempt: number; requirements: string[] }
  | { type: 'install-done'; attempt: number; reused: boolean; durationMs: number }
  | { type: 'run-start'; attempt: number }
  | { type: 'output'; attempt: number; stream: 'stdout' | 'stderr'; text: string }
  | { type: 'run-end'; attempt: number; result: RunResult }
  | { type: 'retry'; attempt: number; reason: string }
  | { type: 'runtime'; event: RuntimeEvent }
  | { type: 'agent-done'; result: AgentResult };
