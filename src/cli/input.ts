/**
 * Reads what a command is given (a file, or `-` for stdin) as UTF-8 text, with one clear error for
 * each way that can go wrong: no such file, a directory, not UTF-8, empty.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import { UsageError } from '../errors.js';
import type { CliIo } from './io.js';

export interface Source {
  text: string;
  /** The path as the user gave it, or `stdin`. */
  label: string;
  /** Absolute path of the file; undefined for stdin. */
  path: string | undefined;
}

export async function readSource(io: CliIo, given: string | undefined, what: string): Promise<Source> {
  if (given === undefined || given === '-') {
    if (given === undefined && io.stdin.isTTY === true) {
      throw new UsageError(`Give ${what} as a file, or pipe it in with \`-\`.`);
    }
    const bytes = await buffer(io.stdin);
    return { text: decode(bytes, 'stdin', what), label: 'stdin', path: undefined };
  }
  const absolute = path.resolve(io.cwd, given);
  let bytes: Buffer;
  try {
    bytes = await readFile(absolute);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UsageError(`${given}: no such file.`);
    if (code === 'EISDIR') throw new UsageError(`${given} is a directory; give ${what} as a file.`);
    if (code === 'EACCES') throw new UsageError(`${given}: permission denied.`);
    throw new UsageError(`${given}: cannot be read (${(error as Error).message}).`, { cause: error });
  }
  return { text: decode(bytes, given, what), label: given, path: absolute };
}

function decode(bytes: Buffer, label: string, what: string): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    const offset = firstInvalidByte(bytes);
    throw new UsageError(`${label} is not UTF-8 text (invalid byte at offset ${offset}); save ${what} as UTF-8.`);
  }
  if (text.trim() === '') throw new UsageError(`${label} is empty; there is nothing to use as ${what}.`);
  return text;
}

/** Offset of the first byte that starts an invalid UTF-8 sequence, for a message the user can act on. */
function firstInvalidByte(bytes: Buffer): number {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let index = 0;
  while (index < bytes.length) {
    const lead = bytes[index] ?? 0;
    const length = lead < 0x80 ? 1 : lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
    if (length === 0 || index + length > bytes.length) return index;
    try {
      decoder.decode(bytes.subarray(index, index + length));
    } catch {
      return index;
    }
    index += length;
  }
  return bytes.length;
}
