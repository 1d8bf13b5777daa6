/**
 * The agent loop: generate -> extract -> requirements -> review -> run, and on failure hand the code
 * and the tail of its error back to the model, up to `maxAttempts` model answers. A missing module is
 * fixed by adding the package and running again, without a model call.
 */
import { AbortedError, ExitCode, PolicyError } from '../errors.js';
import { throwIfAborted } from '../abort.js';
import { toLogger, type Logger, type LogSink } from '../logger.js';
import { NoCodeBlockError } from '../extract/index.js';
import { generateCode, type ChatMessage, type ModelProvider, type TokenUsage } from '../generator/index.js';
import {
  checkRequirements,
  gatePackages,
  inferRequirements,
  isStandardLibrary,
  pinRequirements,
  popularRank,
  readImports,
  requirementKey,
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

export async function runAgent(options: AgentOptions): Promise<AgentResult> {
  checkAgentOptions('runAgent', options, agentOptionKeys);
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
  // A list the caller gave is checked before the model is asked anything.
  if (Array.isArray(requirementsMode)) {
    checkRequirements(requirementsMode, { origin: 'the requirements given', ...(options.allowUrlRequirements === undefined ? {} : { allowUrlRequirements: options.allowUrlRequirements }) });
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
  // The model is told about refused packages once per request; after that a person decides, or the gate refuses.
  let toldModel = false;
  let refusedPackages: RefusedPackage[] | undefined;

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
    if (status === 'refused' && refusedPackages !== undefined) outcome.refused = refusedPackages;
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
    let extraPackages: RequirementDetail[] = [];
    let regenerate = false;

    // Runs of this one answer: the code as given, then with packages a ModuleNotFoundError named.
    for (;;) {
      throwIfAborted(abortSignal);
      const number = attempts.length + 1;
      target ??= await targetOf(options);
      if (requirementsMode === 'auto' && inference?.code !== code) {
        try {
          inference = await inferFor(code, target, options, trigger, abortSignal);
        } catch (error) {
          // A URL or path requirement in the code's inline metadata: nothing is installed.
          if (!(error instanceof PolicyError)) throw error;
          const refusedUrls = error.refused.map((requirement): RefusedPackage => ({ name: requirementName(requirement), requirement, origin: 'declared', reason: 'url', message: error.message }));
          refusedPackages = refusedUrls;
          emit({ type: 'packages-refused', attempt: number, refused: refusedUrls, toldModel: false });
          attempts.push({
            number,
            trigger,
            status: 'refused',
            ...(answer === undefined ? {} : { answer }),
            code,
            rule: generated.rule,
            requirements: [],
            warnings: [],
            refused: refusedUrls,
            modelDurationMs: chargeModelTime,
            runDurationMs: 0,
          });
          lastCode = code;
          status = 'refused';
          return finish();
        }
      }
      const resolved = resolveRequirements(requirementsMode, inference, extraRequirements, extraPackages);
      emit({ type: 'requirements', attempt: number, requirements: resolved.requirements, warnings: resolved.warnings });
      const flagged = gatePackages(resolved.packages, { allowPackages: options.allowPackages ?? [] });
      const refusedAttempt = (): Attempt => ({
        number,
        trigger,
        status: 'refused',
        ...(answer === undefined ? {} : { answer }),
        code,
        rule: generated.rule,
        requirements: resolved.requirements,
        warnings: resolved.warnings,
        packages: resolved.packages,
        refused: flagged,
        modelDurationMs: chargeModelTime,
        runDurationMs: 0,
      });

      if (flagged.length > 0) {
        // Once per request, a model answer that needs such packages goes back to the model, which
        // usually has another way; that call does not spend one of the attempts.
        const tellModel = trigger === 'model' && !toldModel;
        emit({ type: 'packages-refused', attempt: number, refused: flagged, toldModel: tellModel });
        if (tellModel) {
          toldModel = true;
          attempts.push(refusedAttempt());
          lastCode = code;
          lastRequirements = resolved.requirements;
          logger.info(`asking the model for another way than ${flagged.map((entry) => entry.name).join(', ')}`);
          history.push({ role: 'user', content: userMessage }, { role: 'assistant', content: codeAnswer(code) });
          userMessage = await unknownPackagesMessage(code, flagged);
          modelAnswers -= 1;
          regenerate = true;
          break;
        }
        if (options.review === undefined) {
          attempts.push(refusedAttempt());
          lastCode = code;
          lastRequirements = resolved.requirements;
          refusedPackages = flagged;
          status = 'refused';
          return finish();
        }
      }

      // Every proposal is reviewed, a missing-module fix too: it installs a package nobody saw yet.
      if (options.review !== undefined) {
        const decision = await options.review({
          attempt: number,
          code,
          requirements: resolved.requirements,
          warnings: resolved.warnings,
          trigger,
          packages: resolved.packages,
          flagged,
        });
        throwIfAborted(abortSignal);
        if (decision.action === 'refuse') {
          attempts.push(refusedAttempt());
          lastCode = code;
          lastRequirements = resolved.requirements;
          refusedPackages = flagged;
          status = 'refused';
          return finish();
        }
        if (decision.action === 'edit') {
          code = decision.code;
          trigger = 'edited';
          answer = undefined;
          extraRequirements = [];
          extraPackages = [];
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
            packages: resolved.packages,
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
        packages: resolved.packages,
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

      const fix = moduleFixes < maxModuleFixes ? await requirementForFailure(result, code, resolved.requirements, target, options, abortSignal) : undefined;
      if (fix !== undefined) {
        moduleFixes += 1;
        emit({ type: 'missing-module', attempt: number, module: fix.module, requirement: fix.requirement });
        logger.info(`adding ${fix.requirement} for the missing module ${fix.module}, no model call`);
        extraRequirements = [...extraRequirements, fix.requirement];
        extraPackages = [...extraPackages, fix.detail];
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
  details: readonly RequirementDetail[];
}

async function inferFor(code: string, target: Target, options: AgentOptions, trigger: AttemptTrigger, abortSignal: AbortSignal | undefined): Promise<Inference> {
  const { requirements, warnings, details } = await inferRequirements(code, {
    pythonVersion: target.pythonVersion,
    ...target.packageSource,
    ...pinPolicy(options),
    // A model's inline metadata names packages like its imports do: each is judged by its name.
    trustInlineMetadata: trigger === 'edited',
    ...(options.allowUrlRequirements === undefined ? {} : { allowUrlRequirements: options.allowUrlRequirements }),
    ...(options.requirementOverrides === undefined ? {} : { overrides: options.requirementOverrides }),
    ...(abortSignal === undefined ? {} : { abortSignal }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
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
