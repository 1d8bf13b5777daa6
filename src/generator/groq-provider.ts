/**
 * Groq through groq-sdk, pycage's default provider. The SDK is imported on the first request, not
 * when this module loads, so commands that never talk to a model never pay for it.
 */
import type { Logger } from '../logger.js';
import { createChatProvider, fetchWithoutLongRetryWaits, sdkLogger } from './chat-provider.js';
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
      // Every value is passed explicitly: left out, the SDK would read GROQ_API_KEY and GROQ_BASE_URL
      // from process.env itself, behind the back of a caller who gave `env` to resolveModelConfig.
      const client = new Groq({
        apiKey: config.apiKey,
        baseURL: baseUrl,
        timeout: config.timeoutMs,
        maxRetries: config.maxRetries,
        fetch: fetchWithoutLongRetryWaits,
        logger: sdkLogger(logger),
        logLevel: 'info',
      });
      return {
        errors: { APIError, APIConnectionError, APIConnectionTimeoutError, APIUserAbortError },
        complete: (messages, signal) =>
          client.chat.completions.create({ model: config.model, messages: messages.map((message) => ({ ...message })), stream: false }, { signal }),
        stream: (messages, signal) =>
          client.chat.completions.create({ model: config.model, messages: messages.map((message) => ({ ...message })), stream: true }, { signal }),
        listModels: (signal) => client.models.list({ signal }),
      };
    },
  });
}
