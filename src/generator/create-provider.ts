/** Turns a resolved configuration into the provider it names. Nothing is loaded or sent until `generate`. */
import { toLogger, type Logger, type LogSink } from '../logger.js';
import { checkOptionKeys, type OptionKeys } from '../options.js';
import { modelConfigKeys, type ModelConfig } from './config.js';
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
