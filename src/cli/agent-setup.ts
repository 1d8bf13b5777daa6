/**
 * What the one-shot command and the interactive session share about the agent: its options from the
 * flags, showing its progress, and summing up its outcome. (Setting up the model is in model-setup.ts,
 * which `pycage doctor` loads without loading the agent.)
 */
import { indexUnreachable, type AgentEvent, type AgentResult, type Proposal, type SessionOptions } from '../agent/index.js';
import type { RefusedPackage } from '../requirements/index.js';
import type { Runtime } from '../runtime/index.js';
import type { CliFlags } from './args.js';
import type { CliIo } from './io.js';
import type { ModelSetup } from './model-setup.js';
import { flushOutput, writeOutput } from './output.js';
import { formatDuration, type Reporter } from './reporter.js';
import { describeArtifacts, describeBlocked, packageSourceFrom, reportRuntimeEvent, runOptionsFrom, summarizeRun } from './runtime-setup.js';
import type { TokenUsage } from '../generator/index.js';

/**
 * The agent settings that come from flags, shared by the one-shot command and the session.
 * @param files the user's files (--file), already read.
 */
export function agentOptionsFrom(
  flags: CliFlags,
  io: CliIo,
  reporter: Reporter,
  model: ModelSetup,
  runtime: Runtime,
  files: Record<string, Uint8Array> = {},
): SessionOptions {
  const options: SessionOptions = {
    provider: model.provider,
    runtime,
    requirements: flags.requirements ?? 'auto',
    // The runtime's own source, from the flags: its describe() masks the index credentials pinning needs.
    packageSource: packageSourceFrom(flags, io),
    runOptions: { ...runOptionsFrom(flags, io), ...(Object.keys(files).length === 0 ? {} : { files }) },
    filePreview: !flags.noFilePreview,
    allowHosts: flags.allowHosts,
  };
  if (flags.maxAttempts !== undefined) options.maxAttempts = flags.maxAttempts;
  // The package gate (design: "Packages the model chose").
  options.allowPackages = flags.allowPackages;
  options.allowUrlRequirements = flags.allowUrlRequirements;
  options.allowSdist = flags.allowSdist;
  if (flags.minReleaseAgeDays !== undefined) options.minReleaseAgeDays = flags.minReleaseAgeDays;
  if (model.instruction !== undefined) options.instruction = model.instruction;
  if (reporter.logSink !== undefined) options.logger = reporter.logSink;
  return options;
}

export interface EventContext {
  reporter: Reporter;
  io: CliIo;
  modelLabel: string;
}

export function reportAgentEvent(event: AgentEvent, context: EventContext): void {
  const { reporter } = context;
  switch (event.type) {
    case 'model-start':
      reporter.status(`Asking ${context.modelLabel}${event.attempt > 1 ? ` (attempt ${event.attempt})` : ''}`);
      return;
    case 'code-ready':
      // The code itself is shown by the review step, with its requirements.
      reporter.done(describeAnswer(event.modelDurationMs, event.usage));
      return;
    case 'code-missing':
      reporter.done(describeAnswer(event.modelDurationMs, event.usage));
      if (event.words) reporter.words(event.answer, 'The model answered without code');
      else reporter.warn('The answer had no Python code block.');
      return;
    case 'module-missing':
      reporter.info(`No module named '${event.module}': adding ${event.requirement} and running again (no model call).`);
      return;
    case 'packages-refused':
      if (event.toldModel) reporter.warn(`Unknown package${event.refused.length === 1 ? '' : 's'} ${event.refused.map((entry) => entry.name).join(', ')}: asking the model for another way.`);
      return;
    case 'output':
      // Not into a spinner's line: a failed install's log arrives while "Installing" still turns.
      reporter.pause();
      writeOutput(event.stream === 'stdout' ? context.io.stdout : context.io.stderr, event.text);
      return;
    case 'run-end':
      flushOutput(context.io.stdout);
      flushOutput(context.io.stderr);
      // Said once: by 'retry' when another attempt follows, by the outcome when it was the last.
      return;
    case 'retry':
      reporter.info(`Retrying: ${event.reason}.`);
      return;
    case 'runtime':
      reportRuntimeEvent(event.event, reporter);
      return;
    case 'requirements':
    case 'install-start':
    case 'install-done':
    case 'run-start':
    case 'agent-done':
      // Shown elsewhere: requirements with the code, installs through the runtime's own events.
      return;
  }
}

/**
 * The code up for review, with its requirements and their warnings. @param label what model-written
 * code is called ('Generated code', 'Code'); code the user edited is 'Your edited code'.
 */
export function showProposal(proposal: Proposal, reporter: Reporter, label: string): void {
  const title = proposal.trigger === 'edited' ? 'Your edited code' : proposal.attempt === 1 ? label : `${label} (attempt ${proposal.attempt})`;
  reporter.code(proposal.code, title);
  reporter.info(`Requirements: ${proposal.requirements.length === 0 ? 'none' : proposal.requirements.join(', ')}`);
  for (const warning of proposal.warnings) reporter.warn(warning);
  for (const flagged of proposal.flagged) reporter.warn(`FLAGGED ${flagged.message}`);
}

/** One line naming what the gate refused and how to allow it, for the outcome and for --json. */
export function describeRefusal(refused: readonly RefusedPackage[]): string {
  return `Refused, nothing was installed: ${refused.map((entry) => entry.message).join(' ')}`;
}

/** How long the model took and what it cost, for the line that closes its spinner. */
export function describeAnswer(modelDurationMs: number, usage: TokenUsage | undefined): string {
  const tokens = usage === undefined ? '' : ` · ${usage.totalTokens} tokens (${usage.promptTokens} in, ${usage.completionTokens} out)`;
  return `Answered in ${formatDuration(modelDurationMs)}${tokens}`;
}

/**
 * How a request ended, for the user (not for --json): the files it saved (a failed or timed-out run
 * may have saved some too), then one line on the outcome. @param totalMs the whole request, when the
 * caller timed it (the session does).
 */
export function reportAgentOutcome(outcome: AgentResult, reporter: Reporter, options: { timeoutMs: number; cwd: string; totalMs?: number }): void {
  const artifacts = outcome.result === undefined ? undefined : describeArtifacts(outcome.result, options.cwd);
  if (artifacts !== undefined) reporter.success(artifacts);
  const blocked = outcome.result === undefined ? undefined : describeBlocked(outcome.result);
  if (blocked !== undefined) reporter.warn(blocked);
  let summary = summarizeAgent(outcome, options.timeoutMs);
  if (options.totalMs !== undefined) summary += ` · ${describeTotal(outcome, options.totalMs)}`;
  if (outcome.exitCode === 0) reporter.success(summary);
  else if (outcome.message !== undefined) reporter.info(summary);
  else reporter.error(summary);
}

function describeTotal(outcome: AgentResult, totalMs: number): string {
  const modelMs = outcome.attempts.reduce((sum, attempt) => sum + attempt.modelDurationMs, 0);
  const tokens = outcome.attempts.reduce((sum, attempt) => sum + (attempt.usage?.totalTokens ?? 0), 0);
  return `total ${formatDuration(totalMs)} (model ${formatDuration(modelMs)}${tokens > 0 ? `, ${tokens} tokens` : ''})`;
}

function summarizeAgent(outcome: AgentResult, timeoutMs?: number): string {
  const answers = outcome.attempts.filter((attempt) => attempt.trigger === 'model').length;
  switch (outcome.status) {
    case 'succeeded': {
      const summary = outcome.result === undefined ? 'Done' : summarizeRun(outcome.result, timeoutMs);
      return outcome.attempts.length > 1 ? `${summary} (after ${outcome.attempts.length} attempts)` : summary;
    }
    case 'failed':
      if (outcome.result !== undefined && indexUnreachable(outcome.result)) {
        return `${summarizeRun(outcome.result, timeoutMs)}. The package index could not be reached; use --index-url, --find-links DIR with --no-index, or --requirements none.`;
      }
      return `Still failing after ${answers} model answer${answers === 1 ? '' : 's'}. ${outcome.result === undefined ? '' : summarizeRun(outcome.result, timeoutMs)}`.trim();
    case 'no-code':
      if (outcome.message !== undefined) return 'The model answered in words, without code (above); nothing was run.';
      return `The model gave no Python code in ${answers} answer${answers === 1 ? '' : 's'}; nothing was run.`;
    case 'declined':
      return 'Not run.';
    case 'refused':
      return describeRefusal(outcome.refused ?? []);
  }
}

/** The --json object of a request: the final run's result fields, plus every attempt. */
export function agentJson(outcome: AgentResult, request: string, model: string): Record<string, unknown> {
  const json: Record<string, unknown> = { request, model, status: outcome.status };
  if (outcome.result !== undefined) Object.assign(json, outcome.result);
  else {
    json.exitCode = outcome.exitCode;
    if (outcome.status === 'no-code') {
      json.error = { name: 'NoCodeBlockError', message: 'The model gave no Python code block.', traceback: '' };
    }
    if (outcome.status === 'refused') json.error = { name: 'PolicyError', message: describeRefusal(outcome.refused ?? []), traceback: '' };
  }
  if (outcome.message !== undefined) json.message = outcome.message;
  json.code = outcome.code ?? null;
  json.requirements = outcome.requirements;
  // Each requirement's origin (and, for a refusal, why): from the last attempt that inferred them.
  json.packages = outcome.attempts.findLast((attempt) => attempt.packages !== undefined)?.packages ?? [];
  if (outcome.refused !== undefined) json.refused = outcome.refused;
  json.attempts = outcome.attempts;
  return json;
}
