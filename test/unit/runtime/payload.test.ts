import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { checkRelativePath, encodePayload, encodeRunHeader, encodeRunPayload, filePayload } from '../../../src/runtime/payload.js';

describe('run payload', () => {
  const header = {
    workDir: '/work',
    tempDir: '/tmp',
    script: 'script.py',
    outputDir: 'output',
    stdinSize: 5,
    args: ['--flag', 'two words'],
    files: [
      { path: 'script.py', size: 12 },
      { path: 'data/in.csv', size: 3 },
    ],
  };

  it('writes the header as NUL-separated fields in the order bootstrap.py reads them', () => {
    expect(encodeRunHeader(header).toString('utf8').split('\0')).toEqual([
      'v1',
      '/work',
      '/tmp',
      'script.py',
      'output',
      '5',
      '2',
      '--flag',
      'two words',
      '2',
      'script.py',
      '12',
      'data/in.csv',
      '3',
    ]);
    expect(encodeRunHeader({ ...header, stdinSize: null, args: [], files: [] }).toString().split('\0').slice(5)).toEqual(['', '0', '0']);
  });

  it('frames the header with its byte length, then the blobs', () => {
    const payload = encodeRunPayload({ ...header, args: ['ünï'] }, [Buffer.from('print("hi")\n'), Buffer.from('a,b')]);
    const newline = payload.indexOf(0x0a);
    const first = payload.subarray(0, newline).toString('ascii');
    expect(first).toMatch(/^PYCAGE1 \d+$/);
    const length = Number(first.slice('PYCAGE1 '.length));
    expect(payload.subarray(newline + 1, newline + 1 + length).toString('utf8')).toContain('ünï');
    expect(payload.subarray(newline + 1 + length).toString()).toBe('print("hi")\na,b');
  });

  it('refuses NUL bytes in arguments and names', () => {
    expect(() => encodeRunHeader({ ...header, args: ['a\0b'] })).toThrow(UsageError);
  });

  it('frames JSON headers for the install script', () => {
    expect(encodePayload({ a: 1 }, [Buffer.from('xy')]).toString()).toBe('PYCAGE1 7\n{"a":1}xy');
  });
});

describe('filePayload', () => {
  it('lists files with their sizes and keeps the bytes in order', () => {
    const payload = filePayload({ 'a.txt': 'é', 'dir/b.bin': new Uint8Array([1, 2, 3]) });
    expect(payload.entries).toEqual([
      { path: 'a.txt', size: 2 },
      { path: 'dir/b.bin', size: 3 },
    ]);
    expect(payload.blobs.map((blob) => blob.length)).toEqual([2, 3]);
  });

  it('refuses names that leave the work directory, and reserved names', () => {
    for (const name of ['', '/etc/passwd', '../x', 'a/../../x', 'a//b', './a', 'a\\b', 'nul\0']) {
      expect(() => checkRelativePath(name)).toThrow(UsageError);
    }
    expect(() => filePayload({ 'script.py': 'x' }, ['script.py'])).toThrow(/reserved/);
  });
});
