// Reasoning text in the answer itself: what is removed and, as much, what is left alone.
import { describe, expect, it } from 'vitest';
import { stripThinking } from '../../../src/extract/index.js';

describe('stripThinking', () => {
  it.each([
    { name: 'a leading <think> section', answer: '<think>plan</think>\n\nanswer', expected: 'answer' },
    { name: 'several leading sections', answer: '<think>a</think>\n<think>b</think>answer', expected: 'answer' },
    { name: '<thinking> as well', answer: '  <thinking>\nplan\n</thinking>\nanswer', expected: 'answer' },
    { name: 'an unclosed leading section: nothing is an answer', answer: '<think>\nstill thinking when cut off', expected: '' },
    { name: 'a closing tag whose opening was in the prompt', answer: 'plan plan\n</think>\n\nanswer', expected: 'answer' },
    { name: 'a closing tag at the end of the reasoning line', answer: 'plan plan.</think>\nanswer', expected: 'answer' },
    { name: 'no thinking at all', answer: 'just the answer', expected: 'just the answer' },
    {
      name: 'a tag inside code further down is code, not reasoning',
      answer: 'text\n```python\nprint("<think>")\nprint("</think>")\n```',
      expected: 'text\n```python\nprint("<think>")\nprint("</think>")\n```',
    },
  ])('$name', ({ answer, expected }) => {
    expect(stripThinking(answer)).toBe(expected);
  });
});
