/**
 * Any OpenAI-compatible endpoint through the openai SDK: OpenAI itself, OpenRouter, and local
 * servers (Ollama, LM Studio, vLLM). The SDK is imported on the first request, not when this module
 * loads, so commands that never talk to a model never pay for it.
 */
import type { Logger } from '../logger.js';
import { createChatProvider, fetchWithoutLongRetryWaits, sdkLogger } from './chat-provider.js';
import { apiKeyVariables, defaultBaseUrls, localApiKeyPlaceholder, type ModelConfig } from './config.js';
import type { ModelProvider } from './types.js';

export function createOpenAIProvider(config: ModelConfig, logger: Logger): ModelProvider {
  const baseUrl = config.baseUrl ?? defaultBaseUrls.openai;
  return createChatProvider({
    name: 'openai',
    model: config.model,
    baseUrl,
    apiKeyVariable: apiKeyVariables.openai,
    apiKeyIsPlaceholder: config.apiKey === localApiKeyPlaceholder,
    timeoutMs: config.timeoutMs,
    maxRetries: config.maxRetries,
    logger,
    async connect() {
      const { OpenAI, APIError, APIConnectionError, APIConnectionTimeoutError, APIUserAbortError } = await import('openai');
      // Every value is passed explicitly: left out, the SDK would read OPENAI_API_KEY and
      // OPENAI_BASE_URL from process.env itself, behind the back of a caller who gave `env`.
      const client = new OpenAI({
        apiKey: config.apiKey,
        baseURL: baseUrl,
        timeout: config.timeoutMs,
        maxRetries: config.maxRetries,
        fetch: fetchWithoutLongRetryWaits,
        logger: sdkLogger(logger),
        logLevel: 'info',
      });
      // No temperature or max_tokens: reasoning models (gpt-5.x, o-series) reject any but their
      // defaults, and a script is short enough for every model's default output limit.
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
