import { describe, expect, it } from 'vitest';
import { FrameDemuxer, OutputCollector, utf8SafePrefix } from '../../../src/runtime/output.js';

function frame(type: number, text: string | Buffer): Buffer {
  const data = typeof text === 'string' ? Buffer.from(text) : text;
  const header = Buffer.alloc(8);
  header[0] = type;
  header.writeUInt32BE(data.length, 4);
  return Buffer.concat([header, data]);
}

describe('FrameDemuxer', () => {
  it('splits frames however the chunks fall', () => {
    const stream = Buffer.concat([frame(1, 'out one'), frame(2, 'err'), frame(1, 'out two'), frame(0, 'ignored')]);
    for (const size of [1, 3, 8, 9, stream.length]) {
      const seen: string[] = [];
      const demuxer = new FrameDemuxer((name, data) => seen.push(`${name}:${data.toString()}`));
      for (let offset = 0; offset < stream.length; offset += size) demuxer.push(stream.subarray(offset, offset + size));
      expect(seen).toEqual(['stdout:out one', 'stderr:err', 'stdout:out two']);
      expect(demuxer.pendingBytes).toBe(0);
    }
  });

  it('keeps an unfinished frame pending', () => {
    const demuxer = new FrameDemuxer(() => undefined);
    demuxer.push(frame(1, 'abcdef').subarray(0, 10));
    expect(demuxer.pendingBytes).toBe(10);
  });
});

describe('utf8SafePrefix', () => {
  it('never ends inside a multi-byte character', () => {
    const bytes = Buffer.from('aé€😀');
    expect(Buffer.from(utf8SafePrefix(bytes, 1)).toString()).toBe('a');
    expect(Buffer.from(utf8SafePrefix(bytes, 2)).toString()).toBe('a');
    expect(Buffer.from(utf8SafePrefix(bytes, 3)).toString()).toBe('aé');
    expect(Buffer.from(utf8SafePrefix(bytes, 5)).toString()).toBe('aé');
    expect(Buffer.from(utf8SafePrefix(bytes, 6)).toString()).toBe('aé€');
    expect(Buffer.from(utf8SafePrefix(bytes, 9)).toString()).toBe('aé€');
    expect(Buffer.from(utf8SafePrefix(bytes, 10)).toString()).toBe('aé€😀');
    expect(utf8SafePrefix(bytes, 0).length).toBe(0);
  });
});

describe('OutputCollector', () => {
  it('decodes characters split across chunks and streams them live', () => {
    const live: string[] = [];
    const collector = new OutputCollector({ limitBytes: 1000, onStdout: (text) => live.push(text) });
    const bytes = Buffer.from('é€😀 done');
    for (const byte of bytes) collector.write('stdout', Buffer.from([byte]));
    expect(collector.finish()).toEqual({ stdout: 'é€😀 done', stderr: '' });
    expect(live.join('')).toBe('é€😀 done');
    expect(live.some((text) => text.includes('\uFFFD'))).toBe(false);
  });

  it('keeps the first bytes of stdout and stderr together up to the cap, once', () => {
    let limits = 0;
    const collector = new OutputCollector({ limitBytes: 10, onLimit: () => (limits += 1) });
    collector.write('stdout', Buffer.from('12345'));
    collector.write('stderr', Buffer.from('abc'));
    collector.write('stdout', Buffer.from('6789'));
    collector.write('stderr', Buffer.from('more'));
    expect(collector.truncated).toBe(true);
    expect(collector.keptBytes).toBe(10);
    expect(limits).toBe(1);
    expect(collector.finish()).toEqual({ stdout: '1234567', stderr: 'abc' });
  });

  it('cuts at a character boundary when the cap falls inside one', () => {
    const collector = new OutputCollector({ limitBytes: 4 });
    collector.write('stdout', Buffer.from('ab€'));
    expect(collector.finish().stdout).toBe('ab');
  });

  it('survives a throwing callback', () => {
    const collector = new OutputCollector({
      limitBytes: 100,
      onStderr: () => {
        throw new Error('observer broke');
      },
    });
    collector.write('stderr', Buffer.from('text'));
    expect(collector.finish().stderr).toBe('text');
  });
});
