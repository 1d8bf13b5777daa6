/**
 * The agent loop: generate -> extract -> requirements -> review -> run, and on failure hand the code
 * and the tail of its error back to the model, up to `maxAttempts` model answers. A missing module is
 * fixed by adding the package and running again, without a model call.
 */
import { AbortedError, ExitCode } from '../errors.js';
import { throwIfAborted } from '../abort.js';
import { toLogger, type Logger, type LogSink } from '../logger.js';
import { NoCodeBlockError } from '../extract/index.js';
import { generateCode, type ChatMessage, type ModelProvider, type TokenUsage } from '../generator/index.js';
import {
  distributionForModule,
  inferRequirements,
  isStandardLibrary,
  pinRequirements,
  requirementKey,
  type PackageSource,
} from '../requirements/index.js';
import type { RunOptions, RunResult, Runtime, RuntimeEvent } from '../runtime/index.js';
import { codeAnswer, describeFailure, followUpMessage, noCodeMessage, regenerateMessage, requestWithContext, retryMessage } from './messages.js';
import { indexUnreachable, missingModule } from './missing-module.js';
import type { AgentEvent, AgentResult, Attempt, AttemptTrigger, Proposal, ReviewDecision } from './types.js';

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
   * as given. @default 'auto'
   */
  requirements?: 'auto' | 'none' | readonly string[];
  /** Where packages are looked up when pinning. @default the runtime's own (its `describe().packageSource`) */
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
  onEvent?: (event: AgentEvent) => void;
  abortSignal?: AbortSignal;
  logger?: Logger | LogSink;
}

export async function runAgent(options: AgentOptions): Promise<AgentResult> {
  const maxAttempts = options.maxAttempts ?? 3;
  const maxModuleFixes = options.maxModuleFixes ?? 3;
  const requirementsMode = options.requirements ?? 'auto';
  const logger = toLogger(options.logger, 'Agent');
  const emit = (event: AgentEvent): void => {
    try {
      options.onEvent?.(event);
    } catch (error) {
      logger.warn(`event handler failed: ${String(error)}`);
    }
  };
  const abortSignal = options.abortSignal;

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
  let userMessage = options.previousResult === undefined ? request : await followUpMessage(options.previousResult, request);

  const attempts: Attempt[] = [];
  let lastCode: string | undefined;
  // The words of an answer with no code, kept in the conversation so that a question back can be answered.
  let lastWords: string | undefined;
  let lastRequirements: string[] = [];
  let lastResult: RunResult | undefined;
  let modelAnswers = 0;
  let status: AgentResult['status'] = 'no-code';
  // What requirements are resolved for: the runtime's Python and package source, asked once.
  let target: Target | undefined;
  // The last inference, by code: a missing-module fix runs the same code again with one more package.
  let inference: Inference | undefined;

  // The first user message of this request (with the previous output, for a follow-up) is what history keeps.
  const userMessageForHistory = userMessage;
  const finish = (): AgentResult => {
    const outcome: AgentResult = {
      status,
      requirements: lastRequirements,
      attempts,
      exitCode: exitCodeFor(status, lastResult),
      history: conversationAfter(options.history ?? [], options.request, userMessageForHistory, lastCode, lastWords),
    };
    if (lastCode !== undefined) outcome.code = lastCode;
    if (lastResult !== undefined) outcome.result = lastResult;
    if (lastWords !== undefined && status === 'no-code') outcome.message = lastWords;
    emit({ type: 'done', result: outcome });
    return outcome;
  };

  while (modelAnswers < maxAttempts) {
    throwIfAborted(abortSignal);
    const attemptNumber = attempts.length + 1;
    emit({ type: 'generating', attempt: attemptNumber });
    const modelStarted = performance.now();
    let usage: TokenUsage | undefined;
    let generated: Awaited<ReturnType<typeof generateCode>>;
    try {
      generated = await generateCode({
        request: userMessage,
        provider: options.provider,
        history,
        onUsage: (counted) => {
          usage = counted;
        },
        ...(options.instruction === undefined ? {} : { instruction: options.instruction }),
        ...(abortSignal === undefined ? {} : { abortSignal }),
      });
    } catch (error) {
      if (!(error instanceof NoCodeBlockError)) throw error;
      modelAnswers += 1;
      const modelDurationMs = performance.now() - modelStarted;
      attempts.push({
        number: attemptNumber,
        trigger: 'model',
        status: 'no-code',
        answer: error.answer,
        requirements: [],
        warnings: [],
        modelDurationMs,
        ...(usage === undefined ? {} : { usage }),
        runDurationMs: 0,
      });
      // An answer with no fenced block at all is the model talking (a refusal, a question back): shown
      // to the user, not retried, since asking again would only spend answers in silence.
      const words = error.blocks === 0 && error.answer.trim() !== '';
      emit({ type: 'no-code', attempt: attemptNumber, answer: error.answer, words, modelDurationMs, ...(usage === undefined ? {} : { usage }) });
      status = 'no-code';
      if (words) {
        lastWords = error.answer;
        break;
      }
      if (modelAnswers < maxAttempts) {
        emit({ type: 'retrying', attempt: attemptNumber, reason: 'the answer had no Python code block' });
        history.push({ role: 'user', content: userMessage }, { role: 'assistant', content: error.answer });
        userMessage = await noCodeMessage();
      }
      continue;
    }
    modelAnswers += 1;
    const modelDurationMs = performance.now() - modelStarted;
    emit({
      type: 'code-ready',
      attempt: attemptNumber,
      code: generated.code,
      rule: generated.rule,
      reason: generated.reason,
      modelDurationMs,
      ...(usage === undefined ? {} : { usage }),
    });

    let code = generated.code;
    let trigger: AttemptTrigger = 'model';
    let answer: string | undefined = generated.answer;
    let chargeModelTime = modelDurationMs;
    let moduleFixes = 0;
    let extraRequirements: string[] = [];
    let regenerate = false;

    // Runs of this one answer: the code as given, then with packages a ModuleNotFoundError named.
    for (;;) {
      throwIfAborted(abortSignal);
      const number = attempts.length + 1;
      target ??= await targetOf(options);
      if (requirementsMode === 'auto' && inference?.code !== code) inference = await inferFor(code, target, options, abortSignal);
      const resolved = resolveRequirements(requirementsMode, inference, extraRequirements);
      emit({ type: 'requirements', attempt: number, requirements: resolved.requirements, warnings: resolved.warnings });

      if (trigger !== 'missing-module' && options.review !== undefined) {
        const decision = await options.review({
          attempt: number,
          code,
          requirements: resolved.requirements,
          warnings: resolved.warnings,
          trigger,
        });
        throwIfAborted(abortSignal);
        if (decision.action === 'edit') {
          code = decision.code;
          trigger = 'edited';
          answer = undefined;
          extraRequirements = [];
          continue;
        }
        if (decision.action === 'skip' || decision.action === 'regenerate') {
          attempts.push({
            number,
            trigger,
            status: 'skipped',
            ...(answer === undefined ? {} : { answer }),
            code,
            rule: generated.rule,
            requirements: resolved.requirements,
            warnings: resolved.warnings,
            modelDurationMs: chargeModelTime,
            ...(chargeModelTime > 0 && usage !== undefined ? { usage } : {}),
            runDurationMs: 0,
          });
          lastCode = code;
          lastRequirements = resolved.requirements;
          if (decision.action === 'skip') {
            status = 'declined';
            return finish();
          }
          // Another answer to the same request: it does not spend one of the failure attempts. The model
          // sees the answer the user passed over and is asked for a different one (the identical
          // conversation would likely bring the identical code back).
          modelAnswers -= 1;
          regenerate = true;
          history.push({ role: 'user', content: userMessage }, { role: 'assistant', content: codeAnswer(code) });
          userMessage = await regenerateMessage();
          break;
        }
      }

      const runStarted = performance.now();
      const result = await runOnce(options, code, resolved.requirements, number, emit, abortSignal);
      const runDurationMs = performance.now() - runStarted;
      // A timeout or the memory limit is a non-zero exitCode too (124, 137: src/runtime/result.ts).
      const succeeded = result.exitCode === 0;
      attempts.push({
        number,
        trigger,
        status: succeeded ? 'succeeded' : 'failed',
        ...(answer === undefined ? {} : { answer }),
        code,
        rule: generated.rule,
        requirements: resolved.requirements,
        warnings: resolved.warnings,
        result,
        modelDurationMs: chargeModelTime,
        ...(chargeModelTime > 0 && usage !== undefined ? { usage } : {}),
        runDurationMs,
      });
      lastCode = code;
      lastRequirements = resolved.requirements;
      lastResult = result;
      if (succeeded) {
        status = 'succeeded';
        return finish();
      }
      status = 'failed';

      const fix = moduleFixes < maxModuleFixes ? await requirementForFailure(result, resolved.requirements, target, options, abortSignal) : undefined;
      if (fix !== undefined) {
        moduleFixes += 1;
        emit({ type: 'missing-module', attempt: number, module: fix.module, requirement: fix.requirement });
        logger.info(`adding ${fix.requirement} for the missing module ${fix.module}, no model call`);
        extraRequirements = [...extraRequirements, fix.requirement];
        trigger = 'missing-module';
        answer = undefined;
        chargeModelTime = 0;
        continue;
      }
      break;
    }

    if (regenerate) {
      emit({ type: 'retrying', attempt: attempts.length, reason: 'asked for another answer' });
      continue;
    }
    if (modelAnswers >= maxAttempts || lastResult === undefined) break;
    if (indexUnreachable(lastResult)) {
      logger.warn('the package index cannot be reached; another answer would fail the same way');
      break;
    }
    const failure = describeFailure(lastResult, options.runOptions);
    emit({ type: 'retrying', attempt: attempts.length, reason: shortReason(lastResult) });
    history.push({ role: 'user', content: userMessage }, { role: 'assistant', content: codeAnswer(code) });
    userMessage = await retryMessage(code, failure);
  }
  return finish();
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
}

async function inferFor(code: string, target: Target, options: AgentOptions, abortSignal: AbortSignal | undefined): Promise<Inference> {
  const { requirements, warnings } = await inferRequirements(code, {
    pythonVersion: target.pythonVersion,
    ...target.packageSource,
    ...(options.requirementOverrides === undefined ? {} : { overrides: options.requirementOverrides }),
    ...(abortSignal === undefined ? {} : { abortSignal }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  return { code, requirements, warnings };
}

/** The requirements of one run; in 'auto' mode `inference` is the one for the code that runs. */
function resolveRequirements(
  mode: 'auto' | 'none' | readonly string[],
  inference: Inference | undefined,
  extra: readonly string[],
): { requirements: string[]; warnings: string[] } {
  if (mode === 'none') return { requirements: [...extra], warnings: [] };
  if (mode !== 'auto') return { requirements: [...mode, ...extra], warnings: [] };
  // Fresh arrays each time: every attempt keeps its own.
  return { requirements: [...(inference?.requirements ?? []), ...extra], warnings: [...(inference?.warnings ?? [])] };
}

async function runOnce(
  options: AgentOptions,
  code: string,
  requirements: string[],
  attempt: number,
  emit: (event: AgentEvent) => void,
  abortSignal: AbortSignal | undefined,
): Promise<RunResult> {
  emit({ type: 'running', attempt });
  const result = await options.runtime.runScript(code, {
    ...options.runOptions,
    requirements,
    onStdout: (text) => emit({ type: 'output', attempt, stream: 'stdout', text }),
    onStderr: (text) => emit({ type: 'output', attempt, stream: 'stderr', text }),
    onEvent: (event: RuntimeEvent) => {
      if (event.type === 'install-start') emit({ type: 'installing', attempt, requirements: event.requirements });
      else if (event.type === 'install-done') emit({ type: 'installed', attempt, reused: event.reused, durationMs: event.durationMs });
      emit({ type: 'runtime', event });
    },
    ...(abortSignal === undefined ? {} : { abortSignal }),
  });
  if (abortSignal?.aborted) throw new AbortedError(undefined, { cause: abortSignal.reason });
  emit({ type: 'run-finished', attempt, result });
  return result;
}

/** The package to add for a `ModuleNotFoundError`, when it is one the run did not already have. */
async function requirementForFailure(
  result: RunResult,
  current: readonly string[],
  target: Target,
  options: AgentOptions,
  abortSignal: AbortSignal | undefined,
): Promise<{ module: string; requirement: string } | undefined> {
  const module = missingModule(result);
  if (module === undefined || isStandardLibrary(module, target.pythonVersion)) return undefined;
  if (options.requirements === 'none') return undefined;
  // undefined: an override says it is not a requirement, or no index has such a package.
  const distribution = distributionForModule(module, options.requirementOverrides);
  if (distribution === undefined) return undefined;
  const key = requirementKey(distribution);
  // Already installed and still missing: a wrong package or a wrong import; the model has to fix that.
  if (current.some((requirement) => requirementKey(requirement) === key)) return undefined;
  const pinned = await pinRequirements([distribution], {
    ...target.packageSource,
    pythonVersion: target.pythonVersion,
    ...(abortSignal === undefined ? {} : { abortSignal }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  return { module, requirement: pinned.requirements[0] ?? distribution };
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
