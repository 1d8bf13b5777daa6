/**
 * Any OpenAI-compatible endpoint through the openai SDK: OpenAI itself, OpenRouter, and local
 * servers (Ollama, LM Studio, vLLM). The SDK is imported on the first request, not when this module
 * loads, so commands that never talk to a model never pay for it.
 */
import type { Logger } from '../logger.js';
import { chatClientFor, createChatProvider, sdkClientOptions } from './chat-provider.js';
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
      const client = new OpenAI(sdkClientOptions({ ...config, baseUrl, logger }));
      return chatClientFor(client, config.model, { APIError, APIConnectionError, APIConnectionTimeoutError, APIUserAbortError });
    },
  });
}
