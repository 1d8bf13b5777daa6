// `pycage --help` must stay fast, so the generator and extract stages may not import groq-sdk, openai
// or zod when they load: only `import type`, or `await import()` / require inside the function that
// needs them. This reads the sources and checks every static import.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('../../../src/', import.meta.url).pathname;
const heavy = ['groq-sdk', 'openai', 'zod'];

async function sources(folder: string): Promise<string[]> {
  const names = await readdir(join(root, folder));
  return names.filter((name) => name.endsWith('.ts')).map((name) => join(root, folder, name));
}

describe('heavy modules load lazily', () => {
  it.each(['generator', 'extract'])('src/%s imports no SDK and no zod at the top level', async (folder) => {
    const files = await sources(folder);
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const text = await readFile(file, 'utf8');
      const staticImports = [...text.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?from\s+'([^']+)'/gm)].map((match) => match[1]);
      for (const specifier of staticImports) expect(heavy, `${file} imports ${specifier}`).not.toContain(specifier);
    }
  });
});
