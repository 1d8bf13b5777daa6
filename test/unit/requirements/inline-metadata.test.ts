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

/** PEP 723's own reference expression, as an oracle for the line scanner (quadratic, so fed small inputs only). */
function referenceScriptBlocks(code: string): string[] {
  const pattern = /^# \/\/\/ (?<type>[a-zA-Z0-9-]+)$\n(?<content>(?:^#(?:| .*)$\n)+)^# \/\/\/$/gm;
  return [...`${code.replace(/\r\n?/g, '\n')}\n`.matchAll(pattern)].filter((match) => match.groups?.type === 'script').map((match) => match.groups?.content ?? '');
}

/** A small deterministic generator, so a failure can be replayed. */
function randomLines(seed: number, count: number): string {
  const kinds = ['# /// script', '# /// other', '# ///', '#', '# dependencies = ["a"]', '# x = 1', 'print(1)', '', '#no-space', '# ///  ', '#  /// script', '# \u2028 x'];
  let state = seed;
  const lines: string[] = [];
  for (let index = 0; index < count; index += 1) {
    state = (state * 1103515245 + 12345) % 2147483648;
    lines.push(kinds[state % kinds.length]!);
  }
  return lines.join(state % 2 === 0 ? '\n' : '\r\n') + (state % 3 === 0 ? '\n' : '');
}

describe('readScriptMetadata on hostile input', () => {
  it('finds the same blocks as PEP 723\'s expression', () => {
    for (let seed = 1; seed <= 3000; seed += 1) {
      const code = randomLines(seed, 1 + (seed % 14));
      const expected = referenceScriptBlocks(code);
      const result = readScriptMetadata(code);
      if (expected.length === 0) expect(result, JSON.stringify(code)).toEqual({ status: 'absent' });
      else if (expected.length > 1) expect(result, JSON.stringify(code)).toEqual({ status: 'invalid', problem: 'the script has more than one "# /// script" block' });
      // One block: reading its content alone, as the only block, must give the same answer.
      else expect(result, JSON.stringify(code)).toEqual(readScriptMetadata(`# /// script\n${expected[0]}# ///\n`));
    }
  });

  // 520 KB of comment lines with block openers that never close: the expression PEP 723 gives tries
  // every opener against the rest of the run. No timed assertion: the test timeout is the guard.
  it('reads a 520 KB adversarial script in linear time', { timeout: 10_000 }, () => {
    const nearMisses = '# /// script\n#\n# ///x\n# dependencies = ["a"]\n';
    const run = nearMisses.repeat(Math.ceil((520 * 1024) / nearMisses.length));
    expect(run.length).toBeGreaterThanOrEqual(520 * 1024);
    expect(readScriptMetadata(run)).toEqual({ status: 'absent' });
    // The same run, closed at the very end: one block, opened by the first opener, holding the rest.
    const closed = readScriptMetadata(`${run}# ///\nimport a\n`);
    expect(closed.status).toBe('invalid');
    // After it, a real block in a run of its own is still found.
    const real = '# /// script\n# dependencies = ["requests"]\n# ///\n';
    expect(readScriptMetadata(`${run}print(1)\n${real}`)).toEqual({ status: 'valid', metadata: { dependencies: ['requests'], requiresPython: undefined } });
    expect(readScriptMetadata(`${'#\n'.repeat(260 * 1024)}${real}`)).toEqual({ status: 'valid', metadata: { dependencies: ['requests'], requiresPython: undefined } });
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
