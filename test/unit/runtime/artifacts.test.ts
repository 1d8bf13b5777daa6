import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import {
  type ArchiveEntry,
  checkOutputDirectory,
  displayName,
  isSafeArtifactName,
  numberedName,
  readArchiveEntries,
  readArtifactArchive,
  readOutputDirectory,
  selectArtifacts,
  writeArtifacts,
} from '../../../src/runtime/artifacts.js';
import { buildContext } from '../../../src/runtime/docker/image.js';
import { snapshotTree } from '../../helpers/files.js';

let directory: string;

beforeEach(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'pycage-unit-artifacts-'));
});

afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

const entry = (name: string, type: ArchiveEntry['type'] = 'file', data = 'x'): ArchiveEntry => ({ name, type, data: Buffer.from(data) });

// The writer is the default image's build context (docker/image.ts), the reader the collector's
// (artifacts.ts); both are tar-stream underneath.
describe('tar', () => {
  it('reads back what it writes', async () => {
    const archive = await buildContext([
      { name: 'Dockerfile', data: Buffer.from('FROM scratch\n') },
      { name: 'dir/file.bin', data: Buffer.alloc(700, 7) },
    ]);
    expect(archive.length % 512).toBe(0);
    const entries = await readArchiveEntries(archive);
    expect(entries.map((item) => [item.name, item.type, item.data.length])).toEqual([
      ['Dockerfile', 'file', 13],
      ['dir/file.bin', 'file', 700],
    ]);
    expect(entries[1]!.data.every((byte) => byte === 7)).toBe(true);
  });

  it('reads PAX long names and GNU long names', async () => {
    const long = `${'deep/'.repeat(30)}file.txt`;
    const pax = await buildContext([{ name: 'PaxHeader', data: Buffer.from(paxRecord('path', long)) }]);
    // Rewrite the first header's type flag to 'x' (a PAX extended header) and append the real entry.
    pax[156] = 'x'.charCodeAt(0);
    fixChecksum(pax);
    const body = await buildContext([{ name: 'short-name', data: Buffer.from('content') }]);
    const archive = Buffer.concat([pax.subarray(0, pax.length - 1024), body]);
    const entries = await readArchiveEntries(archive);
    expect(entries).toHaveLength(1);
    expect(entries[0]!.name).toBe(long);
    expect(entries[0]!.data.toString()).toBe('content');

    const gnu = await buildContext([{ name: '././@LongLink', data: Buffer.from(`${long}\0`) }]);
    gnu[156] = 'L'.charCodeAt(0);
    fixChecksum(gnu);
    const gnuEntries = await readArchiveEntries(Buffer.concat([gnu.subarray(0, gnu.length - 1024), body]));
    expect(gnuEntries[0]!.name).toBe(long);
  });

  it('refuses what is not a tar', async () => {
    // The words are tar-stream's: a header that fails its checksum, and an archive cut inside an entry.
    await expect(readArchiveEntries(Buffer.alloc(512, 65))).rejects.toThrow(/Invalid tar header/);
    const truncated = (await buildContext([{ name: 'a', data: Buffer.alloc(2000) }])).subarray(0, 1024);
    await expect(readArchiveEntries(truncated)).rejects.toThrow(/Unexpected end of data/);
  });
});

/** `<length> <key>=<value>\n`, where the length counts its own digits. */
function paxRecord(key: string, value: string): string {
  const rest = ` ${key}=${value}\n`;
  let length = rest.length + String(rest.length).length;
  if (String(length).length > String(rest.length).length) length += 1;
  return `${length}${rest}`;
}

/** Recomputes the checksum of the header at `offset` after a test rewrote some of its bytes. */
function fixChecksum(archive: Buffer, offset = 0): void {
  archive.write('        ', offset + 148, 'ascii');
  let sum = 0;
  for (const byte of archive.subarray(offset, offset + 512)) sum += byte;
  archive.write(`${sum.toString(8).padStart(6, '0')}\0 `, offset + 148, 'ascii');
}

describe('selectArtifacts', () => {
  it('keeps regular files with safe names and reports the rest', () => {
    const { files, refused } = selectArtifacts([
      entry('plot.png'),
      entry('./nested/data.csv'),
      entry('nested', 'directory'),
      entry('../escape.txt'),
      entry('/etc/passwd'),
      entry('a/../../b'),
      entry('link', 'symlink'),
      entry('back\\slash'),
    ]);
    expect(files.map((file) => file.name)).toEqual(['plot.png', 'nested/data.csv']);
    expect(refused.map((item) => item.name)).toEqual(['../escape.txt', '/etc/passwd', 'a/../../b', 'link', 'back\\slash']);
    expect(refused.map((item) => item.reason)).toEqual(['leaves the output folder', 'absolute path', 'leaves the output folder', 'symlink', 'backslash in name']);
  });

  it('stops at the size and count caps', () => {
    const entries = [entry('a', 'file', '12345'), entry('b', 'file', '12345'), entry('c', 'file', '1')];
    expect(selectArtifacts(entries, { maxBytes: 6, maxFiles: 10 }).files.map((file) => file.name)).toEqual(['a', 'c']);
    expect(selectArtifacts(entries, { maxBytes: 100, maxFiles: 2 }).refused).toEqual([{ name: 'c', reason: 'over the file count cap' }]);
    expect(selectArtifacts(entries, { maxBytes: 6, maxFiles: 10 }).refused).toEqual([{ name: 'b', reason: 'over the size cap' }]);
  });

  it('names safe paths', () => {
    expect(isSafeArtifactName('a/b.txt')).toBe(true);
    for (const name of ['', '/a', 'a//b', './a', 'a/..', 'a\0b']) expect(isSafeArtifactName(name)).toBe(false);
  });
});

describe('writeArtifacts', () => {
  it('writes files under the output dir, sorted by name', async () => {
    const outputDir = path.join(directory, 'out');
    const { artifacts } = await writeArtifacts(outputDir, [
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
    const { artifacts, refused } = await writeArtifacts(outputDir, [
      { name: 'linked-dir/planted.txt', data: Buffer.from('planted') },
      { name: 'victim.txt', data: Buffer.from('overwritten') },
      { name: 'fine.txt', data: Buffer.from('ok') },
    ]);
    // The symlink named victim.txt is left as it is: the new file takes a free name beside it.
    expect(artifacts.map((artifact) => artifact.name)).toEqual(['fine.txt', 'victim (1).txt']);
    expect(refused).toEqual([{ name: 'linked-dir/planted.txt', reason: 'symlink on the way' }]);
    expect(await readdir(outside)).toEqual(['victim.txt']);
    expect(await readFile(path.join(outside, 'victim.txt'), 'utf8')).toBe('original');
  });
});

describe('writeArtifacts against hostile names', () => {
  it('changes nothing that existed in an output folder that is a git repository, and lists each refusal', async () => {
    const repository = path.join(directory, 'repository');
    await mkdir(repository);
    execFileSync('git', ['init', '--quiet', repository]);
    await writeFile(path.join(repository, 'result.txt'), 'the user\'s own result');
    const before = await snapshotTree(repository);
    const parentBefore = await readdir(directory);
    expect(Object.keys(before)).toContain(path.join('.git', 'config'));

    const forged = ['.git/config', '.git/hooks/pre-commit', '../x', 'a/../../x', '/etc/x', 'result.txt', 'a/.bashrc', '.env'];
    const payload = Buffer.from('[core]\n\tfsmonitor = "touch /tmp/pwned"\n');
    const { artifacts, refused } = await writeArtifacts(
      repository,
      forged.map((name) => ({ name, data: payload })),
    );

    const after = await snapshotTree(repository);
    for (const [name, state] of Object.entries(before)) expect(after[name], name).toBe(state);
    expect(refused).toEqual([
      { name: '.git/config', reason: 'dot-name' },
      { name: '.git/hooks/pre-commit', reason: 'dot-name' },
      { name: '../x', reason: 'leaves the output folder' },
      { name: 'a/../../x', reason: 'leaves the output folder' },
      { name: '/etc/x', reason: 'absolute path' },
      { name: 'a/.bashrc', reason: 'dot-name' },
      { name: '.env', reason: 'dot-name' },
    ]);
    // The one acceptable file is kept, beside the user's own, which is untouched.
    expect(artifacts).toEqual([{ name: 'result (1).txt', path: path.join(repository, 'result (1).txt'), sizeBytes: payload.length, requestedName: 'result.txt' }]);
    expect(Object.keys(after).filter((name) => !(name in before))).toEqual(['result (1).txt']);
    expect(await readdir(directory)).toEqual(parentBefore);
  });

  it('keeps an existing file and gives the new one the first free name', async () => {
    const outputDir = path.join(directory, 'out');
    await mkdir(outputDir);
    await writeFile(path.join(outputDir, 'plot.png'), 'old plot');
    await writeFile(path.join(outputDir, 'data.tar.gz'), 'old archive');
    const first = await writeArtifacts(outputDir, [
      { name: 'plot.png', data: Buffer.from('new plot') },
      { name: 'data.tar.gz', data: Buffer.from('new archive') },
    ]);
    expect(first.artifacts.map((artifact) => [artifact.requestedName, artifact.name])).toEqual([
      ['data.tar.gz', 'data (1).tar.gz'],
      ['plot.png', 'plot (1).png'],
    ]);
    const second = await writeArtifacts(outputDir, [{ name: 'plot.png', data: Buffer.from('newer plot') }]);
    expect(second.artifacts.map((artifact) => artifact.name)).toEqual(['plot (2).png']);
    expect(await readFile(path.join(outputDir, 'plot.png'), 'utf8')).toBe('old plot');
    expect(await readFile(path.join(outputDir, 'plot (1).png'), 'utf8')).toBe('new plot');
    expect(await readFile(path.join(outputDir, 'plot (2).png'), 'utf8')).toBe('newer plot');
    expect(await readFile(path.join(outputDir, 'data.tar.gz'), 'utf8')).toBe('old archive');
    expect(await readFile(path.join(outputDir, 'data (1).tar.gz'), 'utf8')).toBe('new archive');
  });

  it('numbers names before the extension, keeping compressed archives whole', () => {
    expect(numberedName('plot.png', 1)).toBe('plot (1).png');
    expect(numberedName('data.tar.gz', 2)).toBe('data (2).tar.gz');
    expect(numberedName('README', 1)).toBe('README (1)');
    expect(numberedName('my.data.csv', 1)).toBe('my.data (1).csv');
  });

  it('refuses a parent folder that is a symlink to outside, and nothing lands outside', async () => {
    const outputDir = path.join(directory, 'out');
    const elsewhere = path.join(directory, 'elsewhere');
    await mkdir(outputDir);
    await mkdir(elsewhere);
    await symlink(elsewhere, path.join(outputDir, 'link'));
    await mkdir(path.join(outputDir, 'real'));
    await symlink(elsewhere, path.join(outputDir, 'real', 'deeper'));
    await writeFile(path.join(outputDir, 'plain-file'), 'a file, not a folder');
    const { artifacts, refused } = await writeArtifacts(outputDir, [
      { name: 'link/planted.txt', data: Buffer.from('planted') },
      { name: 'link/new-folder/planted.txt', data: Buffer.from('planted') },
      { name: 'real/deeper/planted.txt', data: Buffer.from('planted') },
      { name: 'plain-file/planted.txt', data: Buffer.from('planted') },
      { name: 'real/kept.txt', data: Buffer.from('kept') },
    ]);
    expect(refused).toEqual([
      { name: 'link/planted.txt', reason: 'symlink on the way' },
      { name: 'link/new-folder/planted.txt', reason: 'symlink on the way' },
      { name: 'real/deeper/planted.txt', reason: 'symlink on the way' },
      { name: 'plain-file/planted.txt', reason: 'not a folder on the way' },
    ]);
    expect(artifacts.map((artifact) => artifact.name)).toEqual(['real/kept.txt']);
    expect(await readdir(elsewhere)).toEqual([]);
  });

  it('refuses an output folder that is itself a symlink, with a UsageError saying why', async () => {
    const elsewhere = path.join(directory, 'elsewhere');
    await mkdir(elsewhere);
    await symlink(elsewhere, path.join(directory, 'out'));
    const attempt = writeArtifacts(path.join(directory, 'out'), [{ name: 'a.txt', data: Buffer.from('a') }]);
    await expect(attempt).rejects.toBeInstanceOf(UsageError);
    await expect(attempt).rejects.toThrow(/symbolic link/);
    // The same answer before a run, without creating anything.
    await expect(checkOutputDirectory(path.join(directory, 'out'))).rejects.toThrow(/symbolic link/);
    await expect(checkOutputDirectory(path.join(directory, 'not-yet'))).resolves.toBeUndefined();
    expect(await readdir(directory)).not.toContain('not-yet');
    expect(await readdir(elsewhere)).toEqual([]);
  });

  it('keeps a file whose name holds control characters, and shows the name escaped', async () => {
    const outputDir = path.join(directory, 'out');
    const name = 'report\x1b]52;c;ZWNobyBwd25lZA==\x07\n\u202etxt.exe';
    const { artifacts } = await writeArtifacts(outputDir, [{ name, data: Buffer.from('data') }]);
    expect(artifacts.map((artifact) => artifact.name)).toEqual([name]);
    const shown = displayName(name);
    expect(shown).toBe('report\\x1b]52;c;ZWNobyBwd25lZA==\\x07\\n\\u202etxt.exe');
    expect(shown).not.toMatch(/[\u0000-\u001f\u007f\u202e]/);
    expect(displayName('plot (1).png')).toBe('plot (1).png');
    expect(displayName('half\ud800.txt')).toBe('half\\ud800.txt');
    expect(displayName('données/结果.csv')).toBe('données/结果.csv');
  });
});

describe('readArtifactArchive', () => {
  it('says so when the archive is corrupt or forged, instead of throwing', async () => {
    const good = await buildContext([{ name: 'a.txt', data: Buffer.from('a') }]);
    expect(await readArtifactArchive(good)).toEqual({ files: [{ name: 'a.txt', data: Buffer.from('a') }], refused: [] });

    const badChecksum = Buffer.from(good);
    badChecksum.write('b', 0, 'ascii');
    const garbage = Buffer.alloc(1024, 0x41);
    const truncated = (await buildContext([{ name: 'a', data: Buffer.alloc(2000) }])).subarray(0, 1024);
    for (const archive of [badChecksum, garbage, truncated]) {
      const read = await readArtifactArchive(archive);
      expect(read.files).toEqual([]);
      expect(read.error).toMatch(/could not be read/);
    }
  });

  it('refuses forged entries by name and type', async () => {
    const archive = await buildContext([
      { name: '.git/config', data: Buffer.from('x') },
      { name: 'notes.txt', data: Buffer.from('notes') },
    ]);
    const read = await readArtifactArchive(archive);
    expect(read.error).toBeUndefined();
    expect(read.files.map((file) => file.name)).toEqual(['notes.txt']);
    expect(read.refused).toEqual([{ name: '.git/config', reason: 'dot-name' }]);
  });

  it('keeps only regular files, whatever type flag a forged header carries', async () => {
    // Type flags: '1' hard link, '2' symlink, '3' character device, '6' fifo, '7' contiguous file,
    // 'V' a GNU volume header tar-stream does not know; '0' stays a regular file.
    const flags = ['1', '2', '3', '6', '7', 'V', '0'];
    const archive = await buildContext(flags.map((flag) => ({ name: `entry-${flag}`, data: Buffer.from('x') })));
    // One byte of data each: a header and one data block per entry.
    flags.forEach((flag, index) => {
      archive.write(flag, index * 1024 + 156, 'ascii');
      fixChecksum(archive, index * 1024);
    });
    const read = await readArtifactArchive(archive);
    expect(read.error).toBeUndefined();
    expect(read.files.map((file) => file.name)).toEqual(['entry-0']);
    expect(read.refused).toEqual([
      { name: 'entry-1', reason: 'not a regular file' },
      { name: 'entry-2', reason: 'symlink' },
      { name: 'entry-3', reason: 'not a regular file' },
      { name: 'entry-6', reason: 'not a regular file' },
      { name: 'entry-7', reason: 'not a regular file' },
      { name: 'entry-V', reason: 'not a regular file' },
    ]);
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
