// The streaming <think> filter must give the same text however the stream is cut into chunks.
import { describe, expect, it } from 'vitest';
import { createThinkFilter } from '../../../src/generator/think-filter.js';

function run(chunks: string[]): string {
  let shown = '';
  const filter = createThinkFilter((text) => {
    shown += text;
  });
  for (const chunk of chunks) filter.push(chunk);
  filter.flush();
  return shown;
}

/** Every way of cutting `text` in two, plus one character at a time. */
function cuts(text: string): string[][] {
  const result = [[...text]];
  for (let index = 0; index <= text.length; index += 1) result.push([text.slice(0, index), text.slice(index)]);
  return result;
}

describe('createThinkFilter', () => {
  it.each([
    { name: 'leading think section', text: '<think>plan the code</think>\n\nHere it is', shown: 'Here it is' },
    { name: 'two sections', text: '<think>a</think> <thinking>b</thinking>answer', shown: 'answer' },
    { name: 'no thinking', text: '  plain answer with <think> later', shown: 'plain answer with <think> later' },
    { name: 'unclosed thinking shows nothing', text: '<think>never closed', shown: '' },
    { name: 'text that only looks like the start of a tag', text: '<thi', shown: '<thi' },
    { name: 'a less-than sign first', text: '<b>bold</b>', shown: '<b>bold</b>' },
  ])('$name, however it is chunked', ({ text, shown }) => {
    for (const chunks of cuts(text)) expect(run(chunks), JSON.stringify(chunks)).toBe(shown);
  });
});
