/**
 * The tag pairs reasoning models wrap their chain of thought in (DeepSeek R1, Qwen 3, QwQ, gpt-oss
 * behind some servers). Shared by two stages that must agree on them: extract removes them from a
 * whole answer (src/extract/strip-thinking.ts), the generator keeps them out of a streamed preview
 * (src/generator/think-filter.ts); neither reaches into the other for the list.
 */
export const thinkTags = [
  { open: '<think>', close: '</think>' },
  { open: '<thinking>', close: '</thinking>' },
] as const;
