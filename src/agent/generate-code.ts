/**
 * One turn of the agent: the instruction as the system message, earlier turns, the request as the
 * user message; then the model's answer (the generator stage), and the Python extracted from it (the
 * extract stage). It joins two stages, so it lives with the agent, which joins them all.
 */
import { extractCode, type ExtractRule } from '../extract/index.js';
import { loadInstruction, type ChatMessage, type GenerateOptions, type ModelProvider, type TokenUsage } from '../generator/index.js';
import { checkOptionKeys, type OptionKeys } from '../options.js';

/** `abortSignal` and `onText` as the provider's own `generate` takes them. */
export interface GenerateCodeOptions extends Pick<GenerateOptions, 'abortSignal' | 'onText'> {
  /** What the user wants done, in their words. */
  request: string;
  provider: ModelProvider;
  /** The system instruction text (use `loadInstruction(path)` for a file). @default the text of `prompts/instruction.md` */
  instruction?: string;
  /** Earlier turns of the conversation, oldest first, placed between the instruction and the request. @default [] */
  history?: readonly ChatMessage[];
  /** Receives the tokens the answer cost (when the endpoint reports them), even for an answer with no code. */
  onUsage?: (usage: TokenUsage) => void;
}

export interface GeneratedCode {
  /** The Python to run. */
  code: string;
  /** Which extraction rule chose the code, and why. */
  rule: ExtractRule;
  reason: string;
  /** The model's whole answer, reasoning left out. */
  answer: string;
  /** The messages sent, followed by the answer as an `assistant` message. */
  messages: ChatMessage[];
  /** Time spent waiting for the model, in milliseconds. */
  durationMs: number;
  /** Tokens the answer cost, when the endpoint reported them. */
  usage?: TokenUsage;
}

/** Asks the provider for code. Throws the provider's `ModelError`s, or `NoCodeBlockError` when the answer has no code. */
export const generateCodeOptionKeys = {
  request: true,
  provider: true,
  instruction: true,
  history: true,
  abortSignal: true,
  onText: true,
  onUsage: true,
} as const satisfies OptionKeys<GenerateCodeOptions>;

export async function generateCode(options: GenerateCodeOptions): Promise<GeneratedCode> {
  checkOptionKeys('generateCode', options, generateCodeOptionKeys, { optional: false });
  const instruction = options.instruction ?? (await loadInstruction());
  const messages: ChatMessage[] = [
    { role: 'system', content: instruction },
    ...(options.history ?? []),
    { role: 'user', content: options.request },
  ];
  const startedAt = performance.now();
  let usage: TokenUsage | undefined;
  const answer = await options.provider.generate({
    messages,
    ...(options.abortSignal === undefined ? {} : { abortSignal: options.abortSignal }),
    ...(options.onText === undefined ? {} : { onText: options.onText }),
    onUsage: (counted) => {
      usage = counted;
      options.onUsage?.(counted);
    },
  });
  const durationMs = Math.round(performance.now() - startedAt);
  const extracted = extractCode(answer);
  return {
    code: extracted.code,
    rule: extracted.rule,
    reason: extracted.reason,
    answer,
    messages: [...messages, { role: 'assistant', content: answer }],
    durationMs,
    ...(usage === undefined ? {} : { usage }),
  };
}
