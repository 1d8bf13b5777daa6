/**
 * Turns a resolved configuration into the provider it names, or, with `providerFromEnvironment`, the
 * options and environment straight into one. Nothing is loaded or sent until `generate`.
 */
import { toLogger, type Logger, type LogSink } from '../logger.js';
import { checkOptionKeys, type OptionKeys } from '../options.js';
import { modelConfigInputKeys, modelConfigKeys, resolveModelConfig, type ModelConfig, type ModelConfigInput } from './config.js';
import { createGroqProvider } from './groq-provider.js';
import { createOpenAIProvider } from './openai-provider.js';
import type { ModelProvider } from './types.js';

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
  return config.provider === 'groq' ? createGroqProvider(config, logger) : createOpenAIProvider(config, logger);
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
