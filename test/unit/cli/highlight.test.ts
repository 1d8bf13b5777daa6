import { describe, expect, it } from 'vitest';
import { createColors } from '../../../src/cli/colors.js';
import { highlightPython } from '../../../src/cli/highlight.js';

describe('highlightPython', () => {
  const code = 'import json  # data\n@cache\ndef load(path="a#b"):\n    return 42\n';

  it('is the identity without colour', () => {
    expect(highlightPython(code, createColors(false))).toBe(code);
  });

  it('colours keywords, strings, comments, numbers and defined names without changing the text', () => {
    const styled = highlightPython(code, createColors(true));
    expect(styled.replace(/\u001b\[\d+m/g, '')).toBe(code);
    expect(styled).toContain('\u001b[35mimport\u001b[39m');
    expect(styled).toContain('\u001b[32m"a#b"\u001b[39m'); // a # inside a string is not a comment
    expect(styled).toContain('\u001b[2m# data\u001b[22m');
    expect(styled).toContain('\u001b[34mload\u001b[39m');
    expect(styled).toContain('\u001b[36m42\u001b[39m');
  });
});
