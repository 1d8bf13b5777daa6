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
      ['# /// script\n# dependencies = ["a",\n# ///\n', /does not parse: .* \(line 2\)$/],
      ['# /// script\n# dependencies = "requests"\n# ///\n', /array of strings/],
      ['# /// script\n# dependencies = [1, 2]\n# ///\n', /array of strings/],
      ['# /// script\n# dependencies = [""]\n# ///\n', /empty string/],
      ['# /// script\n# requires-python = 3.11\n# ///\n', /must be a string/],
      ['# /// script\n# dependencies = []\n# dependencies = []\n# ///\n', /does not parse: trying to redefine an already defined table or value \(line 2\)$/],
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
      when: new Date('1979-05-27T07:32:00Z'),
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

  // The wording of what is wrong is smol-toml's; the class, the one-line shape and the line are pycage's.
  it.each([
    ['key = "unterminated', /^unfinished string \(line 1\)$/, 1],
    ['key = ', /^invalid value \(line 1\)$/, 1],
    ['key "value"', /^illegal character in key \(line 1\)$/, 1],
    ['key = [1, 2', /^expected comma or end of structure \(line 1\)$/, 1],
    ['a = 1\na = 2', /^trying to redefine an already defined table or value \(line 2\)$/, 2],
    ['[t]\n[t]', /^trying to redefine an already defined table or value \(line 2\)$/, 2],
    ['key = nope', /^invalid value \(line 1\)$/, 1],
    ['key = "bad \\q escape"', /^unrecognised escape sequence \(line 1\)$/, 1],
    ['key = "a" "b"', /^each key-value declaration must be followed by an end-of-line \(line 1\)$/, 1],
    ['key = 1 2', /^each key-value declaration must be followed by an end-of-line \(line 1\)$/, 1],
  ] as const)('rejects %j', (text, message, line) => {
    expect(() => parseToml(text)).toThrow(TomlSyntaxError);
    expect(() => parseToml(text)).toThrow(message);
    expect(() => parseToml(text)).toThrow(expect.objectContaining({ line }));
  });
});

/** The TOML body of a `# /// script` block holding `lines`, as a script carries it. */
function scriptBlock(...lines: string[]): string {
  return ['# /// script', ...lines.map((line) => (line === '' ? '#' : `# ${line}`)), '# ///', 'print(1)', ''].join('\n');
}

describe('the TOML of PEP 723 blocks, at its edges', () => {
  it('reads dependencies as PEP 508 strings: markers in single quotes, extras, a "#" that is not a comment', () => {
    const code = scriptBlock(
      'dependencies = [',
      '  # a comment line between items',
      `  "tomli>=1.1; python_version < '3.11'",  # a comment after one`,
      '',
      '  "rich[jupyter]>=13,<15",',
      "  'pkg @ https://example.com/pkg-1.0-py3-none-any.whl#sha256=abc123',",
      '  """requests""",',
      ']',
    );
    expect(readScriptMetadata(code)).toEqual({
      status: 'valid',
      metadata: {
        dependencies: ["tomli>=1.1; python_version < '3.11'", 'rich[jupyter]>=13,<15', 'pkg @ https://example.com/pkg-1.0-py3-none-any.whl#sha256=abc123', 'requests'],
        requiresPython: undefined,
      },
    });
  });

  it('reads the same document with CRLF line ends, as parseToml and as a script', () => {
    const text = 'requires-python = ">=3.10"\r\ndependencies = [\r\n  "a",\r\n]\r\n';
    expect(parseToml(text)).toEqual({ 'requires-python': '>=3.10', dependencies: ['a'] });
    expect(readScriptMetadata(scriptBlock('requires-python = ">=3.10"', 'dependencies = [', '  "a",', ']').replaceAll('\n', '\r\n'))).toEqual({
      status: 'valid',
      metadata: { dependencies: ['a'], requiresPython: '>=3.10' },
    });
  });

  it('takes only the top-level keys: the same names inside [tool] tables do not count', () => {
    const code = scriptBlock('dependencies = ["a"]', '', '[tool.uv]', 'dependencies = ["b"]', 'requires-python = 3', '[tool.other.deep]', 'x = 1');
    expect(readScriptMetadata(code)).toEqual({ status: 'valid', metadata: { dependencies: ['a'], requiresPython: undefined } });
  });

  it('treats a quoted key as the bare key it spells, so writing both is a duplicate', () => {
    expect(parseToml('"dependencies" = ["a"]')).toEqual({ dependencies: ['a'] });
    const result = readScriptMetadata(scriptBlock('dependencies = ["a"]', '"dependencies" = ["b"]'));
    expect(result).toEqual({ status: 'invalid', problem: 'its TOML does not parse: trying to redefine an already defined table or value (line 2)' });
  });

  it('refuses values that only look right: a table, a date, a number, a mixed array', () => {
    const cases = [
      [scriptBlock('dependencies.requests = "*"'), '"dependencies" must be an array of strings'],
      [scriptBlock('[dependencies]', 'requests = "*"'), '"dependencies" must be an array of strings'],
      [scriptBlock('dependencies = ["a", 1]'), '"dependencies" must be an array of strings'],
      [scriptBlock('dependencies = [["a"]]'), '"dependencies" must be an array of strings'],
      // A bare date is a TOML date, not the text "2024-01-01": it is no version specifier.
      [scriptBlock('requires-python = 2024-01-01'), '"requires-python" must be a string'],
      [scriptBlock('requires-python = 3.11'), '"requires-python" must be a string'],
    ] as const;
    for (const [code, problem] of cases) expect(readScriptMetadata(code), code).toEqual({ status: 'invalid', problem });
  });

  it('reports the line of the TOML body where reading stopped', () => {
    const cases = [
      [scriptBlock('dependencies = [', '  "a"', '  "b",', ']'), 'expected comma or end of structure (line 3)'],
      [scriptBlock('requires-python = ">=3.11', 'dependencies = []'), 'control characters are not allowed in strings (line 1)'],
      [scriptBlock('dependencies = []', '', '', 'requests'), 'illegal character in key (line 4)'],
      [scriptBlock('dependencies = ["a"]', '[tool]', '[tool]'), 'trying to redefine an already defined table or value (line 3)'],
    ] as const;
    for (const [code, problem] of cases) expect(readScriptMetadata(code), code).toEqual({ status: 'invalid', problem: `its TOML does not parse: ${problem}` });
  });

  it('refuses an integer it cannot hold exactly instead of rounding it', () => {
    expect(() => parseToml('n = 9007199254740993')).toThrow(TomlSyntaxError);
    expect(parseToml('n = 9007199254740991')).toEqual({ n: 9007199254740991 });
  });

  it('keeps "__proto__" and "constructor" keys as plain keys, away from the dependencies', () => {
    const code = scriptBlock('[__proto__]', 'dependencies = ["evil"]', '[constructor]', 'prototype = 1');
    expect(readScriptMetadata(code)).toEqual({ status: 'valid', metadata: { dependencies: [], requiresPython: undefined } });
    const document = parseToml('__proto__ = { polluted = true }');
    expect(Object.keys(document)).toEqual(['__proto__']);
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('reads every string form a requirement may be written in', () => {
    expect(parseToml(["a = 'C:\\wheels\\a.whl'", 'b = "caf\\u00e9 \\"x\\""', "c = '''", "multi'''", 'd = """\\', '   joined"""', 'e = ""', "f = ''"].join('\n'))).toEqual({
      a: 'C:\\wheels\\a.whl',
      b: 'café "x"',
      c: 'multi',
      d: 'joined',
      e: '',
      f: '',
    });
  });

  // A block of 520 KB of dependencies (a run of lines as the scanner test uses): parsing must stay linear
  // too. No timed assertion: the test timeout is the guard.
  it('reads a 520 KB block', { timeout: 10_000 }, () => {
    const names = Array.from({ length: 26_000 }, (_, index) => `"package-${index}>=1.0",`);
    const code = scriptBlock('dependencies = [', ...names, ']');
    expect(code.length).toBeGreaterThanOrEqual(520 * 1024);
    const result = readScriptMetadata(code);
    expect(result.status).toBe('valid');
    if (result.status === 'valid') expect(result.metadata.dependencies).toHaveLength(26_000);
  });
});
