/**
 * Groq through groq-sdk, pycage's default provider. The SDK is imported on the first request, not
 * when this module loads, so commands that never talk to a model never pay for it.
 */
import type { Logger } from '../logger.js';
import { chatClientFor, createChatProvider, sdkClientOptions } from './chat-provider.js';
import { apiKeyVariables, defaultBaseUrls, type ModelConfig } from './config.js';
import type { ModelProvider } from './types.js';

export function createGroqProvider(config: ModelConfig, logger: Logger): ModelProvider {
  const baseUrl = config.baseUrl ?? defaultBaseUrls.groq;
  return createChatProvider({
    name: 'groq',
    model: config.model,
    baseUrl,
    apiKeyVariable: apiKeyVariables.groq,
    apiKeyIsPlaceholder: false,
    timeoutMs: config.timeoutMs,
    maxRetries: config.maxRetries,
    logger,
    async connect() {
      const { Groq, APIError, APIConnectionError, APIConnectionTimeoutError, APIUserAbortError } = await import('groq-sdk');
      const client = new Groq(sdkClientOptions({ ...config, baseUrl, logger }));
      return chatClientFor(client, config.model, { APIError, APIConnectionError, APIConnectionTimeoutError, APIUserAbortError });
    },
  });
}
