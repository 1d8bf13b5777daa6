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

  it('decodes a script by its PEP 263 coding cookie and rewrites the cookie to utf-8, on the same line', async () => {
    const directory = await temporaryDirectory();
    await writeFile(path.join(directory, 'latin.py'), Buffer.from('#!/usr/bin/env python3\n# -*- coding: latin-1 -*-\nprint("caf\xe9 \x80")\n', 'latin1'));
    const source = await readSource(await ioIn(directory), 'latin.py', 'a Python script', { python: true });
    expect(source.text).toBe('#!/usr/bin/env python3\n# -*- coding: utf-8 -*-\nprint("café \u0080")\n');
    // Not Python source (an instruction): the cookie means nothing, and latin-1 bytes are refused.
    await expect(readSource(await ioIn(directory), 'latin.py', 'an instruction')).rejects.toThrow(/not UTF-8/);
  });

  it('refuses a cookie it cannot decode with one clear line', async () => {
    const directory = await temporaryDirectory();
    await writeFile(path.join(directory, 'odd.py'), '# coding: no-such-codec\nprint(1)\n');
    await expect(readSource(await ioIn(directory), 'odd.py', 'a Python script', { python: true })).rejects.toThrow(/declares the encoding "no-such-codec"/);
  });
});
