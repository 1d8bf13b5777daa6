// --file on a real temporary folder: what goes in, under which names, and what is refused.
import { mkdtemp, mkdir, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readUserFiles } from '../../../src/cli/user-files.js';
import { UsageError } from '../../../src/errors.js';

const directories: string[] = [];
afterEach(async () => {
  await Promise.all(directories.splice(0).map((directory) => rm(directory, { recursive: true, force: true })));
});

async function temporaryDirectory(): Promise<string> {
  const directory = await mkdtemp(path.join(tmpdir(), 'pycage-user-files-'));
  directories.push(directory);
  return directory;
}

const text = (content: Uint8Array | undefined): string | undefined => (content === undefined ? undefined : Buffer.from(content).toString('utf8'));

describe('readUserFiles', () => {
  it('puts a file under its base name and a folder under its own name, recursively', async () => {
    const cwd = await temporaryDirectory();
    await mkdir(path.join(cwd, 'data', 'nested'), { recursive: true });
    await writeFile(path.join(cwd, 'data', 'a.csv'), 'x,y\n');
    await writeFile(path.join(cwd, 'data', 'nested', 'b.txt'), 'deep\n');
    await writeFile(path.join(cwd, 'notes.md'), '# notes\n');
    const read = await readUserFiles({ paths: ['data', path.join(cwd, 'notes.md')], cwd });
    expect(Object.keys(read.files).sort()).toEqual(['data/a.csv', 'data/nested/b.txt', 'notes.md']);
    expect(text(read.files['data/nested/b.txt'])).toBe('deep\n');
    expect(read.skipped).toEqual([]);
  });

  it('never follows a symbolic link inside a folder, to a file or to a folder', async () => {
    const cwd = await temporaryDirectory();
    const secrets = await temporaryDirectory();
    await writeFile(path.join(secrets, 'id_rsa'), 'PRIVATE KEY');
    await mkdir(path.join(cwd, 'data'));
    await writeFile(path.join(cwd, 'data', 'real.txt'), 'real');
    await symlink(path.join(secrets, 'id_rsa'), path.join(cwd, 'data', 'key'));
    await symlink(secrets, path.join(cwd, 'data', 'ssh'));
    const read = await readUserFiles({ paths: ['data'], cwd });
    expect(Object.keys(read.files)).toEqual(['data/real.txt']);
    expect(read.skipped.sort()).toEqual(['data/key', 'data/ssh']);
    expect(Object.values(read.files).map(text)).not.toContain('PRIVATE KEY');
  });

  it('refuses more than the size cap with a UsageError naming the path, before reading a huge file', async () => {
    const cwd = await temporaryDirectory();
    await writeFile(path.join(cwd, 'small.txt'), 'a'.repeat(600));
    await writeFile(path.join(cwd, 'other.txt'), 'b'.repeat(600));
    await expect(readUserFiles({ paths: ['small.txt', 'other.txt'], cwd, maxBytes: 1000 })).rejects.toThrow(/--file other\.txt: the files come to more than/);
    const huge = path.join(cwd, 'huge.bin');
    await writeFile(huge, '');
    await truncate(huge, 2 ** 40); // sparse: a terabyte on paper
    await expect(readUserFiles({ paths: ['huge.bin'], cwd })).rejects.toThrow(/huge\.bin is larger than 100 MiB/);
  });

  it('refuses a missing path, the root and too many files with one clear line each', async () => {
    const cwd = await temporaryDirectory();
    await expect(readUserFiles({ paths: ['nope.csv'], cwd })).rejects.toThrow(/--file nope\.csv: no such file or folder/);
    await expect(readUserFiles({ paths: ['/'], cwd })).rejects.toThrow(UsageError);
    await mkdir(path.join(cwd, 'many'));
    for (const name of ['1', '2', '3']) await writeFile(path.join(cwd, 'many', name), name);
    await expect(readUserFiles({ paths: ['many'], cwd, maxFiles: 2 })).rejects.toThrow(/more than 2 files/);
  });

  it('adds to files already given (the session\'s /file), counting them against the cap', async () => {
    const cwd = await temporaryDirectory();
    await writeFile(path.join(cwd, 'second.txt'), 'two');
    const read = await readUserFiles({ paths: ['second.txt'], cwd, existing: { 'first.txt': Buffer.from('one') } });
    expect(Object.keys(read.files).sort()).toEqual(['first.txt', 'second.txt']);
    await expect(readUserFiles({ paths: ['second.txt'], cwd, existing: { 'first.txt': Buffer.alloc(10) }, maxBytes: 12 })).rejects.toThrow(/more than/);
  });
});
