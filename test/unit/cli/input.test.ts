import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { readSource } from '../../../src/cli/input.js';
import type { CliIo } from '../../../src/cli/io.js';

const directories: string[] = [];
afterEach(async () => {
  await Promise.all(directories.splice(0).map((directory) => rm(directory, { recursive: true, force: true })));
});

async function temporaryDirectory(): Promise<string> {
  const directory = await mkdtemp(path.join(tmpdir(), 'pycage-input-'));
  directories.push(directory);
  return directory;
}

async function ioIn(directory: string, stdinText?: string | Buffer): Promise<CliIo> {
  const stdin = new PassThrough();
  if (stdinText !== undefined) stdin.end(stdinText);
  return { stdin, stdout: new PassThrough(), stderr: new PassThrough(), env: {}, cwd: directory, onSignal: () => () => undefined };
}

describe('readSource', () => {
  it('reads a UTF-8 file and stdin', async () => {
    const directory = await temporaryDirectory();
    await writeFile(path.join(directory, 'a.py'), 'print("héllo")\n');
    const io = await ioIn(directory, 'print(1)\n');
    expect((await readSource(io, 'a.py', 'a script')).text).toBe('print("héllo")\n');
    expect(await readSource(io, '-', 'a script')).toMatchObject({ text: 'print(1)\n', label: 'stdin', path: undefined });
  });

  it.each([
    ['missing.py', undefined, /missing\.py: no such file/],
    ['latin1.py', Buffer.from([0x70, 0x72, 0x69, 0x6e, 0x74, 0x28, 0x22, 0xe9, 0x22, 0x29]), /latin1\.py is not UTF-8 text \(invalid byte at offset 7\)/],
    ['empty.py', '  \n\n', /empty\.py is empty/],
    ['folder', 'directory', /folder is a directory/],
  ])('refuses %s with a clear message', async (name, content, message) => {
    const directory = await temporaryDirectory();
    if (content === 'directory') await mkdir(path.join(directory, name));
    else if (content !== undefined) await writeFile(path.join(directory, name), content);
    const io = await ioIn(directory);
    await expect(readSource(io, name, 'a script')).rejects.toMatchObject({ name: 'UsageError', exitCode: 2, message: expect.stringMatching(message) });
  });
});
