/**
 * The generator stage: from a request in plain language to Python, through a language model. Other
 * stages come in here only. Importing this module loads no SDK and not zod: groq-sdk or openai is
 * imported on a provider's first request, zod on the first `resolveModelConfig`.
 */
export { resolveModelConfig, defaultModels, isLocalUrl } from './config.js';
export type { ModelConfig, ModelConfigInput } from './config.js';
export { createProvider, providerFromEnvironment } from './create-provider.js';
export type { CreateProviderOptions, ProviderFromEnvironmentOptions } from './create-provider.js';
export { loadInstruction } from './instruction.js';
export type { ChatMessage, GenerateOptions, ModelProvider, ProviderName, TokenUsage } from './types.js';
export type { ModelErrorOptions } from './errors.js';
export {
  InvalidModelConfigError,
  MissingApiKeyError,
  ModelAuthenticationError,
  ModelConnectionError,
  ModelError,
  ModelNotFoundError,
  ModelRateLimitError,
  ModelRequestError,
  ModelServerError,
  ModelTimeoutError,
} from './errors.js';
