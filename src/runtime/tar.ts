/**
 * Just enough tar for the runtime: writing a build context (a Dockerfile) for Docker's build API, and
 * reading the archive of a script's output directory that collect.py writes (ustar, with PAX `x`
 * records for long names, as Python's tarfile makes them; GNU `L` records are read too).
 * The reader only parses; deciding what may be written where is artifacts.ts's job.
 */

export interface TarEntry {
  name: string;
  /** '0' regular file, '5' directory, '2' symlink, ... as in the header's typeflag. */
  type: string;
  data: Buffer;
  mode: number;
}

const blockSize = 512;

function octal(value: number, length: number): string {
  return `${value.toString(8).padStart(length - 1, '0')}\0`;
}

/** A ustar archive of small regular files (names up to 100 bytes). */
export function createTar(files: ReadonlyArray<{ name: string; data: Uint8Array; mode?: number }>): Buffer {
  const parts: Buffer[] = [];
  for (const file of files) {
    const header = Buffer.alloc(blockSize);
    const name = Buffer.from(file.name, 'utf8');
    if (name.length > 100) throw new Error(`tar: name too long: ${file.name}`);
    name.copy(header, 0);
    header.write(octal(file.mode ?? 0o644, 8), 100, 'ascii');
    header.write(octal(0, 8), 108, 'ascii');
    header.write(octal(0, 8), 116, 'ascii');
    header.write(octal(file.data.length, 12), 124, 'ascii');
    header.write(octal(0, 12), 136, 'ascii');
    header.write('        ', 148, 'ascii');
    header.write('0', 156, 'ascii');
    header.write('ustar\0', 257, 'ascii');
    header.write('00', 263, 'ascii');
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
    parts.push(header, Buffer.from(file.data));
    const padding = (blockSize - (file.data.length % blockSize)) % blockSize;
    if (padding > 0) parts.push(Buffer.alloc(padding));
  }
  parts.push(Buffer.alloc(blockSize * 2));
  return Buffer.concat(parts);
}

function readString(block: Buffer, offset: number, length: number): string {
  const slice = block.subarray(offset, offset + length);
  const end = slice.indexOf(0);
  return slice.subarray(0, end === -1 ? length : end).toString('utf8');
}

function readNumber(block: Buffer, offset: number, length: number): number {
  const text = readString(block, offset, length).trim();
  if (text === '') return 0;
  const value = Number.parseInt(text, 8);
  if (!Number.isFinite(value) || value < 0) throw new Error('tar: bad number field');
  return value;
}

/** PAX extended header records: `<length> <key>=<value>\n`. */
function parsePax(data: Buffer): Record<string, string> {
  const records: Record<string, string> = {};
  let offset = 0;
  while (offset < data.length) {
    const space = data.indexOf(0x20, offset);
    if (space === -1) break;
    const length = Number.parseInt(data.subarray(offset, space).toString('ascii'), 10);
    if (!Number.isFinite(length) || length <= 0) break;
    const record = data.subarray(space + 1, offset + length - 1).toString('utf8');
    const equals = record.indexOf('=');
    if (equals !== -1) records[record.slice(0, equals)] = record.slice(equals + 1);
    offset += length;
  }
  return records;
}

/** The sum of a header's bytes with its checksum field counted as spaces, as ustar defines it. */
function headerChecksum(block: Buffer): number {
  let sum = 0;
  for (let index = 0; index < blockSize; index += 1) sum += index >= 148 && index < 156 ? 0x20 : block[index]!;
  return sum;
}

/** The entries of a ustar/PAX archive; throws on anything malformed (the caller decides what that means). */
export function parseTar(archive: Buffer): TarEntry[] {
  const entries: TarEntry[] = [];
  let offset = 0;
  let longName: string | undefined;
  let pax: Record<string, string> = {};
  while (offset + blockSize <= archive.length) {
    const block = archive.subarray(offset, offset + blockSize);
    if (block.every((byte) => byte === 0)) break;
    const magic = readString(block, 257, 6);
    if (!magic.startsWith('ustar')) throw new Error('tar: not a ustar header');
    if (readNumber(block, 148, 8) !== headerChecksum(block)) throw new Error('tar: bad header checksum');
    let size = readNumber(block, 124, 12);
    const type = readString(block, 156, 1) || '0';
    const prefix = readString(block, 345, 155);
    const baseName = readString(block, 0, 100);
    if (pax.size !== undefined) {
      if (!/^\d{1,15}$/.test(pax.size)) throw new Error('tar: bad PAX size');
      size = Number(pax.size);
    }
    const dataStart = offset + blockSize;
    if (dataStart + size > archive.length) throw new Error('tar: archive ends inside an entry');
    const data = archive.subarray(dataStart, dataStart + size);
    offset = dataStart + Math.ceil(size / blockSize) * blockSize;

    if (type === 'x') {
      pax = parsePax(data);
      continue;
    }
    if (type === 'g') continue;
    if (type === 'L') {
      longName = readString(data, 0, data.length);
      continue;
    }
    const name = pax.path ?? longName ?? (prefix !== '' ? `${prefix}/${baseName}` : baseName);
    entries.push({ name, type, data, mode: readNumber(block, 100, 8) });
    longName = undefined;
    pax = {};
  }
  return entries;
}
