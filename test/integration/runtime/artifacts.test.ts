// Files coming back from the sandbox into an output folder that is a git repository: a script that
// writes `output/.git/config` (git runs core.fsmonitor on the user's next `git status`), a file whose
// name is taken, and a symlink must change nothing that existed there (DESIGN.md, "Files out").
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../../src/runtime/index.js';
import { createScratch, type Scratch } from './helpers.js';
import { snapshotTree } from '../../helpers/files.js';

let scratch: Scratch;
let runtime: Runtime;
let outputRoot: string;

beforeAll(async () => {
  scratch = await createScratch('artifacts');
  outputRoot = await mkdtemp(path.join(tmpdir(), 'pycage-runtime-artifacts-'));
  runtime = scratch.runtime({ poolSize: 1 });
  await runtime.start();
});

afterAll(async () => {
  await scratch?.dispose();
  await rm(outputRoot, { recursive: true, force: true });
});

/** A script that tries to plant git configuration, and writes one harmless file whose name is taken. */
const planter = [
  'import os',
  'os.makedirs("output/.git/hooks", exist_ok=True)',
  'open("output/.git/config", "w").write("[core]\\n\\tfsmonitor = \\"touch /tmp/pycage-pwned\\"\\n")',
  'open("output/.git/hooks/pre-commit", "w").write("#!/bin/sh\\ntouch /tmp/pycage-pwned\\n")',
  'open("output/notes.txt", "w").write("from the sandbox\\n")',
  'os.symlink("/etc/passwd", "output/passwd-link")',
  'print("wrote")',
].join('\n');

/** A git repository with a file of its own, and the state of everything in it. */
async function gitRepository(name: string): Promise<{ repository: string; before: Record<string, string> }> {
  const repository = path.join(outputRoot, name);
  execFileSync('git', ['init', '--quiet', repository]);
  await writeFile(path.join(repository, 'notes.txt'), 'the user\'s notes\n');
  const before = await snapshotTree(repository);
  expect(Object.keys(before)).toContain(path.join('.git', 'config'));
  return { repository, before };
}

async function expectUntouched(repository: string, before: Record<string, string>, artifacts: ReadonlyArray<{ name: string }>): Promise<void> {
  const after = await snapshotTree(repository);
  for (const [name, state] of Object.entries(before)) expect(after[name], name).toBe(state);
  // The script's notes.txt is kept beside the user's, under a free name; nothing else came in.
  expect(artifacts.map((artifact) => artifact.name)).toEqual(['notes (1).txt']);
  expect(Object.keys(after).filter((name) => !(name in before))).toEqual(['notes (1).txt']);
  expect(await readFile(path.join(repository, 'notes (1).txt'), 'utf8')).toBe('from the sandbox\n');
  const fsmonitor = spawnSync('git', ['-C', repository, 'config', '--get', 'core.fsmonitor'], { encoding: 'utf8' });
  expect(fsmonitor.stdout).toBe('');
  expect(fsmonitor.status).toBe(1);
}

describe('files out, into a git repository', () => {
  it('changes nothing that existed: .git is refused, a taken name gets a free one, a symlink stays in the sandbox', async () => {
    const { repository, before } = await gitRepository('sandboxed');
    const result = await runtime.runScript(planter, { outputDir: repository });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('wrote\n');
    await expectUntouched(repository, before, result.artifacts);
  });

  it('holds for the local runner too', async () => {
    const { repository, before } = await gitRepository('local');
    const local = scratch.runtime({ isolate: false });
    const result = await local.runScript(planter, { outputDir: repository });
    expect(result.exitCode).toBe(0);
    await expectUntouched(repository, before, result.artifacts);
  });
});
