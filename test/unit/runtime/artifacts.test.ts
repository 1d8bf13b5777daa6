import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSafeArtifactName, readOutputDirectory, selectArtifacts, writeArtifacts } from '../../../src/runtime/artifacts.js';
import { createTar, parseTar, type TarEntry } from '../../../src/runtime/tar.js';

let directory: string;

beforeEach(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'pycage-unit-artifacts-'));
});

afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

const entry = (name: string, type = '0', data = 'x'): TarEntry => ({ name, type, data: Buffer.from(data), mode: 0o644 });

describe('tar', () => {
  it('reads back what it writes', () => {
    const archive = createTar([
      { name: 'Dockerfile', data: Buffer.from('FROM scratch\n') },
      { name: 'dir/file.bin', data: Buffer.alloc(700, 7) },
    ]);
    expect(archive.length % 512).toBe(0);
    const entries = parseTar(archive);
    expect(entries.map((item) => [item.name, item.type, item.data.length])).toEqual([
      ['Dockerfile', '0', 13],
      ['dir/file.bin', '0', 700],
    ]);
    expect(entries[1]!.data.every((byte) => byte === 7)).toBe(true);
  });

  it('reads PAX long names and GNU long names', () => {
    const long = `${'deep/'.repeat(30)}file.txt`;
    const pax = createTar([{ name: 'PaxHeader', data: Buffer.from(paxRecord('path', long)) }]);
    // Rewrite the first header's type flag to 'x' (a PAX extended header) and append the real entry.
    pax[156] = 'x'.charCodeAt(0);
    fixChecksum(pax);
    const body = createTar([{ name: 'short-name', data: Buffer.from('content') }]);
    const archive = Buffer.concat([pax.subarray(0, pax.length - 1024), body]);
    const entries = parseTar(archive);
    expect(entries).toHaveLength(1);
    expect(entries[0]!.name).toBe(long);
    expect(entries[0]!.data.toString()).toBe('content');

    const gnu = createTar([{ name: '././@LongLink', data: Buffer.from(`${long}\0`) }]);
    gnu[156] = 'L'.charCodeAt(0);
    fixChecksum(gnu);
    const gnuEntries = parseTar(Buffer.concat([gnu.subarray(0, gnu.length - 1024), body]));
    expect(gnuEntries[0]!.name).toBe(long);
  });

  it('refuses what is not a tar', () => {
    expect(() => parseTar(Buffer.alloc(512, 65))).toThrow(/ustar/);
    const truncated = createTar([{ name: 'a', data: Buffer.alloc(2000) }]).subarray(0, 1024);
    expect(() => parseTar(truncated)).toThrow(/ends inside/);
  });
});

/** `<length> <key>=<value>\n`, where the length counts its own digits. */
function paxRecord(key: string, value: string): string {
  const rest = ` ${key}=${value}\n`;
  let length = rest.length + String(rest.length).length;
  if (String(length).length > String(rest.length).length) length += 1;
  return `${length}${rest}`;
}

function fixChecksum(archive: Buffer): void {
  archive.write('        ', 148, 'ascii');
  let sum = 0;
  for (const byte of archive.subarray(0, 512)) sum += byte;
  archive.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
}

describe('selectArtifacts', () => {
  it('keeps regular files with safe names and reports the rest', () => {
    const { files, skipped } = selectArtifacts([
      entry('plot.png'),
      entry('./nested/data.csv'),
      entry('nested', '5'),
      entry('../escape.txt'),
      entry('/etc/passwd'),
      entry('a/../../b'),
      entry('link', '2'),
      entry('back\\slash'),
    ]);
    expect(files.map((file) => file.name)).toEqual(['plot.png', 'nested/data.csv']);
    expect(skipped).toEqual(['../escape.txt', '/etc/passwd', 'a/../../b', 'link', 'back\\slash']);
  });

  it('stops at the size and count caps', () => {
    const entries = [entry('a', '0', '12345'), entry('b', '0', '12345'), entry('c', '0', '1')];
    expect(selectArtifacts(entries, { maxBytes: 6, maxFiles: 10 }).files.map((file) => file.name)).toEqual(['a', 'c']);
    expect(selectArtifacts(entries, { maxBytes: 100, maxFiles: 2 }).skipped).toEqual(['c']);
  });

  it('names safe paths', () => {
    expect(isSafeArtifactName('a/b.txt')).toBe(true);
    for (const name of ['', '/a', 'a//b', './a', 'a/..', 'a\0b']) expect(isSafeArtifactName(name)).toBe(false);
  });
});

describe('writeArtifacts', () => {
  it('writes files under the output dir, sorted by name', async () => {
    const outputDir = path.join(directory, 'out');
    const artifacts = await writeArtifacts(outputDir, [
      { name: 'z.txt', data: Buffer.from('z') },
      { name: 'sub/a.txt', data: Buffer.from('aa') },
    ]);
    expect(artifacts).toEqual([
      { name: 'sub/a.txt', path: path.join(outputDir, 'sub', 'a.txt'), sizeBytes: 2 },
      { name: 'z.txt', path: path.join(outputDir, 'z.txt'), sizeBytes: 1 },
    ]);
    expect(await readFile(path.join(outputDir, 'sub', 'a.txt'), 'utf8')).toBe('aa');
  });

  it('never follows a symlink that is already in the output dir', async () => {
    const outputDir = path.join(directory, 'out');
    const outside = path.join(directory, 'outside');
    await mkdir(outputDir);
    await mkdir(outside);
    await writeFile(path.join(outside, 'victim.txt'), 'original');
    await symlink(outside, path.join(outputDir, 'linked-dir'));
    await symlink(path.join(outside, 'victim.txt'), path.join(outputDir, 'victim.txt'));
    const artifacts = await writeArtifacts(outputDir, [
      { name: 'linked-dir/planted.txt', data: Buffer.from('planted') },
      { name: 'victim.txt', data: Buffer.from('overwritten') },
      { name: 'fine.txt', data: Buffer.from('ok') },
    ]);
    expect(artifacts.map((artifact) => artifact.name)).toEqual(['fine.txt']);
    expect(await readdir(outside)).toEqual(['victim.txt']);
    expect(await readFile(path.join(outside, 'victim.txt'), 'utf8')).toBe('original');
  });
});

describe('readOutputDirectory', () => {
  it('reads regular files recursively and skips symlinks', async () => {
    await mkdir(path.join(directory, 'nested'));
    await writeFile(path.join(directory, 'a.txt'), 'a');
    await writeFile(path.join(directory, 'nested', 'b.txt'), 'bb');
    await symlink('/etc/hostname', path.join(directory, 'link.txt'));
    const files = await readOutputDirectory(directory);
    expect(files.map((file) => [file.name, file.data.toString()])).toEqual([
      ['a.txt', 'a'],
      ['nested/b.txt', 'bb'],
    ]);
    expect(await readOutputDirectory(path.join(directory, 'missing'))).toEqual([]);
  });
});
