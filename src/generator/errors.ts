/**
 * What can go wrong between pycage and the model, one class per thing the user would do differently:
 * set a key, fix the model id, wait, start the local server. All are model problems (exit 4) except
 * a configuration value that is not valid at all, which is a usage error (exit 2).
 */
import { ExitCode, PycageError, UsageError } from '../errors.js';
import type { ProviderName } from './types.js';

export interface ModelErrorOptions {
  provider: ProviderName;
  baseUrl: string;
  /** The HTTP status of the answer that failed, when there was one. */
  status?: number;
  cause?: unknown;
  isRetryable?: boolean;
  hint?: string;
}

/** Base of every failure talking to the model endpoint. */
export class ModelError extends PycageError {
  override readonly name: string = 'ModelError';
  readonly provider: ProviderName;
  readonly baseUrl: string;
  readonly status: number | undefined;

  constructor(message: string, options: ModelErrorOptions) {
    super(message, {
      exitCode: ExitCode.model,
      cause: options.cause,
      isRetryable: options.isRetryable ?? false,
      ...(options.hint === undefined ? {} : { hint: options.hint }),
    });
    this.provider = options.provider;
    this.baseUrl = options.baseUrl;
    this.status = options.status;
  }
}

/** No API key where one is needed. Thrown by `resolveModelConfig`, before any request. */
export class MissingApiKeyError extends ModelError {
  override readonly name: string = 'MissingApiKeyError';
  /** The environment variable that should hold the key: `GROQ_API_KEY` or `OPENAI_API_KEY`. */
  readonly variable: string;

  constructor(message: string, options: ModelErrorOptions & { variable: string }) {
    super(message, options);
    this.variable = options.variable;
  }
}

/** 401 or 403: the endpoint refused the key. */
export class ModelAuthenticationError extends ModelError {
  override readonly name: string = 'ModelAuthenticationError';
  /** The environment variable the key is read from, named so the user knows which one to fix. */
  readonly variable: string;

  constructor(message: string, options: ModelErrorOptions & { variable: string }) {
    super(message, options);
    this.variable = options.variable;
  }
}

/** 429, still there after the SDK's own retries. */
export class ModelRateLimitError extends ModelError {
  override readonly name: string = 'ModelRateLimitError';
  /** What the endpoint's `retry-after` header asked for, in milliseconds, when it sent one. */
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options: ModelErrorOptions & { retryAfterMs?: number | undefined }) {
    super(message, { ...options, isRetryable: true });
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** 5xx, still there after the SDK's own retries. */
export class ModelServerError extends ModelError {
  override readonly name: string = 'ModelServerError';
  constructor(message: string, options: ModelErrorOptions) {
    super(message, { ...options, isRetryable: true });
  }
}

/** No HTTP answer at all: connection refused, unknown host, reset. */
export class ModelConnectionError extends ModelError {
  override readonly name: string = 'ModelConnectionError';
  /** The URL pycage tried to reach. */
  readonly url: string;

  constructor(message: string, options: ModelErrorOptions & { url: string }) {
    super(message, { ...options, isRetryable: true });
    this.url = options.url;
  }
}

/** The endpoint took longer than `timeoutMs` to answer (or, when streaming, went quiet that long). */
export class ModelTimeoutError extends ModelError {
  override readonly name: string = 'ModelTimeoutError';
  readonly timeoutMs: number;

  constructor(message: string, options: ModelErrorOptions & { timeoutMs: number }) {
    super(message, { ...options, isRetryable: true });
    this.timeoutMs = options.timeoutMs;
  }
}

/** 404, or a model the endpoint says is unknown or decommissioned. */
export class ModelNotFoundError extends ModelError {
  override readonly name: string = 'ModelNotFoundError';
  readonly model: string;

  constructor(message: string, options: ModelErrorOptions & { model: string }) {
    super(message, options);
    this.model = options.model;
  }
}

/** Any other 4xx: the endpoint did not accept the request as sent. */
export class ModelRequestError extends ModelError {
  override readonly name: string = 'ModelRequestError';
}

/** A configuration value that cannot be right (`PYCAGE_PROVIDER=gorq`, a base URL that is no URL). Exit 2. */
export class InvalidModelConfigError extends UsageError {
  override readonly name: string = 'InvalidModelConfigError';
  /** The environment variable or option the bad value came from. */
  readonly variable: string;

  constructor(message: string, options: { variable: string; hint?: string }) {
    super(message, options.hint === undefined ? {} : { hint: options.hint });
    this.variable = options.variable;
  }
}
