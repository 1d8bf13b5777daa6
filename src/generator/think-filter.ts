/**
 * Keeps leading `<think>` sections out of a streamed answer, for `onText` previews. Tags can arrive
 * split across chunks (`<thi` + `nk>`), so text that could still turn out to be a tag is held back
 * until it is clear. The final answer is cleaned again as a whole by `stripThinking`; this filter
 * only decides what the user watches while it streams.
 */

import { thinkTags } from '../think-tags.js';

export interface ThinkFilter {
  push(delta: string): void;
  /** Call once at the end: lets go of text held back in case it was the start of a tag. */
  flush(): void;
}

export function createThinkFilter(emit: (text: string) => void): ThinkFilter {
  let state: 'leading' | 'thinking' | 'answer' = 'leading';
  let closeTag = '';
  let held = '';

  const drain = (): void => {
    for (;;) {
      if (state === 'answer') {
        if (held !== '') emit(held);
        held = '';
        return;
      }
      if (state === 'thinking') {
        const end = held.indexOf(closeTag);
        if (end === -1) {
          // Keep only what could be the start of the closing tag; the rest is reasoning.
          held = held.slice(-(closeTag.length - 1));
          return;
        }
        held = held.slice(end + closeTag.length);
        state = 'leading';
        continue;
      }
      const text = held.trimStart();
      if (text === '') return;
      const tag = thinkTags.find((candidate) => text.startsWith(candidate.open));
      if (tag !== undefined) {
        held = text.slice(tag.open.length);
        closeTag = tag.close;
        state = 'thinking';
        continue;
      }
      if (thinkTags.some((candidate) => candidate.open.startsWith(text))) return;
      held = text;
      state = 'answer';
    }
  };

  return {
    push(delta) {
      held += delta;
      drain();
    },
    flush() {
      if (state === 'leading' && held.trim() !== '') emit(held.trimStart());
      held = '';
    },
  };
}
