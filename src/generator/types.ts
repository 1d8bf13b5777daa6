/**
 * The border between pycage and a language model. Everything past `ModelProvider` (SDKs, HTTP,
 * retries, reasoning fields) belongs to one adapter; the rest of pycage sees only these types.
 */

export type ProviderName = 'groq' | 'openai';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface GenerateOptions {
  /** The conversation to answer, system message first. */
  messages: readonly ChatMessage[];
  /** Cancels the request; `generate` then rejects with `AbortedError`. */
  abortSignal?: AbortSignal;
  /**
   * Receives the answer text as it streams in, `<think>` sections left out. Giving it makes the
   * request a streaming one. A preview only: the resolved value of `generate` is the answer.
   */
  onText?: (delta: string) => void;
  /**
   * Receives the tokens the answer cost, when the endpoint reports them (`usage` in the response).
   * A callback rather than part of the return value, so that `generate` keeps returning the text.
   */
  onUsage?: (usage: TokenUsage) => void;
}

/** Tokens one answer cost, as the endpoint counted them. */
export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

export interface ModelProvider {
  readonly name: ProviderName;
  /** The model id sent with each request, e.g. `openai/gpt-oss-120b`. */
  readonly model: string;
  /** Where requests go: the configured base URL, or the SDK's default one. */
  readonly baseUrl: string;
  /** The answer text, with reasoning (a `reasoning` field or `<think>` sections) removed. */
  generate(options: GenerateOptions): Promise<string>;
  /** The model ids the endpoint serves (GET /models); a light way to check the key and the URL. */
  listModels(options?: { abortSignal?: AbortSignal }): Promise<string[]>;
}
