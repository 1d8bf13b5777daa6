/**
 * Builds real, installable pure-Python wheels on the host, so install tests never need an index on the
 * internet. A wheel is a zip with the package files plus `*.dist-info/{METADATA,WHEEL,RECORD}`; pip and
 * uv both check RECORD hashes, so they are computed for real.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';

export interface WheelSpec {
  /** Distribution name as on an index, e.g. `pycage-demo` or `PyYAML`. */
  name: string;
  version: string;
  /** Files inside the wheel, relative paths to text, e.g. `{ 'pycage_demo/__init__.py': 'X = 1\n' }`. */
  files: Record<string, string>;
  /** `Requires-Dist` lines, e.g. `['other-dist>=1']`. @default [] */
  requires?: string[];
}

/** PEP 427 / PEP 491: the name part of a wheel file name, with runs of `-_.` folded to `_`. */
export function wheelFileName(name: string, version: string): string {
  return `${name.replace(/[-_.]+/g, '_')}-${version}-py3-none-any.whl`;
}

/** Writes the wheel into `directory` and returns its full path. */
export async function buildWheel(directory: string, spec: WheelSpec): Promise<string> {
  const distInfo = `${spec.name.replace(/[-_.]+/g, '_')}-${spec.version}.dist-info`;
  const metadata = [
    'Metadata-Version: 2.1',
    `Name: ${spec.name}`,
    `Version: ${spec.version}`,
    ...(spec.requires ?? []).map((requirement) => `Requires-Dist: ${requirement}`),
    '',
  ].join('\n');
  const wheel = ['Wheel-Version: 1.0', 'Generator: pycage-tests', 'Root-Is-Purelib: true', 'Tag: py3-none-any', ''].join('\n');

  const entries: Array<[string, Buffer]> = [
    ...Object.entries(spec.files).map(([file, text]): [string, Buffer] => [file, Buffer.from(text)]),
    [`${distInfo}/METADATA`, Buffer.from(metadata)],
    [`${distInfo}/WHEEL`, Buffer.from(wheel)],
  ];
  const record = entries.map(([file, data]) => `${file},sha256=${urlsafeSha256(data)},${data.length}`);
  record.push(`${distInfo}/RECORD,,`);
  entries.push([`${distInfo}/RECORD`, Buffer.from(`${record.join('\n')}\n`)]);

  await mkdir(directory, { recursive: true });
  const target = path.join(directory, wheelFileName(spec.name, spec.version));
  await writeFile(target, zip(entries));
  return target;
}

function urlsafeSha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('base64url');
}

/** A minimal zip writer: stored (uncompressed) entries, which every unzip accepts. */
function zip(entries: Array<[string, Buffer]>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const nameBytes = Buffer.from(name);
    const checksum = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0, 6); // flags
    local.writeUInt16LE(0, 8); // method: stored
    local.writeUInt32LE(0, 10); // time and date
    local.writeUInt32LE(checksum, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    local.writeUInt16LE(0, 28);
    locals.push(local, nameBytes, data);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0, 8);
    central.writeUInt16LE(0, 10);
    central.writeUInt32LE(0, 12);
    central.writeUInt32LE(checksum, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(0, 30); // extra and comment lengths
    central.writeUInt32LE(0, 34); // disk number and internal attributes
    central.writeUInt32LE((0o100644 << 16) >>> 0, 38); // external attributes: a regular file, rw-r--r--
    central.writeUInt32LE(offset, 42);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + data.length;
  }
  const centralSize = centrals.reduce((sum, part) => sum + part.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, ...centrals, end]);
}
