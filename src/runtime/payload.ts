/**
 * The framed payloads the host writes to a bootstrap's or install script's stdin:
 *   `PYCAGE1 <header length>\n` + header + each blob's bytes, in order.
 * The header says how long each blob is, so the reader never needs EOF and never guesses. The install
 * script's header is JSON; the bootstrap's is NUL-separated fields (see encodeRunHeader).
 */
import { UsageError } from '../errors.js';

export const payloadMagic = 'PYCAGE1 ';

/** The framing both payloads share: magic, header length, header, blobs. */
function frame(header: Buffer, blobs: readonly Uint8Array[]): Buffer {
  return Buffer.concat([Buffer.from(`${payloadMagic}${header.length}\n`, 'ascii'), header, ...blobs]);
}

export function encodePayload(header: unknown, blobs: readonly Uint8Array[] = []): Buffer {
  return frame(Buffer.from(JSON.stringify(header), 'utf8'), blobs);
}

export interface RunHeader {
  workDir: string;
  tempDir: string;
  script: string;
  outputDir: string;
  /** Size of the stdin blob, or null for /dev/null. */
  stdinSize: number | null;
  args: readonly string[];
  files: ReadonlyArray<{ path: string; size: number }>;
}

/**
 * The bootstrap's header: NUL-separated fields, which bootstrap.py parses without importing json
 * (that import alone costs more than the rest of the bootstrap). NUL cannot occur in a path or an argv
 * element, so it is refused here rather than escaped.
 */
export function encodeRunHeader(header: RunHeader): Buffer {
  const fields = [
    'v1',
    header.workDir,
    header.tempDir,
    header.script,
    header.outputDir,
    header.stdinSize === null ? '' : String(header.stdinSize),
    String(header.args.length),
    ...header.args,
    String(header.files.length),
    ...header.files.flatMap((file) => [file.path, String(file.size)]),
  ];
  for (const field of fields) {
    if (field.includes('\0')) throw new UsageError('Script arguments and file names cannot contain NUL bytes.');
  }
  return Buffer.from(fields.join('\0'), 'utf8');
}

/** A bootstrap payload: the header, then the blobs in the order the header lists them. */
export function encodeRunPayload(header: RunHeader, blobs: readonly Uint8Array[]): Buffer {
  return frame(encodeRunHeader(header), blobs);
}

export interface FilePayload {
  entries: Array<{ path: string; size: number }>;
  blobs: Uint8Array[];
}

/**
 * Whether a file name stays inside the directory it is written to: relative, `/`-separated, no
 * `.`/`..`/empty segments, no backslashes or NUL. Used for the caller's files going in and for the
 * artifacts coming out of the sandbox.
 */
export function isSafeRelativePath(name: string): boolean {
  if (name === '' || name.startsWith('/') || name.includes('\\') || name.includes('\0')) return false;
  return name.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

/** Throws a UsageError unless `name` is a safe relative path (see isSafeRelativePath). */
export function checkRelativePath(name: string, what = 'file'): string {
  if (!isSafeRelativePath(name)) {
    throw new UsageError(`Bad ${what} name ${JSON.stringify(name)}: use a relative path like "data/input.csv".`);
  }
  return name;
}

export function toBytes(content: string | Uint8Array): Uint8Array {
  return typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
}

export function filePayload(files: Record<string, string | Uint8Array>, reserved: readonly string[] = []): FilePayload {
  const entries: FilePayload['entries'] = [];
  const blobs: Uint8Array[] = [];
  for (const [name, content] of Object.entries(files)) {
    checkRelativePath(name);
    if (reserved.includes(name)) throw new UsageError(`The file name ${JSON.stringify(name)} is reserved for the script itself.`);
    const bytes = toBytes(content);
    entries.push({ path: name, size: bytes.length });
    blobs.push(bytes);
  }
  return { entries, blobs };
}
