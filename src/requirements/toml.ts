/**
 * The TOML of PEP 723 inline script metadata, read by smol-toml (a complete TOML parser). This file is
 * the only one that knows the library: it fixes the options pycage relies on and turns the library's
 * errors into `TomlSyntaxError`, whose message is one line ending in `(line N)`, because it becomes a
 * warning on a terminal, where the library's multi-line excerpt of the document would not fit.
 */
import { parse, TomlError } from 'smol-toml';

/** Dates and times are `Date`s (smol-toml's `TomlDate`); integers beyond 2^53 are refused, not rounded. */
export type TomlValue = string | number | boolean | Date | TomlValue[] | TomlTable;
export interface TomlTable {
  [key: string]: TomlValue;
}

export class TomlSyntaxError extends Error {
  override readonly name = 'TomlSyntaxError';
  /** 1-based line of the document where reading stopped. */
  readonly line: number;
  /** 1-based column on that line. */
  readonly column: number;
  constructor(message: string, position: { line: number; column: number }, options?: ErrorOptions) {
    super(`${message} (line ${position.line})`, options);
    this.line = position.line;
    this.column = position.column;
  }
}

// smol-toml's messages read "Invalid TOML document: <what is wrong>", then a blank line and an excerpt.
const libraryPrefix = 'Invalid TOML document: ';

/** Parses a TOML document; throws `TomlSyntaxError` on anything malformed. */
export function parseToml(text: string): TomlTable {
  try {
    // Tables come back without a prototype, so a `__proto__` key is a key like any other.
    return parse(text, { integersAsBigInt: false, useLegacyDate: true });
  } catch (error) {
    if (!(error instanceof TomlError)) throw error;
    const firstLine = error.message.split('\n', 1)[0] ?? '';
    const problem = firstLine.startsWith(libraryPrefix) ? firstLine.slice(libraryPrefix.length) : firstLine;
    throw new TomlSyntaxError(problem, { line: error.line, column: error.column }, { cause: error });
  }
}
