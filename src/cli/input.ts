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

/**
 * @param options.python the text is Python source: a PEP 263 coding cookie (`# -*- coding: latin-1 -*-`)
 * in its first two lines says how to decode it, as Python itself would.
 */
export async function readSource(io: CliIo, given: string | undefined, what: string, options: { python?: boolean } = {}): Promise<Source> {
  if (given === undefined || given === '-') {
    if (given === undefined && io.stdin.isTTY === true) {
      throw new UsageError(`Give ${what} as a file, or pipe it in with \`-\`.`);
    }
    const bytes = await buffer(io.stdin);
    return { text: decode(bytes, 'stdin', what, options.python === true), label: 'stdin', path: undefined };
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
  return { text: decode(bytes, given, what, options.python === true), label: given, path: absolute };
}

/** PEP 263: the cookie must be in a comment on line 1 or 2. */
const codingCookie = /^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)/;
const latin1Names = new Set(['latin-1', 'latin1', 'iso-8859-1', 'iso8859-1', 'iso-latin-1', 'l1', 'cp819']);

/**
 * Source whose coding cookie names an encoding other than UTF-8, decoded with it, and the cookie
 * rewritten to say utf-8 (the sandbox gets UTF-8 bytes; the old cookie would make Python decode them
 * wrongly). The cookie stays on its line, so tracebacks keep their line numbers. Undefined when there
 * is no such cookie.
 */
function decodeWithCookie(bytes: Buffer, label: string): string | undefined {
  const head = bytes.subarray(0, 1024).toString('latin1').split('\n').slice(0, 2);
  const lineIndex = head.findIndex((line) => codingCookie.test(line));
  if (lineIndex === -1) return undefined;
  const encoding = (codingCookie.exec(head[lineIndex] ?? '')?.[1] ?? '').toLowerCase().replace(/_/g, '-');
  if (encoding === 'utf-8' || encoding === 'utf8' || encoding.startsWith('utf-8-')) return undefined;
  let text: string;
  // Python's latin-1 maps every byte to the same code point; the WHATWG decoder's "latin1" is cp1252.
  if (latin1Names.has(encoding)) text = bytes.toString('latin1');
  else {
    try {
      text = new TextDecoder(encoding, { fatal: true }).decode(bytes);
    } catch {
      throw new UsageError(`${label} declares the encoding "${encoding}" (coding cookie, line ${lineIndex + 1}), which pycage cannot decode; save it as UTF-8.`);
    }
  }
  const lines = text.split('\n');
  lines[lineIndex] = (lines[lineIndex] ?? '').replace(/(coding[:=][ \t]*)[-\w.]+/, '$1utf-8');
  return lines.join('\n');
}

function decode(bytes: Buffer, label: string, what: string, python: boolean): string {
  const declared = python ? decodeWithCookie(bytes, label) : undefined;
  if (declared !== undefined) {
    if (declared.trim() === '') throw new UsageError(`${label} is empty; there is nothing to use as ${what}.`);
    return declared;
  }
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
