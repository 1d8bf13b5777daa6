/**
 * Reasoning models (DeepSeek R1, Qwen 3, QwQ, and gpt-oss behind some servers) may put their chain of
 * thought in the answer itself, wrapped in `<think>...</think>`. That text often holds draft code, so
 * it must be gone before anyone looks for the code block.
 *
 * Only thinking at the start of the answer is removed: that is where models put it, and a `<think>`
 * further down is more likely part of the code (an HTML string, a regex) than reasoning.
 */
import { thinkTags } from '../think-tags.js';

/**
 * A closing tag with no opening one: some chat templates put `<think>` in the prompt, so the answer
 * starts inside the reasoning. The tag must end its line, which keeps `"</think>"` in code safe.
 */
const orphanCloseTag = /<\/think(?:ing)?>[ \t]*(?:\r?\n|$)/;

/**
 * The answer without its leading reasoning. An opening tag that is never closed means the answer
 * was cut off while the model was still thinking: nothing after it is an answer, so the result is ''.
 */
export function stripThinking(answer: string): string {
  let rest = answer.trimStart();
  for (;;) {
    const tag = thinkTags.find((candidate) => rest.startsWith(candidate.open));
    if (tag === undefined) break;
    const end = rest.indexOf(tag.close, tag.open.length);
    if (end === -1) return '';
    rest = rest.slice(end + tag.close.length).trimStart();
  }
  if (rest === answer.trimStart()) {
    const orphan = orphanCloseTag.exec(rest);
    if (orphan !== null && !rest.slice(0, orphan.index).includes('<think')) {
      rest = rest.slice(orphan.index + orphan[0].length).trimStart();
    }
  }
  return rest;
}
