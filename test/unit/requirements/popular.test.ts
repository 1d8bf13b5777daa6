// The shipped list of the most downloaded distributions on PyPI: ranks, normalization, its date.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { popularListMonth, popularRank } from '../../../src/requirements/index.js';

describe('popularRank', () => {
  it('gives the rank of a popular distribution, whatever the spelling', () => {
    expect(popularRank('boto3')).toBe(1);
    expect(popularRank('requests')).toBeGreaterThan(0);
    expect(popularRank('PyYAML')).toBe(popularRank('pyyaml'));
    expect(popularRank('typing_extensions')).toBe(popularRank('typing-extensions'));
    expect(popularRank('matrix-nio')).toBeGreaterThan(0);
  });

  it('knows nothing of names models invent (the issue\'s examples)', () => {
    for (const name of ['crispr', 'pdf_marker', 'pyfsm', 'huggingface_cli', 'nio']) expect(popularRank(name)).toBeUndefined();
  });

  it('records where the list came from and when', async () => {
    expect(popularListMonth).toMatch(/^\d{4}-\d{2}$/);
    const header = (await readFile(new URL('../../../src/requirements/data/popular-distributions.ts', import.meta.url), 'utf8')).slice(0, 800);
    expect(header).toContain('generate-popular.py');
    expect(header).toContain('pypi.tsv');
    expect(header).toContain('derived on 2026-11-30');
  });
});
