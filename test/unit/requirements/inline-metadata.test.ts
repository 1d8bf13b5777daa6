// PEP 723 blocks and the TOML they hold.
import { describe, expect, it } from 'vitest';
import { readScriptMetadata } from '../../../src/requirements/index.js';
import { parseToml, TomlSyntaxError } from '../../../src/requirements/toml.js';

describe('readScriptMetadata', () => {
  it('reads dependencies and requires-python', () => {
    const code = ['# /// script', '# requires-python = ">=3.11"', '# dependencies = [', '#   "requests<3",', "#   'rich',  # comment", '# ]', '# ///', 'import requests', ''].join('\n');
    expect(readScriptMetadata(code)).toEqual({ status: 'valid', metadata: { dependencies: ['requests<3', 'rich'], requiresPython: '>=3.11' } });
  });

  it('accepts a block anywhere, blank comment lines, CRLF, and other tables in it', () => {
    const code = [
      '#!/usr/bin/env python3',
      '"""Docstring."""',
      '# /// script',
      '#',
      '# dependencies = ["httpx>=0.27", "pkg[extra] @ https://example.com/pkg.whl"]',
      '#',
      '# [tool.uv]',
      '# exclude-newer = 2024-10-01T00:00:00Z',
      '# ///',
      'print(1)',
    ].join('\r\n');
    expect(readScriptMetadata(code)).toEqual({
      status: 'valid',
      metadata: { dependencies: ['httpx>=0.27', 'pkg[extra] @ https://example.com/pkg.whl'], requiresPython: undefined },
    });
  });

  it('treats a block without dependencies as "needs nothing"', () => {
    expect(readScriptMetadata('# /// script\n# requires-python = ">=3.9"\n# ///\nimport numpy\n')).toEqual({
      status: 'valid',
      metadata: { dependencies: [], requiresPython: '>=3.9' },
    });
  });

  it('ignores other block types and unclosed blocks', () => {
    expect(readScriptMetadata('# /// pyproject\n# x = 1\n# ///\n')).toEqual({ status: 'absent' });
    expect(readScriptMetadata('# /// script\n# dependencies = ["a"]\nimport a\n')).toEqual({ status: 'absent' });
    expect(readScriptMetadata('import requests\n')).toEqual({ status: 'absent' });
  });

  it('reports metadata it cannot use', () => {
    const invalid = [
      ['# /// script\n# dependencies = ["a",\n# ///\n', /does not parse/],
      ['# /// script\n# dependencies = "requests"\n# ///\n', /array of strings/],
      ['# /// script\n# dependencies = [1, 2]\n# ///\n', /array of strings/],
      ['# /// script\n# dependencies = [""]\n# ///\n', /empty string/],
      ['# /// script\n# requires-python = 3.11\n# ///\n', /must be a string/],
      ['# /// script\n# dependencies = []\n# dependencies = []\n# ///\n', /defined twice/],
      ['# /// script\n# dependencies = []\n# ///\n\n# /// script\n# dependencies = []\n# ///\n', /more than one/],
    ] as const;
    for (const [code, problem] of invalid) {
      const result = readScriptMetadata(code);
      expect(result.status, code).toBe('invalid');
      if (result.status === 'invalid') expect(result.problem).toMatch(problem);
    }
  });
});

describe('parseToml', () => {
  it('reads the value forms a script header may hold', () => {
    const text = [
      'title = "a \\"quoted\\" \\u00e9 word"',
      "path = 'C:\\no\\escapes'",
      'multi = """',
      'line one \\',
      '   still one',
      'two"""',
      "raw = '''",
      "keep \\n as is'''",
      'count = 1_000',
      'hex = 0xff',
      'ratio = -1.5e3',
      'yes = true',
      'when = 1979-05-27T07:32:00Z',
      'nested = [[1, 2], ["a", \'b\'], ]',
      'inline = { name = "x", version.major = 2 }',
      'a.b.c = "dotted"',
      '"quoted key" = 1',
      '[tool.uv]',
      'index-url = "https://example.com/simple" # trailing comment',
      '[[tool.items]]',
      'n = 1',
      '[[tool.items]]',
      'n = 2',
    ].join('\n');
    expect(parseToml(text)).toEqual({
      title: 'a "quoted" é word',
      path: 'C:\\no\\escapes',
      multi: 'line one still one\ntwo',
      raw: 'keep \\n as is',
      count: 1000,
      hex: 255,
      ratio: -1500,
      yes: true,
      when: '1979-05-27T07:32:00Z',
      nested: [
        [1, 2],
        ['a', 'b'],
      ],
      inline: { name: 'x', version: { major: 2 } },
      a: { b: { c: 'dotted' } },
      'quoted key': 1,
      tool: { uv: { 'index-url': 'https://example.com/simple' }, items: [{ n: 1 }, { n: 2 }] },
    });
  });

  it.each([
    ['key = "unterminated', /unterminated string/],
    ['key = ', /expected a value/],
    ['key "value"', /expected "="/],
    ['key = [1, 2', /expected "," or "\]"/],
    ['a = 1\na = 2', /defined twice/],
    ['[t]\n[t]', /defined twice/],
    ['key = nope', /not a TOML value/],
    ['key = "bad \\q escape"', /invalid escape/],
    ['key = "a" "b"', /end of the line/],
    ['key = 1 2', /not a TOML value/],
  ])('rejects %j', (text, message) => {
    expect(() => parseToml(text)).toThrow(TomlSyntaxError);
    expect(() => parseToml(text)).toThrow(message);
  });
});
