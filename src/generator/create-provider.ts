/**
 * Turns a resolved configuration into the provider it names, or, with `providerFromEnvironment`, the
 * options and environment straight into one. Nothing is loaded or sent until `generate`.
 *
 * Each provider is an SDK behind the adapter both share (chat-provider.ts): Groq through groq-sdk,
 * pycage's default, and any OpenAI-compatible endpoint (OpenAI, OpenRouter, and local servers such as
 * Ollama, LM Studio and vLLM) through openai. An SDK is imported on the provider's first request, not
 * when this module loads, so commands that never talk to a model never pay for it.
 */
import { toLogger, type Logger, type LogSink } from '../logger.js';
import { checkOptionKeys, type OptionKeys } from '../options.js';
import { chatClientFor, createChatProvider, sdkClientOptions, type ChatClient, type SdkClient } from './chat-provider.js';
import {
  apiKeyVariables,
  defaultBaseUrls,
  localApiKeyPlaceholder,
  modelConfigInputKeys,
  modelConfigKeys,
  resolveModelConfig,
  type ModelConfig,
  type ModelConfigInput,
} from './config.js';
import type { ModelProvider, ProviderName } from './types.js';

export interface CreateProviderOptions {
  /** Receives the provider's log lines (component `Generator`). @default none: nothing is logged */
  logger?: Logger | LogSink;
}

const createProviderOptionKeys = { logger: true } as const satisfies OptionKeys<CreateProviderOptions>;

export function createProvider(config: ModelConfig, options: CreateProviderOptions = {}): ModelProvider {
  // A hand-written config with a misspelled key (`baseURL`) would otherwise send requests to the default endpoint.
  checkOptionKeys('createProvider (config)', config, modelConfigKeys, { optional: false });
  checkOptionKeys('createProvider', options, createProviderOptionKeys);
  const logger = toLogger(options.logger, 'Generator');
  return createSdkProvider(config, logger);
}

/** A loaded SDK: how to build its client, and its error classes (the module itself holds them). */
interface LoadedSdk {
  client: (options: ReturnType<typeof sdkClientOptions>) => SdkClient;
  errors: ChatClient['errors'];
}

const loadSdk: Record<ProviderName, () => Promise<LoadedSdk>> = {
  groq: async () => {
    const sdk = await import('groq-sdk');
    return { client: (options) => new sdk.Groq(options), errors: sdk };
  },
  openai: async () => {
    const sdk = await import('openai');
    return { client: (options) => new sdk.OpenAI(options), errors: sdk };
  },
};

function createSdkProvider(config: ModelConfig, logger: Logger): ModelProvider {
  const name = config.provider;
  const baseUrl = config.baseUrl ?? defaultBaseUrls[name];
  return createChatProvider({
    name,
    model: config.model,
    baseUrl,
    apiKeyVariable: apiKeyVariables[name],
    // Only an OpenAI-compatible local server is ever sent the placeholder (see resolveModelConfig).
    apiKeyIsPlaceholder: name === 'openai' && config.apiKey === localApiKeyPlaceholder,
    timeoutMs: config.timeoutMs,
    maxRetries: config.maxRetries,
    logger,
    async connect() {
      const sdk = await loadSdk[name]();
      return chatClientFor(sdk.client(sdkClientOptions({ ...config, baseUrl, logger })), config.model, sdk.errors);
    },
  });
}

/** `resolveModelConfig`'s options and `createProvider`'s, together. */
export type ProviderFromEnvironmentOptions = ModelConfigInput & CreateProviderOptions;

const providerFromEnvironmentKeys = { ...modelConfigInputKeys, ...createProviderOptionKeys } as const satisfies OptionKeys<ProviderFromEnvironmentOptions>;

/**
 * The provider the options and the environment name (`PYCAGE_PROVIDER`, `PYCAGE_MODEL`, `GROQ_API_KEY`,
 * `OPENAI_BASE_URL`...), in one call: `createProvider(resolveModelConfig(options), { logger })`. Throws
 * `MissingApiKeyError` naming the variable, or `InvalidModelConfigError`, before anything is sent.
 */
export function providerFromEnvironment(options: ProviderFromEnvironmentOptions = {}): ModelProvider {
  checkOptionKeys('providerFromEnvironment', options, providerFromEnvironmentKeys);
  const { logger, ...input } = options;
  return createProvider(resolveModelConfig(input), logger === undefined ? {} : { logger });
}
