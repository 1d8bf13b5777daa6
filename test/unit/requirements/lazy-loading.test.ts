// Importing the requirements stage must not load the parser: `pycage --help` reaches this module.
// web-tree-sitter may only be imported as a type or with `await import()` inside the function that
// parses. This reads every source file of the stage and checks its static imports.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const folder = new URL('../../../src/requirements/', import.meta.url).pathname;
const heavy = ['web-tree-sitter', 'tree-sitter-python'];

describe('the requirements stage loads its parser lazily', () => {
  it('has no static import of web-tree-sitter or the grammar', async () => {
    const entries = await readdir(folder, { recursive: true });
    const files = entries.filter((entry) => entry.endsWith('.ts')).map((entry) => path.join(folder, entry));
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      const text = await readFile(file, 'utf8');
      const staticImports = [...text.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?from\s+'([^']+)'/gm)].map((match) => match[1]);
      for (const specifier of staticImports) expect(heavy, `${file} imports ${specifier}`).not.toContain(specifier);
    }
  });

  it('loads it on the first parse', async () => {
    const source = await readFile(path.join(folder, 'python-parser.ts'), 'utf8');
    expect(source).toContain("await import('web-tree-sitter')");
  });
});
