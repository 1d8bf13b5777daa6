/**
 * The part of a provider both SDKs share. groq-sdk and openai are generated from the same template
 * (same request options, retries, stream objects and error classes), so one implementation reads
 * their answers, times streams out, and turns their errors into pycage's. create-provider.ts only
 * loads the SDK a provider names and builds its client.
 */
import { AbortedError } from '../errors.js';
import type { Logger } from '../logger.js';
import { throwIfAborted, untilAborted } from '../abort.js';
import { stripThinking } from '../extract/index.js';
import {
  ModelAuthenticationError,
  ModelConnectionError,
  ModelNotFoundError,
  ModelRateLimitError,
  ModelRequestError,
  ModelServerError,
  ModelTimeoutError,
} from './errors.js';
import { createThinkFilter } from './think-filter.js';
import { checkOptionKeys, type OptionKeys } from '../options.js';
import type { ChatMessage, GenerateOptions, ModelProvider, ProviderName, TokenUsage } from './types.js';

type ErrorClass = abstract new (...args: never[]) => Error;

/** What pycage needs from a loaded SDK client. */
export interface ChatClient {
  complete(messages: readonly ChatMessage[], signal: AbortSignal): Promise<unknown>;
  stream(messages: readonly ChatMessage[], signal: AbortSignal): Promise<AsyncIterable<unknown>>;
  /** GET /models: the ids the endpoint serves (`pycage doctor`). */
  listModels(signal: AbortSignal): Promise<unknown>;
  /** The SDK's error classes, to tell its failures apart. */
  errors: { APIError: ErrorClass; APIConnectionError: ErrorClass; APIConnectionTimeoutError: ErrorClass; APIUserAbortError: ErrorClass };
}

/**
 * What pycage calls on either SDK's client. groq-sdk and openai are generated from the same
 * template, so one adapter serves both.
 */
export interface SdkClient {
  chat: {
    completions: {
      create(
        body: { model: string; messages: Array<{ role: ChatMessage['role']; content: string }>; stream: boolean },
        options: { signal: AbortSignal },
      ): PromiseLike<unknown>;
    };
  };
  models: { list(options: { signal: AbortSignal }): PromiseLike<unknown> };
}

/**
 * Client options for either SDK. Every value is passed explicitly: left out, an SDK would read its
 * key and base URL from process.env itself, behind the back of a caller who gave `env` to
 * resolveModelConfig.
 */
export function sdkClientOptions(options: { apiKey: string; baseUrl: string; timeoutMs: number; maxRetries: number; logger: Logger }) {
  return {
    apiKey: options.apiKey,
    baseURL: options.baseUrl,
    timeout: options.timeoutMs,
    maxRetries: options.maxRetries,
    fetch: fetchWithoutLongRetryWaits,
    logger: sdkLogger(options.logger),
    logLevel: 'info' as const,
  };
}

/** The ChatClient of an SDK client: requests carry only the model and the messages. */
export function chatClientFor(client: SdkClient, model: string, errors: ChatClient['errors']): ChatClient {
  // No temperature or max_tokens: reasoning models (gpt-oss, gpt-5.x, o-series) reject any but their
  // defaults, and a script is short enough for every model's default output limit.
  const body = (messages: readonly ChatMessage[], stream: boolean) => ({ model, messages: messages.map((message) => ({ ...message })), stream });
  return {
    errors,
    complete: async (messages, signal) => client.chat.completions.create(body(messages, false), { signal }),
    stream: async (messages, signal) => (await client.chat.completions.create(body(messages, true), { signal })) as AsyncIterable<unknown>,
    listModels: async (signal) => client.models.list({ signal }),
  };
}

export interface ChatProviderOptions {
  name: ProviderName;
  model: string;
  baseUrl: string;
  /** Where the key is configured, for messages about a refused key. */
  apiKeyVariable: string;
  /** True when no key was configured and a placeholder is sent (local servers). */
  apiKeyIsPlaceholder: boolean;
  timeoutMs: number;
  maxRetries: number;
  logger: Logger;
  /** Loads the SDK and builds its client; called once, on the first request. */
  connect: () => Promise<ChatClient>;
}

interface Answer {
  content: string;
  reasoningLength: number;
  finishReason: string | undefined;
  usage: TokenUsage | undefined;
}

const generateOptionKeys = { messages: true, abortSignal: true, onText: true, onUsage: true } as const satisfies OptionKeys<GenerateOptions>;

/** Same shape as the SDKs' own `Logger`; their log lines go to pycage's logger, never the console. */
function sdkLogger(logger: Logger): Record<'error' | 'warn' | 'info' | 'debug', (message: string) => void> {
  return {
    error: (message) => logger.error(message),
    warn: (message) => logger.warn(message),
    // The SDKs log each request and each retry at info; for pycage that is detail.
    info: (message) => logger.debug(message),
    debug: () => {},
  };
}

export function createChatProvider(options: ChatProviderOptions): ModelProvider {
  const { name, model, baseUrl, logger } = options;
  let client: Promise<ChatClient> | undefined;

  const connect = (): Promise<ChatClient> => {
    client ??= options.connect().catch((error: unknown) => {
      client = undefined;
      throw error;
    });
    return client;
  };

  return {
    name,
    model,
    baseUrl,
    async generate(generateOptions: GenerateOptions): Promise<string> {
      checkOptionKeys(`${name} provider generate`, generateOptions, generateOptionKeys, { optional: false });
      const { messages, abortSignal, onText, onUsage } = generateOptions;
      throwIfAborted(abortSignal);
      const sdk = await connect();
      // Aborting this controller stops the SDK, even in the middle of a retry, when the caller
      // aborts or a stream goes quiet for too long.
      const controller = new AbortController();
      const signal = abortSignal === undefined ? controller.signal : AbortSignal.any([abortSignal, controller.signal]);
      const watchdog = { timedOut: false };
      const startedAt = performance.now();
      logger.debug(`asking ${model} at ${baseUrl} (${messages.length} messages${onText === undefined ? '' : ', streaming'})`);
      try {
        const work =
          onText === undefined
            ? sdk.complete(messages, signal).then(readCompletion)
            : sdk.stream(messages, signal).then((stream) => readStream(stream, { onText, timeoutMs: options.timeoutMs, controller, signal, watchdog }));
        const answer = await untilAborted(work, abortSignal);
        const text = stripThinking(answer.content);
        const elapsed = seconds(performance.now() - startedAt);
        const reasoning = answer.reasoningLength > 0 ? `, ${answer.reasoningLength} characters of reasoning left out` : '';
        logger.info(`${model} answered in ${elapsed} (${text.length} characters${reasoning})`);
        if (answer.usage !== undefined) onUsage?.(answer.usage);
        if (text === '') {
          logger.warn(`${model} sent an empty answer (finish reason: ${answer.finishReason ?? 'none given'})`);
        }
        return text;
      } catch (error) {
        controller.abort();
        throw toModelError(error, sdk.errors, options, abortSignal, watchdog.timedOut);
      }
    },
    async listModels({ abortSignal } = {}): Promise<string[]> {
      throwIfAborted(abortSignal);
      const sdk = await connect();
      const controller = new AbortController();
      const signal = abortSignal === undefined ? controller.signal : AbortSignal.any([abortSignal, controller.signal]);
      try {
        const page = await untilAborted(sdk.listModels(signal), abortSignal);
        const data = field(page, 'data');
        return Array.isArray(data) ? data.map((entry) => text(entry, 'id')).filter((id) => id !== '') : [];
      } catch (error) {
        controller.abort();
        throw toModelError(error, sdk.errors, options, abortSignal, false);
      }
    },
  };
}

/**
 * The answer is `content`, and only `content`. Reasoning models send their thinking beside it
 * (`reasoning` on Groq, `reasoning_content` on vLLM and DeepSeek); it is counted, never used. An
 * empty content with a `refusal` (OpenAI) gives the refusal, so the user sees why there is no code.
 */
function readCompletion(completion: unknown): Answer {
  const choice = firstChoice(completion);
  const message = field(choice, 'message');
  const content = text(message, 'content') || text(message, 'refusal');
  return {
    content,
    reasoningLength: text(message, 'reasoning').length + text(message, 'reasoning_content').length,
    finishReason: text(choice, 'finish_reason') || undefined,
    usage: readUsage(field(completion, 'usage')),
  };
}

/** `usage` as the chat-completions protocol gives it; undefined when absent or not numbers. */
function readUsage(usage: unknown): TokenUsage | undefined {
  const promptTokens = field(usage, 'prompt_tokens');
  const completionTokens = field(usage, 'completion_tokens');
  if (typeof promptTokens !== 'number' || typeof completionTokens !== 'number') return undefined;
  const totalTokens = field(usage, 'total_tokens');
  return { promptTokens, completionTokens, totalTokens: typeof totalTokens === 'number' ? totalTokens : promptTokens + completionTokens };
}

async function readStream(
  stream: AsyncIterable<unknown>,
  options: {
    onText: (delta: string) => void;
    timeoutMs: number;
    controller: AbortController;
    signal: AbortSignal;
    watchdog: { timedOut: boolean };
  },
): Promise<Answer> {
  const answer: Answer = { content: '', reasoningLength: 0, finishReason: undefined, usage: undefined };
  const filter = createThinkFilter(options.onText);
  // The SDK's timeout ends when the response headers arrive; after that, a stream that stops
  // sending would hang forever. This timer is restarted by every chunk.
  const timer = setTimeout(() => {
    options.watchdog.timedOut = true;
    options.controller.abort();
  }, options.timeoutMs);
  try {
    for await (const chunk of stream) {
      timer.refresh();
      const choice = firstChoice(chunk);
      const delta = field(choice, 'delta');
      const content = text(delta, 'content');
      if (content !== '') {
        answer.content += content;
        filter.push(content);
      }
      answer.reasoningLength += text(delta, 'reasoning').length + text(delta, 'reasoning_content').length;
      answer.finishReason = text(choice, 'finish_reason') || answer.finishReason;
      // The last chunk may carry the count: `usage` (OpenAI with include_usage) or `x_groq.usage` (Groq).
      answer.usage = readUsage(field(chunk, 'usage')) ?? readUsage(field(field(chunk, 'x_groq'), 'usage')) ?? answer.usage;
    }
    // The SDKs end a stream quietly when its signal aborts; a cut-off answer must not pass for a whole one.
    if (options.signal.aborted) throw new Error('The stream was aborted before it ended.');
    filter.flush();
    return answer;
  } finally {
    clearTimeout(timer);
  }
}

function firstChoice(response: unknown): unknown {
  const choices = field(response, 'choices');
  return Array.isArray(choices) ? choices[0] : undefined;
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

function text(value: unknown, key: string): string {
  const found = field(value, key);
  return typeof found === 'string' ? found : '';
}

function toModelError(
  error: unknown,
  errors: ChatClient['errors'],
  options: ChatProviderOptions,
  abortSignal: AbortSignal | undefined,
  streamTimedOut: boolean,
): unknown {
  const { name, model, baseUrl, maxRetries, timeoutMs } = options;
  const base = { provider: name, baseUrl, cause: error };
  const afterRetries = maxRetries > 0 ? ` after ${maxRetries} ${maxRetries === 1 ? 'retry' : 'retries'}` : '';

  if (error instanceof AbortedError) return error;
  if (abortSignal?.aborted) return new AbortedError(undefined, { cause: error });
  if (streamTimedOut) {
    return new ModelTimeoutError(`${name} stopped sending for ${seconds(timeoutMs)} in the middle of its answer (${baseUrl}).`, {
      ...base,
      timeoutMs,
    });
  }
  if (error instanceof errors.APIUserAbortError) return new AbortedError(undefined, { cause: error });
  if (error instanceof errors.APIConnectionTimeoutError) {
    return new ModelTimeoutError(`${name} did not answer within ${seconds(timeoutMs)}${afterRetries} (${baseUrl}).`, {
      ...base,
      timeoutMs,
      hint: 'A slow or busy model may need a longer timeout.',
    });
  }
  if (error instanceof errors.APIConnectionError) {
    const reason = connectionProblem(error);
    return new ModelConnectionError(`Could not connect to ${baseUrl}: ${reason}${afterRetries}.`, {
      ...base,
      url: baseUrl,
      hint: /^https?:\/\/(localhost|127\.|\[::1\])/.test(baseUrl)
        ? 'Is the local model server running on that port?'
        : 'Check the network, or the base URL if you set one.',
    });
  }
  if (!(error instanceof errors.APIError)) return error;

  const status = (error as { status?: unknown }).status;
  const detail = errorDetail(error);
  const said = detail.message === '' ? '' : `: ${detail.message}`;
  const withStatus = { ...base, ...(typeof status === 'number' ? { status } : {}) };

  if (typeof status !== 'number') {
    return new ModelRequestError(`${name} reported an error in its answer${said}.`, withStatus);
  }
  const retryAfterMs = retryAfter(error);
  // An answer asking for a long wait was not retried (see fetchWithoutLongRetryWaits).
  const retried = retryAfterMs !== undefined && retryAfterMs > longestRetryWaitMs ? '' : afterRetries;

  if (status === 401 || status === 403) {
    const message = options.apiKeyIsPlaceholder
      ? `${baseUrl} wants an API key (${status}) and ${options.apiKeyVariable} is not set.`
      : `${name} refused the API key in ${options.apiKeyVariable} (${status})${said}.`;
    return new ModelAuthenticationError(message, {
      ...withStatus,
      variable: options.apiKeyVariable,
      hint: `Check the key in ${options.apiKeyVariable}.`,
    });
  }
  if (status === 404 || detail.code === 'model_not_found' || detail.code === 'model_decommissioned') {
    return new ModelNotFoundError(`${name} does not serve the model "${model}" (${status}, ${baseUrl})${said}.`, {
      ...withStatus,
      model,
      hint: 'Choose another model with --model or PYCAGE_MODEL; if the model is right, check the base URL.',
    });
  }
  if (status === 429) {
    return new ModelRateLimitError(`${name} rate limit reached (429)${retried}${said}.`, {
      ...withStatus,
      retryAfterMs,
      hint: retryAfterMs === undefined ? 'Wait a little and try again.' : `Try again in ${seconds(retryAfterMs)}.`,
    });
  }
  if (status >= 500) {
    return new ModelServerError(`${name} had a server error (${status})${retried}${said}.`, withStatus);
  }
  return new ModelRequestError(`${name} did not accept the request (${status})${said}.`, withStatus);
}

/** groq-sdk keeps the whole JSON body in `error.error`, openai keeps its `error` member: read both. */
function errorDetail(error: Error): { message: string; code: string } {
  const body = field(error, 'error');
  const detail = field(body, 'error') ?? body;
  const message = typeof detail === 'string' ? detail : text(detail, 'message');
  return { message: message.trim(), code: text(detail, 'code') };
}

function retryAfter(error: Error): number | undefined {
  const headers = field(error, 'headers');
  return headers instanceof Headers ? retryAfterMs(headers) : undefined;
}

/** `retry-after-ms`, else `retry-after` in seconds or as an HTTP date, as the SDKs read them. */
function retryAfterMs(headers: Headers): number | undefined {
  const milliseconds = Number.parseFloat(headers.get('retry-after-ms') ?? '');
  if (Number.isFinite(milliseconds)) return milliseconds;
  const retryAfterHeader = headers.get('retry-after');
  if (retryAfterHeader === null) return undefined;
  const secondsValue = Number.parseFloat(retryAfterHeader);
  if (Number.isFinite(secondsValue)) return secondsValue * 1000;
  const date = Date.parse(retryAfterHeader);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** The longest `retry-after` the SDKs may sleep through on their own before retrying. */
const longestRetryWaitMs = 20_000;

/**
 * The `fetch` both SDKs are given. The SDKs sleep as long as `retry-after` says, however long: a
 * daily quota on Groq can ask for minutes or hours, and pycage would sit there silently. Such an
 * answer is marked `x-should-retry: false` (a header the SDKs obey), so it fails at once and the
 * error says how long to wait.
 */
async function fetchWithoutLongRetryWaits(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const response = await fetch(input, init);
  if (response.status !== 429 && response.status < 500) return response;
  const waitMs = retryAfterMs(response.headers);
  if (waitMs === undefined || waitMs <= longestRetryWaitMs) return response;
  const headers = new Headers(response.headers);
  headers.set('x-should-retry', 'false');
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

/** fetch hides the reason two causes deep: TypeError('fetch failed') -> Error { code: 'ECONNREFUSED' }. */
function connectionProblem(error: Error): string {
  let cause: unknown = error.cause;
  for (let depth = 0; depth < 4 && cause instanceof Error; depth += 1) {
    const code = (cause as { code?: unknown }).code;
    if (code === 'ECONNREFUSED') return 'connection refused';
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host not found';
    if (code === 'ECONNRESET') return 'connection reset';
    if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return 'host unreachable';
    if (typeof code === 'string') return code;
    cause = cause.cause;
  }
  return 'no response';
}

/** `1.5s`, `20s`, `7m`, `2h 5m`: how long, the way a person says it. */
function seconds(milliseconds: number): string {
  const value = milliseconds / 1000;
  if (value < 60) return `${Number.isInteger(value) ? value : value.toFixed(1)}s`;
  const minutes = Math.ceil(value / 60);
  return minutes < 60 ? `${minutes}m` : `${Math.floor(minutes / 60)}h${minutes % 60 === 0 ? '' : ` ${minutes % 60}m`}`;
}

