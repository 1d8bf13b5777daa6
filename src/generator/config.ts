/**
 * Which model to ask, where, and with which key: options first, then the environment, then defaults.
 * Everything is checked here, before any request, so that a missing key or a mistyped provider is
 * one plain error naming the variable to fix, not an HTTP failure later.
 */
import { createRequire } from 'node:module';
import type * as Zod from 'zod';
import { buildModelConfigSchema } from './config-schema.js';
import { InvalidModelConfigError, MissingApiKeyError } from './errors.js';
import { checkOptionKeys, type OptionKeys } from '../options.js';
import type { ProviderName } from './types.js';

/**
 * Checked 2026-11-26. Groq: `openai/gpt-oss-120b` is a production model on console.groq.com/docs/models
 * and the replacement Groq names for the Llama 3.x ids it decommissioned on 2026-08-16. OpenAI:
 * developers.openai.com/docs/models points at `gpt-5.4-mini` for latency- and cost-sensitive work,
 * which a short script is.
 */
export const defaultModels: Record<ProviderName, string> = {
  groq: 'openai/gpt-oss-120b',
  openai: 'gpt-5.4-mini',
};

/** The base URL each SDK uses when none is configured. groq-sdk adds `/openai/v1/...` itself. */
export const defaultBaseUrls: Record<ProviderName, string> = {
  groq: 'https://api.groq.com',
  openai: 'https://api.openai.com/v1',
};

export const apiKeyVariables: Record<ProviderName, string> = { groq: 'GROQ_API_KEY', openai: 'OPENAI_API_KEY' };
const baseUrlVariables: Record<ProviderName, string> = { groq: 'GROQ_BASE_URL', openai: 'OPENAI_BASE_URL' };

/**
 * Sent as the key to a local OpenAI-compatible server (Ollama, LM Studio, vLLM) when none is set:
 * those servers ignore it, but the SDK and the HTTP header want a value.
 */
export const localApiKeyPlaceholder = 'pycage-local-no-key';

export interface ModelConfigInput {
  /** @default env `PYCAGE_PROVIDER`, else `'groq'` */
  provider?: ProviderName;
  /** Any model id the endpoint knows. @default env `PYCAGE_MODEL`, else `defaultModels[provider]` */
  model?: string;
  /** @default env `GROQ_API_KEY` or `OPENAI_API_KEY`, by provider */
  apiKey?: string;
  /** @default env `GROQ_BASE_URL` or `OPENAI_BASE_URL`, by provider, else the SDK's own default */
  baseUrl?: string;
  /** Where the variables above are read. @default `process.env` */
  env?: Record<string, string | undefined>;
  /** Time limit for one request (and, when streaming, for a silence between chunks). @default 120000 */
  timeoutMs?: number;
  /** Retries of a 408/409/429/5xx answer, a timeout or a failed connection, with the SDK's backoff. @default 2 */
  maxRetries?: number;
}

export interface ModelConfig {
  provider: ProviderName;
  model: string;
  /** The key to send; `localApiKeyPlaceholder` for a local server that was given none. */
  apiKey: string;
  /** `undefined`: the SDK's default endpoint (`defaultBaseUrls`). */
  baseUrl: string | undefined;
  timeoutMs: number;
  maxRetries: number;
}

export const modelConfigKeys = {
  provider: true,
  model: true,
  apiKey: true,
  baseUrl: true,
  timeoutMs: true,
  maxRetries: true,
} as const satisfies OptionKeys<ModelConfig>;

/** The input is the configuration plus where the environment variables are read. */
export const modelConfigInputKeys = { ...modelConfigKeys, env: true } as const satisfies OptionKeys<ModelConfigInput>;

const defaultTimeoutMs = 120_000;
const defaultMaxRetries = 2;

/** Validates options and environment into a `ModelConfig`. Throws `MissingApiKeyError` or `InvalidModelConfigError`. */
export function resolveModelConfig(input: ModelConfigInput = {}): ModelConfig {
  checkOptionKeys('resolveModelConfig', input, modelConfigInputKeys);
  const env = input.env ?? process.env;
  const read = (variable: string): string | undefined => nonEmpty(env[variable]);
  const schema = modelConfigSchema();

  // The provider decides which variables the rest comes from, so it is settled first.
  const providerSource = input.provider === undefined ? 'PYCAGE_PROVIDER' : 'provider';
  const providerValue = input.provider ?? read('PYCAGE_PROVIDER')?.toLowerCase() ?? 'groq';
  const provider = parseField(schema.shape.provider, providerValue, providerSource);

  const sources = {
    model: input.model === undefined ? 'PYCAGE_MODEL' : 'model',
    apiKey: input.apiKey === undefined ? apiKeyVariables[provider] : 'apiKey',
    baseUrl: input.baseUrl === undefined ? baseUrlVariables[provider] : 'baseUrl',
    timeoutMs: 'timeoutMs',
    maxRetries: 'maxRetries',
  };
  const values = {
    provider,
    model: input.model ?? read('PYCAGE_MODEL') ?? defaultModels[provider],
    apiKey: nonEmpty(input.apiKey) ?? read(apiKeyVariables[provider]),
    baseUrl: nonEmpty(input.baseUrl) ?? read(baseUrlVariables[provider]),
    timeoutMs: input.timeoutMs ?? defaultTimeoutMs,
    maxRetries: input.maxRetries ?? defaultMaxRetries,
  };
  const result = schema.safeParse(values);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = (issue?.path[0] ?? 'model') as keyof typeof sources;
    // A key is never repeated in a message: messages end up in logs and terminals.
    throw invalid(sources[field], issue?.message ?? 'is not valid', field === 'apiKey' ? undefined : values[field]);
  }

  const fields = result.data;
  const baseUrl = fields.baseUrl === undefined ? undefined : normalizeBaseUrl(provider, fields.baseUrl);
  let apiKey = fields.apiKey;
  if (apiKey === undefined) {
    if (provider === 'openai' && baseUrl !== undefined && isLocalUrl(baseUrl)) apiKey = localApiKeyPlaceholder;
    else throw missingKey(provider, baseUrl ?? defaultBaseUrls[provider], read);
  }
  return { provider, model: fields.model, apiKey, baseUrl, timeoutMs: fields.timeoutMs, maxRetries: fields.maxRetries };
}

/** True for a URL on this machine: `localhost` (and `*.localhost`), 127.0.0.0/8, `::1`. */
export function isLocalUrl(url: string): boolean {
  let hostname: string;
  try {
    hostname = new URL(url).hostname;
  } catch {
    return false;
  }
  return (
    hostname === 'localhost' ||
    hostname.endsWith('.localhost') ||
    /^127(?:\.\d{1,3}){3}$/.test(hostname) ||
    hostname === '[::1]'
  );
}

let cachedSchema: ReturnType<typeof buildModelConfigSchema> | undefined;

function modelConfigSchema(): ReturnType<typeof buildModelConfigSchema> {
  if (cachedSchema === undefined) {
    // `resolveModelConfig` is synchronous by contract and zod is heavy, so zod is required here, on
    // first use, rather than imported by every module that imports the generator.
    const require = createRequire(import.meta.url);
    cachedSchema = buildModelConfigSchema(require('zod') as typeof Zod);
  }
  return cachedSchema;
}

function parseField<Output>(schema: Zod.ZodType<Output>, value: unknown, source: string): Output {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw invalid(source, result.error.issues[0]?.message ?? 'is not valid', value);
}

function invalid(source: string, problem: string, value?: unknown): InvalidModelConfigError {
  const isVariable = /^[A-Z_]+$/.test(source);
  const shown = value === undefined ? '' : ` ${JSON.stringify(value)}`;
  return new InvalidModelConfigError(`Invalid ${isVariable ? source : `${source} option`}${shown}: ${problem}.`, {
    variable: source,
  });
}

function missingKey(provider: ProviderName, baseUrl: string, read: (variable: string) => string | undefined): MissingApiKeyError {
  const variable = apiKeyVariables[provider];
  const other: ProviderName = provider === 'groq' ? 'openai' : 'groq';
  const where = provider === 'groq' ? 'https://console.groq.com/keys' : 'https://platform.openai.com/api-keys';
  const hint =
    read(apiKeyVariables[other]) === undefined
      ? `Create a key at ${where} and set ${variable}.`
      : `Set ${variable}, or use the ${other} key that is set with --provider ${other}.`;
  return new MissingApiKeyError(`${variable} is not set: pycage needs an API key for ${provider} (${baseUrl}).`, {
    provider,
    baseUrl,
    variable,
    hint,
  });
}

/**
 * Trailing slashes go. For Groq, an OpenAI-style base URL (`https://api.groq.com/openai/v1`) loses
 * its `/openai/v1`, because groq-sdk adds that path itself and would otherwise ask for it twice.
 */
function normalizeBaseUrl(provider: ProviderName, baseUrl: string): string {
  const trimmed = baseUrl.replace(/\/+$/, '');
  return provider === 'groq' ? trimmed.replace(/\/openai\/v1$/, '') : trimmed;
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === '' ? undefined : trimmed;
}
