// The stage borders DESIGN.md draws, read from the sources: a stage (generator, extract, requirements,
// runtime, agent, cli) reaches another only through that stage's index.ts, and nothing outside the CLI
// writes to the console (the library reports through its logger and events).
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const sourceRoot = path.resolve(import.meta.dirname, '../../src');
const stages = ['generator', 'extract', 'requirements', 'runtime', 'agent', 'cli'];

async function sourceFiles(): Promise<string[]> {
  const entries = await readdir(sourceRoot, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile() && entry.name.endsWith('.ts')).map((entry) => path.join(entry.parentPath, entry.name));
}

const stageOf = (file: string): string | undefined => {
  const first = path.relative(sourceRoot, file).split(path.sep)[0];
  return first !== undefined && stages.includes(first) ? first : undefined;
};

/** Source text less block comments and whole-line `//` comments. */
const withoutComments = (text: string): string => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');

describe('stage borders', () => {
  it('imports another stage only through its index.ts', async () => {
    const crossings: string[] = [];
    for (const file of await sourceFiles()) {
      const text = await readFile(file, 'utf8');
      for (const match of text.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s+'(\.[^']+)'/gm)) {
        const target = path.resolve(path.dirname(file), match[1]!);
        const targetStage = stageOf(target);
        if (targetStage === undefined || targetStage === stageOf(file)) continue;
        if (target !== path.join(sourceRoot, targetStage, 'index.js')) crossings.push(`${path.relative(sourceRoot, file)} -> ${match[1]}`);
      }
    }
    expect(crossings).toEqual([]);
  });

  it('writes to the console only in the CLI', async () => {
    const printing: string[] = [];
    for (const file of await sourceFiles()) {
      if (stageOf(file) === 'cli') continue;
      // Comments may name the console (`console.log` in an example); code may not.
      const text = withoutComments(await readFile(file, 'utf8'));
      for (const match of text.matchAll(/(?<![\w./])(?:console\.\w+|process\.(?:stdout|stderr)\.write|process\.emitWarning)\b/g)) printing.push(`${path.relative(sourceRoot, file)}: ${match[0]}`);
    }
    expect(printing).toEqual([]);
  });
});
