/**
 * The agent loop: generate -> extract -> requirements -> review -> run, and on failure hand the code
 * and the tail of its error back to the model, up to `maxAttempts` model answers. A missing module is
 * fixed by adding the package and running again, without a model call.
 *
 * Shape: `runAgent` asks the model, `runAnswer` takes one answer through review and its runs, and every
 * attempt is recorded in one place (`Loop.record`). What the loop needs to know (the model answers
 * spent, whether the model was already told about refused packages) and the result it returns (status,
 * code, requirements, last run) are read from that record, never kept in step by hand.
 */
import { AbortedError, ExitCode, PolicyError } from '../errors.js';
import { throwIfAborted } from '../abort.js';
import { toLogger, type Logger, type LogSink } from '../logger.js';
import { NoCodeBlockError } from '../extract/index.js';
import type { ChatMessage, ModelProvider, TokenUsage } from '../generator/index.js';
import { generateCode } from './generate-code.js';
import {
  checkRequirements,
  gatePackages,
  isStandardLibrary,
  pinRequirements,
  popularRank,
  readImports,
  requirementKey,
  requirementsForScript,
  packageSourceKeys,
  resolveDistribution,
  topLevelName,
  type PackageSource,
  type RefusedPackage,
  type RequirementDetail,
  type RequirementOrigin,
} from '../requirements/index.js';
import { runOptionKeys, type RunOptions, type RunResult, type Runtime, type RuntimeEvent } from '../runtime/index.js';
import { checkOptionKeys, type OptionKeys } from '../options.js';
import {
  codeAnswer,
  describeFailure,
  followUpMessage,
  noCodeMessage,
  regenerateMessage,
  requestWithContext,
  retryMessage,
  unknownPackagesMessage,
} from './messages.js';
import { indexUnreachable, missingModule } from './missing-module.js';
import type { AgentEvent, AgentResult, AgentStatus, Attempt, AttemptStatus, AttemptTrigger, Proposal, ReviewDecision } from './types.js';

/** Run settings the agent passes through to every run; streaming and cancellation are the agent's. */
export type AgentRunOptions = Omit<RunOptions, 'requirements' | 'onStdout' | 'onStderr' | 'onEvent' | 'abortSignal'>;

export interface AgentOptions {
  /** What the user asked for, in plain language. */
  request: string;
  provider: ModelProvider;
  runtime: Runtime;
  /** Model answers the agent may ask for before giving up. @default 3 */
  maxAttempts?: number;
  /** Replaces prompts/instruction.md as the system message. @default the shipped instruction */
  instruction?: string;
  /** Earlier turns of a conversation (`AgentResult.history` of the previous request). @default [] */
  history?: readonly ChatMessage[];
  /** The previous request's last run, so a follow-up sees what it printed. */
  previousResult?: RunResult;
  /**
   * `auto` infers them from the code (PEP 723 metadata first), `none` installs nothing, a list is used
   * as given. @default 'auto' (a model's code comes with no list; `runScript` defaults to `'none'`)
   */
  requirements?: 'auto' | 'none' | readonly string[];
  /**
   * Where packages are looked up when pinning. Give it when the runtime's index URL carries
   * credentials: `describe()` shows them masked, so pinning against that would be refused.
   * @default the runtime's own (its `describe().packageSource`)
   */
  packageSource?: PackageSource;
  /** Import name -> distribution overrides for inference. */
  requirementOverrides?: Record<string, string | null>;
  runOptions?: AgentRunOptions;
  /**
   * Tell the model the first lines of each text file in `runOptions.files`, not only names and sizes.
   * @default true
   */
  filePreview?: boolean;
  /** Hosts the network lets the script reach (`--allow-host`), so the model is told. @default [] (any public host) */
  allowHosts?: readonly string[];
  /**
   * Decides what happens to each piece of code before it runs. Without it every proposal runs: pass it
   * whenever a person has not already agreed to run model-written code.
   */
  review?: (proposal: Proposal) => Promise<ReviewDecision>;
  /** Missing-module fixes allowed per model answer. @default 3 */
  maxModuleFixes?: number;
  /**
   * Packages installed although nothing vouches for them (origin `unknown`); `*` for any. Others are
   * first sent back to the model once, then shown flagged to `review`, or refused without one.
   * @default []
   */
  allowPackages?: readonly string[];
  /** Accept URL and path requirements (`name @ https://...`, `file:`, VCS); refused (exit 5) otherwise. @default false */
  allowUrlRequirements?: boolean;
  /** Pins skip releases younger than this many days. @default 7 */
  minReleaseAgeDays?: number;
  /** Pins may choose a release with only a source distribution (its install runs build code). @default false */
  allowSdist?: boolean;
  onEvent?: (event: AgentEvent) => void;
  abortSignal?: AbortSignal;
  logger?: Logger | LogSink;
}

export const agentOptionKeys = {
  request: true,
  provider: true,
  runtime: true,
  maxAttempts: true,
  instruction: true,
  history: true,
  previousResult: true,
  requirements: true,
  packageSource: true,
  requirementOverrides: true,
  runOptions: true,
  review: true,
  maxModuleFixes: true,
  allowPackages: true,
  allowUrlRequirements: true,
  minReleaseAgeDays: true,
  allowSdist: true,
  filePreview: true,
  allowHosts: true,
  onEvent: true,
  abortSignal: true,
  logger: true,
} as const satisfies OptionKeys<AgentOptions>;

/** The run options the agent passes through: the runtime's, less those the agent sets itself. */
const { requirements: _requirements, onStdout: _onStdout, onStderr: _onStderr, onEvent: _onEvent, abortSignal: _abortSignal, ...agentRunOptionKeys } =
  runOptionKeys;
agentRunOptionKeys satisfies OptionKeys<AgentRunOptions>;

/** Throws a UsageError naming an unknown key of the agent's options, or of its nested runOptions or packageSource. */
export function checkAgentOptions(functionName: string, options: unknown, validKeys: Readonly<Record<string, true>>, optional = false): void {
  checkOptionKeys(functionName, options, validKeys, { optional });
  if (typeof options !== 'object' || options === null) return;
  const { runOptions, packageSource } = options as Partial<AgentOptions>;
  checkOptionKeys(`${functionName} (runOptions)`, runOptions, agentRunOptionKeys, { elsewhere: { requirements: functionName } });
  checkOptionKeys(`${functionName} (packageSource)`, packageSource, packageSourceKeys);
}

/** An attempt as the loop keeps it: the public record, and what the loop steers by. */
interface AttemptRecord {
  attempt: Attempt;
  /** Which model answer it came from (1-based): a missing-module fix or an edit shares its answer's number. */
  answerNumber: number;
  /**
   * Its answer went back to the model without spending one of `maxAttempts`: a regenerate, or the one
   * time per request the model is told about packages the gate refused.
   */
  free: boolean;
  /** An answer of words only (no fenced block at all): the model talking, a refusal or a question back. */
  words: boolean;
}

/** Model answers that count against `maxAttempts`: every answer so far, less those handed back for free. */
function answersSpent(records: readonly AttemptRecord[]): number {
  const answers = new Set(records.map((record) => record.answerNumber));
  return answers.size - records.filter((record) => record.free).length;
}

/** The code of one model answer as it goes through review and runs: edits and missing-module fixes change it. */
interface Candidate {
  code: string;
  trigger: AttemptTrigger;
  /** The model's whole answer, while the code is still the one it gave. */
  answer?: string;
  rule: string;
  /** The model's time and tokens, charged to the first attempt of the answer only. */
  modelDurationMs: number;
  usage?: TokenUsage;
  /** Packages added by missing-module fixes, with where each comes from. */
  extraRequirements: readonly string[];
  extraPackages: readonly RequirementDetail[];
  moduleFixes: number;
}

type Resolved = ReturnType<typeof resolveRequirements>;

/** The public record of an attempt of `candidate`; refused attempts carry no token usage (as before the loop was reshaped). */
function candidateAttempt(
  candidate: Candidate,
  status: AttemptStatus,
  details: { resolved?: Resolved; refused?: RefusedPackage[]; result?: RunResult; runDurationMs?: number },
): Omit<Attempt, 'number'> {
  return {
    trigger: candidate.trigger,
    status,
    ...(candidate.answer === undefined ? {} : { answer: candidate.answer }),
    code: candidate.code,
    rule: candidate.rule,
    requirements: details.resolved?.requirements ?? [],
    warnings: details.resolved?.warnings ?? [],
    ...(details.resolved === undefined ? {} : { packages: details.resolved.packages }),
    ...(details.refused === undefined ? {} : { refused: details.refused }),
    ...(details.result === undefined ? {} : { result: details.result }),
    modelDurationMs: candidate.modelDurationMs,
    ...(candidate.usage === undefined || status === 'refused' ? {} : { usage: candidate.usage }),
    runDurationMs: details.runDurationMs ?? 0,
  };
}

/** What a review decision means for the loop. */
type Step =
  | { step: 'run' }
  | { step: 'edit'; code: string }
  /** Record the attempt with this status and end the request. */
  | { step: 'stop'; status: 'skipped' | 'refused' }
  /** Record the attempt as skipped and ask the model for another answer, free. */
  | { step: 'regenerate' };

function stepFor(decision: ReviewDecision): Step {
  switch (decision.action) {
    case 'run':
      return { step: 'run' };
    case 'edit':
      return { step: 'edit', code: decision.code };
    case 'skip':
      return { step: 'stop', status: 'skipped' };
    case 'refuse':
      return { step: 'stop', status: 'refused' };
    case 'regenerate':
      return { step: 'regenerate' };
  }
}

/** How the runs of one model answer ended. */
type AnswerOutcome =
  /** Succeeded, declined or refused: the request is over. */
  | { next: 'finish' }
  /** Handed back to the model without spending an attempt, with this message. */
  | { next: 'ask-again'; code: string; message: string }
  /** The last run failed and no fix applies: the model may try again. */
  | { next: 'retry'; code: string; result: RunResult };

/** What every step of one request shares. */
interface Loop {
  options: AgentOptions;
  mode: 'auto' | 'none' | readonly string[];
  maxModuleFixes: number;
  logger: Logger;
  emit: (event: AgentEvent) => void;
  abortSignal: AbortSignal | undefined;
  /** The one place an attempt is recorded. */
  record: (fields: Omit<Attempt, 'number'>, steer: { answerNumber: number; free?: boolean; words?: boolean }) => void;
  records: readonly AttemptRecord[];
  /** What requirements are resolved for: the runtime's Python and package source, asked once. */
  target?: Target;
  /** The last inference, by code: a missing-module fix runs the same code again with one more package. */
  inference?: Inference;
}

export async function runAgent(options: AgentOptions): Promise<AgentResult> {
  checkAgentOptions('runAgent', options, agentOptionKeys);
  const maxAttempts = options.maxAttempts ?? 3;
  const mode = options.requirements ?? 'auto';
  const logger = toLogger(options.logger, 'Agent');
  const emit = (event: AgentEvent): void => {
    try {
      options.onEvent?.(event);
    } catch (error) {
      logger.warn(`event handler failed: ${String(error)}`);
    }
  };
  const abortSignal = options.abortSignal;
  // A list the caller gave is checked before the model is asked anything.
  if (Array.isArray(mode)) {
    checkRequirements(mode, { origin: 'the requirements given', ...(options.allowUrlRequirements === undefined ? {} : { allowUrlRequirements: options.allowUrlRequirements }) });
  }

  // The conversation so far, as the model will see it (the system message is added by generateCode).
  const history: ChatMessage[] = [...(options.history ?? [])];
  // The model is told where its program runs: the network, the files given, whether output is kept.
  const request = await requestWithContext(options.request, {
    network: options.runOptions?.network ?? (await options.runtime.describe()).network,
    ...(options.allowHosts === undefined ? {} : { allowHosts: options.allowHosts }),
    ...(options.runOptions?.files === undefined ? {} : { files: options.runOptions.files }),
    ...(options.filePreview === undefined ? {} : { filePreview: options.filePreview }),
    outputKept: options.runOptions?.outputDir !== undefined,
  });
  // The first user message of this request (with the previous output, for a follow-up) is what history keeps.
  const firstMessage = options.previousResult === undefined ? request : await followUpMessage(options.previousResult, request);
  let userMessage = firstMessage;
  const askNext = (code: string, message: string): void => {
    history.push({ role: 'user', content: userMessage }, { role: 'assistant', content: codeAnswer(code) });
    userMessage = message;
  };

  const records: AttemptRecord[] = [];
  const loop: Loop = {
    options,
    mode,
    maxModuleFixes: options.maxModuleFixes ?? 3,
    logger,
    emit,
    abortSignal,
    records,
    record: (fields, steer) => {
      records.push({ attempt: { number: records.length + 1, ...fields }, answerNumber: steer.answerNumber, free: steer.free ?? false, words: steer.words ?? false });
    },
  };
  const finish = (): AgentResult => {
    const outcome = agentResult(records, options, firstMessage);
    emit({ type: 'agent-done', result: outcome });
    return outcome;
  };

  while (answersSpent(records) < maxAttempts) {
    throwIfAborted(abortSignal);
    const attemptNumber = records.length + 1;
    const answerNumber = (records.at(-1)?.answerNumber ?? 0) + 1;
    emit({ type: 'model-start', attempt: attemptNumber });
    const reply = await askModel(options, userMessage, history, abortSignal);
    if (reply.kind === 'no-code') {
      const { error, modelDurationMs, usage } = reply;
      // An answer with no fenced block at all is the model talking (a refusal, a question back): shown
      // to the user, not retried, since asking again would only spend answers in silence.
      const words = error.blocks === 0 && error.answer.trim() !== '';
      loop.record(
        { trigger: 'model', status: 'no-code', answer: error.answer, requirements: [], warnings: [], modelDurationMs, ...(usage === undefined ? {} : { usage }), runDurationMs: 0 },
        { answerNumber, words },
      );
      emit({ type: 'code-missing', attempt: attemptNumber, answer: error.answer, words, modelDurationMs, ...(usage === undefined ? {} : { usage }) });
      if (words) break;
      if (answersSpent(records) < maxAttempts) {
        emit({ type: 'retry', attempt: attemptNumber, reason: 'the answer had no Python code block' });
        history.push({ role: 'user', content: userMessage }, { role: 'assistant', content: error.answer });
        userMessage = await noCodeMessage();
      }
      continue;
    }
    const { generated, modelDurationMs, usage } = reply;
    emit({ type: 'code-ready', attempt: attemptNumber, code: generated.code, rule: generated.rule, reason: generated.reason, modelDurationMs, ...(usage === undefined ? {} : { usage }) });

    const outcome = await runAnswer(loop, answerNumber, {
      code: generated.code,
      trigger: 'model',
      answer: generated.answer,
      rule: generated.rule,
      modelDurationMs,
      ...(usage === undefined ? {} : { usage }),
      extraRequirements: [],
      extraPackages: [],
      moduleFixes: 0,
    });
    if (outcome.next === 'finish') return finish();
    if (outcome.next === 'ask-again') {
      askNext(outcome.code, outcome.message);
      emit({ type: 'retry', attempt: records.length, reason: 'asked for another answer' });
      continue;
    }
    if (answersSpent(records) >= maxAttempts) break;
    if (indexUnreachable(outcome.result)) {
      logger.warn('the package index cannot be reached; another answer would fail the same way');
      break;
    }
    const failure = describeFailure(outcome.result, options.runOptions);
    emit({ type: 'retry', attempt: records.length, reason: shortReason(outcome.result) });
    askNext(outcome.code, await retryMessage(outcome.code, failure));
  }
  return finish();
}

type ModelReply =
  | { kind: 'code'; generated: Awaited<ReturnType<typeof generateCode>>; modelDurationMs: number; usage?: TokenUsage }
  | { kind: 'no-code'; error: NoCodeBlockError; modelDurationMs: number; usage?: TokenUsage };

/** One model call: its code, or the answer that had none; other failures throw. */
async function askModel(options: AgentOptions, userMessage: string, history: readonly ChatMessage[], abortSignal: AbortSignal | undefined): Promise<ModelReply> {
  const started = performance.now();
  let usage: TokenUsage | undefined;
  const counted = (): { modelDurationMs: number; usage?: TokenUsage } => ({ modelDurationMs: performance.now() - started, ...(usage === undefined ? {} : { usage }) });
  try {
    const generated = await generateCode({
      request: userMessage,
      provider: options.provider,
      history,
      onUsage: (reported) => {
        usage = reported;
      },
      ...(options.instruction === undefined ? {} : { instruction: options.instruction }),
      ...(abortSignal === undefined ? {} : { abortSignal }),
    });
    return { kind: 'code', generated, ...counted() };
  } catch (error) {
    if (!(error instanceof NoCodeBlockError)) throw error;
    return { kind: 'no-code', error, ...counted() };
  }
}

/**
 * The runs of one model answer: requirements, the package gate, review, the run, and missing-module
 * fixes that run the same code again with one more package. Each pass records one attempt, except an
 * edit, which proposes the edited code in its place.
 */
async function runAnswer(loop: Loop, answerNumber: number, first: Candidate): Promise<AnswerOutcome> {
  const { options, emit, abortSignal } = loop;
  let candidate = first;
  for (;;) {
    throwIfAborted(abortSignal);
    const number = loop.records.length + 1;
    loop.target ??= await targetOf(options);
    const target = loop.target;
    if (loop.mode === 'auto' && loop.inference?.code !== candidate.code) {
      try {
        loop.inference = await inferFor(candidate.code, target, options, candidate.trigger, abortSignal);
      } catch (error) {
        // A URL or path requirement in the code's inline metadata: nothing is installed.
        if (!(error instanceof PolicyError)) throw error;
        const refused = error.refused.map((requirement): RefusedPackage => ({ name: requirementName(requirement), requirement, origin: 'declared', reason: 'url', message: error.message }));
        emit({ type: 'packages-refused', attempt: number, refused, toldModel: false });
        loop.record(candidateAttempt(candidate, 'refused', { refused }), { answerNumber });
        return { next: 'finish' };
      }
    }
    const resolved = resolveRequirements(loop.mode, loop.inference, candidate.extraRequirements, candidate.extraPackages);
    emit({ type: 'requirements', attempt: number, requirements: resolved.requirements, warnings: resolved.warnings });
    const flagged = gatePackages(resolved.packages, { allowPackages: options.allowPackages ?? [] });

    if (flagged.length > 0) {
      // Once per request, a model answer that needs such packages goes back to the model, which
      // usually has another way; that call does not spend one of the attempts.
      const toldBefore = loop.records.some((record) => record.free && record.attempt.status === 'refused');
      const tellModel = candidate.trigger === 'model' && !toldBefore;
      emit({ type: 'packages-refused', attempt: number, refused: flagged, toldModel: tellModel });
      if (tellModel || options.review === undefined) {
        loop.record(candidateAttempt(candidate, 'refused', { resolved, refused: flagged }), { answerNumber, free: tellModel });
        if (!tellModel) return { next: 'finish' };
        loop.logger.info(`asking the model for another way than ${flagged.map((entry) => entry.name).join(', ')}`);
        return { next: 'ask-again', code: candidate.code, message: await unknownPackagesMessage(candidate.code, flagged) };
      }
    }

    // Every proposal is reviewed, a missing-module fix too: it installs a package nobody saw yet.
    let step: Step = { step: 'run' };
    if (options.review !== undefined) {
      const decision = await options.review({
        attempt: number,
        code: candidate.code,
        requirements: resolved.requirements,
        warnings: resolved.warnings,
        trigger: candidate.trigger,
        packages: resolved.packages,
        flagged,
      });
      throwIfAborted(abortSignal);
      step = stepFor(decision);
    }
    if (step.step === 'edit') {
      // The edited code is proposed again, with its own requirements; the model's answer no longer applies.
      const { answer: _answer, ...rest } = candidate;
      candidate = { ...rest, code: step.code, trigger: 'edited', extraRequirements: [], extraPackages: [] };
      continue;
    }
    if (step.step === 'stop') {
      loop.record(candidateAttempt(candidate, step.status, { resolved, ...(step.status === 'refused' ? { refused: flagged } : {}) }), { answerNumber });
      return { next: 'finish' };
    }
    if (step.step === 'regenerate') {
      // Another answer to the same request: it does not spend one of the failure attempts. The model
      // sees the answer the user passed over and is asked for a different one (the identical
      // conversation would likely bring the identical code back).
      loop.record(candidateAttempt(candidate, 'skipped', { resolved }), { answerNumber, free: true });
      return { next: 'ask-again', code: candidate.code, message: await regenerateMessage() };
    }

    const runStarted = performance.now();
    const result = await runOnce(options, candidate.code, resolved.requirements, number, emit, abortSignal);
    // A timeout or the memory limit is a non-zero exitCode too (124, 137: src/runtime/result.ts).
    const status = result.exitCode === 0 ? 'succeeded' : 'failed';
    loop.record(candidateAttempt(candidate, status, { resolved, result, runDurationMs: performance.now() - runStarted }), { answerNumber });
    if (status === 'succeeded') return { next: 'finish' };

    const fix =
      candidate.moduleFixes < loop.maxModuleFixes ? await requirementForFailure(result, candidate.code, resolved.requirements, target, options, abortSignal) : undefined;
    if (fix === undefined) return { next: 'retry', code: candidate.code, result };
    emit({ type: 'module-missing', attempt: number, module: fix.module, requirement: fix.requirement });
    loop.logger.info(`adding ${fix.requirement} for the missing module ${fix.module}, no model call`);
    candidate = {
      code: candidate.code,
      trigger: 'missing-module',
      rule: candidate.rule,
      modelDurationMs: 0,
      extraRequirements: [...candidate.extraRequirements, fix.requirement],
      extraPackages: [...candidate.extraPackages, fix.detail],
      moduleFixes: candidate.moduleFixes + 1,
    };
  }
}

/** The request's result, read from its attempts. */
function agentResult(records: readonly AttemptRecord[], options: AgentOptions, firstMessage: string): AgentResult {
  const attempts = records.map((record) => record.attempt);
  const last = records.at(-1);
  const status = statusAfter(last?.attempt);
  const withCode = attempts.findLast((attempt) => attempt.code !== undefined);
  const lastResult = attempts.findLast((attempt) => attempt.result !== undefined)?.result;
  // The words of an answer with no code, kept in the conversation so that a question back can be answered.
  const words = last?.words === true ? last.attempt.answer : undefined;
  const outcome: AgentResult = {
    status,
    requirements: withCode?.requirements ?? [],
    attempts,
    exitCode: exitCodeFor(status, lastResult),
    history: conversationAfter(options.history ?? [], options.request, firstMessage, withCode?.code, words),
  };
  if (withCode?.code !== undefined) outcome.code = withCode.code;
  if (lastResult !== undefined) outcome.result = lastResult;
  if (status === 'refused' && last?.attempt.refused !== undefined) outcome.refused = last.attempt.refused;
  if (words !== undefined) outcome.message = words;
  return outcome;
}

/**
 * The request's status from its last attempt. A skipped attempt that asked for another answer, or a
 * refusal the model was told about, is never the last: another answer always follows it.
 */
function statusAfter(last: Attempt | undefined): AgentStatus {
  if (last === undefined) return 'no-code';
  return last.status === 'skipped' ? 'declined' : last.status;
}

interface Target {
  pythonVersion: string;
  packageSource: PackageSource;
}

async function targetOf(options: AgentOptions): Promise<Target> {
  const info = await options.runtime.describe();
  return { pythonVersion: info.pythonVersion, packageSource: options.packageSource ?? info.packageSource };
}

/** The requirements inferred from `code`. */
interface Inference {
  code: string;
  requirements: readonly string[];
  warnings: readonly string[];
  details: readonly RequirementDetail[];
}

async function inferFor(code: string, target: Target, options: AgentOptions, trigger: AttemptTrigger, abortSignal: AbortSignal | undefined): Promise<Inference> {
  // Its gate's verdict is left: runAnswer gates these together with the packages fixes add.
  const { requirements, warnings, details } = await requirementsForScript({
    code,
    // A model's inline metadata names packages like its imports do: each is judged by its name.
    author: trigger === 'edited' ? 'user' : 'model',
    pythonVersion: target.pythonVersion,
    packageSource: target.packageSource,
    policy: options,
    overrides: options.requirementOverrides,
    abortSignal,
    logger: options.logger,
  });
  return { code, requirements, warnings, details };
}

function pinPolicy(options: AgentOptions): { minReleaseAgeDays?: number; allowSdist?: boolean } {
  return {
    ...(options.minReleaseAgeDays === undefined ? {} : { minReleaseAgeDays: options.minReleaseAgeDays }),
    ...(options.allowSdist === undefined ? {} : { allowSdist: options.allowSdist }),
  };
}

/** The requirements of one run; in 'auto' mode `inference` is the one for the code that runs. */
function resolveRequirements(
  mode: 'auto' | 'none' | readonly string[],
  inference: Inference | undefined,
  extra: readonly string[],
  extraPackages: readonly RequirementDetail[],
): { requirements: string[]; warnings: string[]; packages: RequirementDetail[] } {
  if (mode === 'none') return { requirements: [...extra], warnings: [], packages: [...extraPackages] };
  if (mode !== 'auto') {
    const declared = mode.map((requirement): RequirementDetail => ({ requirement, name: requirementName(requirement), origin: 'declared' }));
    return { requirements: [...mode, ...extra], warnings: [], packages: [...declared, ...extraPackages] };
  }
  // Fresh arrays each time: every attempt keeps its own.
  return {
    requirements: [...(inference?.requirements ?? []), ...extra],
    warnings: [...(inference?.warnings ?? [])],
    packages: [...(inference?.details ?? []), ...extraPackages],
  };
}

function requirementName(requirement: string): string {
  return /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(requirement)?.[1] ?? requirement;
}

async function runOnce(
  options: AgentOptions,
  code: string,
  requirements: string[],
  attempt: number,
  emit: (event: AgentEvent) => void,
  abortSignal: AbortSignal | undefined,
): Promise<RunResult> {
  emit({ type: 'run-start', attempt });
  const result = await options.runtime.runScript(code, {
    ...options.runOptions,
    requirements,
    onStdout: (text) => emit({ type: 'output', attempt, stream: 'stdout', text }),
    onStderr: (text) => emit({ type: 'output', attempt, stream: 'stderr', text }),
    onEvent: (event: RuntimeEvent) => {
      if (event.type === 'install-start') emit({ type: 'install-start', attempt, requirements: event.requirements });
      else if (event.type === 'install-done') emit({ type: 'install-done', attempt, reused: event.reused, durationMs: event.durationMs });
      emit({ type: 'runtime', event });
    },
    ...(abortSignal === undefined ? {} : { abortSignal }),
  });
  if (abortSignal?.aborted) throw new AbortedError(undefined, { cause: abortSignal.reason });
  emit({ type: 'run-end', attempt, result });
  return result;
}

/**
 * The package to add for a `ModuleNotFoundError`, when the code itself imports that module (a script
 * can print a fake error naming anything) and the run did not already have the package. The result
 * says where the package comes from, so that the gate and the review see it like any other.
 */
async function requirementForFailure(
  result: RunResult,
  code: string,
  current: readonly string[],
  target: Target,
  options: AgentOptions,
  abortSignal: AbortSignal | undefined,
): Promise<{ module: string; requirement: string; detail: RequirementDetail } | undefined> {
  const module = missingModule(result);
  if (module === undefined || isStandardLibrary(module, target.pythonVersion)) return undefined;
  if (options.requirements === 'none') return undefined;
  const imported = new Set((await readImports(code)).map((entry) => topLevelName(entry.module)));
  if (!imported.has(topLevelName(module))) return undefined;
  // undefined or null: a bare namespace, an override saying it is not a requirement, or a module no index has.
  const resolution = resolveDistribution(module, options.requirementOverrides);
  const distribution = resolution?.distribution ?? undefined;
  if (resolution === undefined || distribution === undefined) return undefined;
  const key = requirementKey(distribution);
  // Already installed and still missing: a wrong package or a wrong import; the model has to fix that.
  if (current.some((requirement) => requirementKey(requirement) === key)) return undefined;
  const pinned = await pinRequirements([distribution], {
    ...target.packageSource,
    ...pinPolicy(options),
    pythonVersion: target.pythonVersion,
    ...(abortSignal === undefined ? {} : { abortSignal }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  const requirement = pinned.requirements[0] ?? distribution;
  const pin = pinned.details[0];
  const name = requirementName(distribution);
  const rank = popularRank(name);
  let origin: RequirementOrigin;
  if (resolution.source === 'override') origin = 'declared';
  else if (pin?.from === 'find-links') origin = 'local';
  else if (resolution.source === 'table') origin = 'mapped';
  else origin = rank === undefined ? 'unknown' : 'popular';
  const detail: RequirementDetail = {
    requirement,
    name,
    origin,
    module,
    ...(rank === undefined ? {} : { popularRank: rank }),
    ...(pin?.facts === undefined ? {} : { index: pin.facts }),
    ...(pin?.refusal === undefined ? {} : { refusal: pin.refusal }),
  };
  return { module, requirement, detail };
}

function shortReason(result: RunResult): string {
  if (result.timedOut) return 'the script timed out';
  if (result.oomKilled) return 'the script ran out of memory';
  if (result.error?.name === 'InstallError') return `its packages could not be installed: ${firstLine(result.error.message)}`;
  if (result.error !== undefined) return `the script failed: ${result.error.name}: ${firstLine(result.error.message)}`;
  return `the script exited with status ${result.exitCode}`;
}

function firstLine(text: string): string {
  const line = text.split('\n')[0] ?? '';
  return line.length > 200 ? `${line.slice(0, 200)}...` : line;
}

function exitCodeFor(status: AgentResult['status'], result: RunResult | undefined): number {
  switch (status) {
    case 'succeeded':
      return ExitCode.ok;
    case 'no-code':
      return ExitCode.model;
    case 'declined':
      return ExitCode.failure;
    case 'refused':
      return ExitCode.policy;
    case 'failed':
      // 'failed' always follows a run whose exitCode is not 0; a timeout or the memory limit already
      // made it 124 or 137 (src/runtime/result.ts).
      return result?.exitCode ?? ExitCode.failure;
  }
}

/**
 * The conversation a follow-up continues from: the earlier turns, this request, and the code that
 * answered it last (failed retries are left out: the follow-up builds on what the user saw).
 */
function conversationAfter(
  earlier: readonly ChatMessage[],
  request: string,
  userMessage: string,
  code: string | undefined,
  words: string | undefined,
): ChatMessage[] {
  const turns: ChatMessage[] = [...earlier, { role: 'user', content: userMessage || request }];
  // The model's own words when it answered with no code (a question back): the user's next request answers them.
  turns.push({ role: 'assistant', content: words ?? (code === undefined ? '(no code was produced)' : codeAnswer(code)) });
  return turns;
}
