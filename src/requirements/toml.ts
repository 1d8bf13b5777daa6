/**
 * A small TOML reader for PEP 723 inline script metadata. It reads the TOML 1.0 syntax a script header
 * can reasonably hold (tables, dotted and quoted keys, all four string forms, numbers, booleans,
 * dates as text, multi-line arrays with comments, inline tables) and rejects what it does not
 * understand with the line number, so bad metadata becomes a clear warning instead of a wrong answer.
 */

export type TomlValue = string | number | boolean | TomlValue[] | TomlTable;
export interface TomlTable {
  [key: string]: TomlValue;
}

export class TomlSyntaxError extends Error {
  override readonly name = 'TomlSyntaxError';
  readonly line: number;
  constructor(message: string, line: number) {
    super(`${message} (line ${line})`);
    this.line = line;
  }
}

/** Parses a TOML document; throws `TomlSyntaxError` on anything malformed. */
export function parseToml(text: string): TomlTable {
  return new TomlReader(text.replace(/\r\n/g, '\n')).document();
}

const bareKeyCharacter = /[A-Za-z0-9_-]/;

class TomlReader {
  readonly #text: string;
  #position = 0;
  // Tables defined by a header or by a dotted key, to reject the same table defined twice.
  readonly #defined = new Set<TomlTable>();
  // Inline tables and arrays written as values are sealed: later keys may not add to them.
  readonly #sealed = new Set<TomlValue>();

  constructor(text: string) {
    this.#text = text;
  }

  document(): TomlTable {
    const root: TomlTable = {};
    let current = root;
    for (;;) {
      this.#skipWhitespaceAndComments(true);
      if (this.#atEnd()) return root;
      if (this.#peek() === '[') {
        current = this.#tableHeader(root);
      } else {
        this.#keyValue(current);
      }
      this.#endOfLine();
    }
  }

  #tableHeader(root: TomlTable): TomlTable {
    const isArray = this.#text.startsWith('[[', this.#position);
    this.#position += isArray ? 2 : 1;
    this.#skipSpaces();
    const keys = this.#key();
    this.#skipSpaces();
    if (!this.#text.startsWith(isArray ? ']]' : ']', this.#position)) this.#fail(`expected "${isArray ? ']]' : ']'}" after a table name`);
    this.#position += isArray ? 2 : 1;
    const parent = this.#walk(root, keys.slice(0, -1));
    const last = keys.at(-1) ?? '';
    if (isArray) {
      const existing = parent[last];
      const table: TomlTable = {};
      if (existing === undefined) parent[last] = [table];
      else if (Array.isArray(existing) && !this.#sealed.has(existing)) existing.push(table);
      else this.#fail(`"${keys.join('.')}" is already defined`);
      return table;
    }
    const existing = parent[last];
    if (existing === undefined) {
      const table: TomlTable = {};
      parent[last] = table;
      this.#defined.add(table);
      return table;
    }
    if (isTable(existing) && !this.#defined.has(existing) && !this.#sealed.has(existing)) {
      this.#defined.add(existing);
      return existing;
    }
    return this.#fail(`table "${keys.join('.')}" is defined twice`);
  }

  /** Descends through `keys`, creating implicit tables; the last element of an array of tables counts. */
  #walk(table: TomlTable, keys: readonly string[]): TomlTable {
    let current = table;
    for (const key of keys) {
      let value = current[key];
      if (value === undefined) {
        value = {};
        current[key] = value;
      }
      const next: TomlValue | undefined = Array.isArray(value) && !this.#sealed.has(value) ? value.at(-1) : value;
      if (next === undefined || !isTable(next) || this.#sealed.has(next)) return this.#fail(`"${key}" is not a table`);
      current = next;
    }
    return current;
  }

  #keyValue(table: TomlTable): void {
    const keys = this.#key();
    this.#skipSpaces();
    if (this.#peek() !== '=') this.#fail('expected "=" after a key');
    this.#position += 1;
    this.#skipSpaces();
    const value = this.#value();
    const target = this.#walkDotted(table, keys.slice(0, -1));
    const last = keys.at(-1) ?? '';
    if (Object.hasOwn(target, last)) this.#fail(`key "${keys.join('.')}" is defined twice`);
    target[last] = value;
  }

  // Dotted keys (`a.b = 1`) create tables that a later `[a]` header may not redefine.
  #walkDotted(table: TomlTable, keys: readonly string[]): TomlTable {
    let current = table;
    for (const key of keys) {
      let next = current[key];
      if (next === undefined) {
        next = {};
        current[key] = next;
        this.#defined.add(next);
      }
      if (!isTable(next) || this.#sealed.has(next)) return this.#fail(`"${key}" is not a table`);
      current = next;
    }
    return current;
  }

  #key(): string[] {
    const keys: string[] = [];
    for (;;) {
      this.#skipSpaces();
      const character = this.#peek();
      if (character === '"') keys.push(this.#basicString());
      else if (character === "'") keys.push(this.#literalString());
      else {
        const start = this.#position;
        while (!this.#atEnd() && bareKeyCharacter.test(this.#peek())) this.#position += 1;
        if (start === this.#position) this.#fail('expected a key');
        keys.push(this.#text.slice(start, this.#position));
      }
      this.#skipSpaces();
      if (this.#peek() !== '.') return keys;
      this.#position += 1;
    }
  }

  #value(): TomlValue {
    const character = this.#peek();
    if (this.#text.startsWith('"""', this.#position)) return this.#multilineBasicString();
    if (this.#text.startsWith("'''", this.#position)) return this.#multilineLiteralString();
    if (character === '"') return this.#basicString();
    if (character === "'") return this.#literalString();
    if (character === '[') return this.#array();
    if (character === '{') return this.#inlineTable();
    return this.#scalar();
  }

  #array(): TomlValue[] {
    this.#position += 1;
    const items: TomlValue[] = [];
    for (;;) {
      this.#skipWhitespaceAndComments(true);
      if (this.#peek() === ']') break;
      items.push(this.#value());
      this.#skipWhitespaceAndComments(true);
      if (this.#peek() === ',') {
        this.#position += 1;
        continue;
      }
      if (this.#peek() !== ']') this.#fail('expected "," or "]" in an array');
      break;
    }
    this.#position += 1;
    this.#sealed.add(items);
    return items;
  }

  #inlineTable(): TomlTable {
    this.#position += 1;
    const table: TomlTable = {};
    this.#skipSpaces();
    if (this.#peek() === '}') {
      this.#position += 1;
      this.#sealed.add(table);
      return table;
    }
    for (;;) {
      this.#keyValue(table);
      this.#skipSpaces();
      const character = this.#peek();
      this.#position += 1;
      if (character === '}') break;
      if (character !== ',') this.#fail('expected "," or "}" in an inline table');
    }
    this.#sealed.add(table);
    return table;
  }

  #scalar(): TomlValue {
    const start = this.#position;
    // A scalar runs to the next delimiter; dates may hold one space between date and time.
    while (!this.#atEnd() && !/[,\]}#\n]/.test(this.#peek())) this.#position += 1;
    const raw = this.#text.slice(start, this.#position).trimEnd();
    this.#position = start + raw.length;
    if (raw === 'true') return true;
    if (raw === 'false') return false;
    if (/^[+-]?(?:inf|nan)$/.test(raw)) return raw.includes('nan') ? Number.NaN : raw.startsWith('-') ? -Infinity : Infinity;
    if (/^0x[0-9A-Fa-f](?:_?[0-9A-Fa-f])*$/.test(raw)) return Number.parseInt(raw.slice(2).replaceAll('_', ''), 16);
    if (/^0o[0-7](?:_?[0-7])*$/.test(raw)) return Number.parseInt(raw.slice(2).replaceAll('_', ''), 8);
    if (/^0b[01](?:_?[01])*$/.test(raw)) return Number.parseInt(raw.slice(2).replaceAll('_', ''), 2);
    if (/^[+-]?(?:0|[1-9](?:_?[0-9])*)$/.test(raw)) return Number(raw.replaceAll('_', ''));
    if (/^[+-]?(?:0|[1-9](?:_?[0-9])*)(?:\.[0-9](?:_?[0-9])*)?(?:[eE][+-]?[0-9](?:_?[0-9])*)?$/.test(raw)) return Number(raw.replaceAll('_', ''));
    // Dates and times are kept as their text: nothing in script metadata needs them as dates.
    if (/^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})?)?$|^\d{2}:\d{2}:\d{2}(?:\.\d+)?$/.test(raw)) return raw;
    return this.#fail(raw === '' ? 'expected a value' : `not a TOML value: ${raw}`);
  }

  #basicString(): string {
    this.#position += 1;
    let value = '';
    for (;;) {
      if (this.#atEnd() || this.#peek() === '\n') this.#fail('unterminated string');
      const character = this.#peek();
      this.#position += 1;
      if (character === '"') return value;
      value += character === '\\' ? this.#escape() : character;
    }
  }

  #multilineBasicString(): string {
    this.#position += 3;
    if (this.#peek() === '\n') this.#position += 1;
    let value = '';
    for (;;) {
      if (this.#atEnd()) this.#fail('unterminated multi-line string');
      if (this.#text.startsWith('"""', this.#position)) {
        // Up to two quotes may sit right before the closing delimiter.
        let end = this.#position + 3;
        while (this.#text[end] === '"' && end - this.#position < 5) end += 1;
        value += '"'.repeat(end - this.#position - 3);
        this.#position = end;
        return value;
      }
      const character = this.#peek();
      this.#position += 1;
      if (character !== '\\') {
        value += character;
        continue;
      }
      // A backslash at the end of a line joins it to the next non-blank text.
      const rest = /^[ \t]*\n[\s]*/.exec(this.#text.slice(this.#position));
      if (rest !== null) this.#position += rest[0].length;
      else value += this.#escape();
    }
  }

  #literalString(): string {
    this.#position += 1;
    const end = this.#text.indexOf("'", this.#position);
    const newline = this.#text.indexOf('\n', this.#position);
    if (end === -1 || (newline !== -1 && newline < end)) this.#fail('unterminated string');
    const value = this.#text.slice(this.#position, end);
    this.#position = end + 1;
    return value;
  }

  #multilineLiteralString(): string {
    this.#position += 3;
    if (this.#peek() === '\n') this.#position += 1;
    const end = this.#text.indexOf("'''", this.#position);
    if (end === -1) this.#fail('unterminated multi-line string');
    let close = end + 3;
    while (this.#text[close] === "'" && close - end < 5) close += 1;
    const value = this.#text.slice(this.#position, close - 3);
    this.#position = close;
    return value;
  }

  #escape(): string {
    const character = this.#peek();
    this.#position += 1;
    const simple: Record<string, string> = { b: '\b', t: '\t', n: '\n', f: '\f', r: '\r', e: '\u001b', '"': '"', '\\': '\\' };
    const known = simple[character];
    if (known !== undefined) return known;
    const length = character === 'u' ? 4 : character === 'U' ? 8 : 0;
    const hex = this.#text.slice(this.#position, this.#position + length);
    if (length === 0 || !/^[0-9A-Fa-f]+$/.test(hex) || hex.length !== length) this.#fail(`invalid escape "\\${character}"`);
    this.#position += length;
    const codePoint = Number.parseInt(hex, 16);
    if (codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) this.#fail(`invalid escape "\\${character}${hex}"`);
    return String.fromCodePoint(codePoint);
  }

  #skipSpaces(): void {
    while (this.#peek() === ' ' || this.#peek() === '\t') this.#position += 1;
  }

  #skipWhitespaceAndComments(newlines: boolean): void {
    for (;;) {
      const character = this.#peek();
      if (character === ' ' || character === '\t' || (newlines && character === '\n')) this.#position += 1;
      else if (character === '#') {
        while (!this.#atEnd() && this.#peek() !== '\n') this.#position += 1;
      } else return;
    }
  }

  #endOfLine(): void {
    this.#skipWhitespaceAndComments(false);
    if (!this.#atEnd() && this.#peek() !== '\n') this.#fail('expected the end of the line');
  }

  #peek(): string {
    return this.#text[this.#position] ?? '';
  }

  #atEnd(): boolean {
    return this.#position >= this.#text.length;
  }

  #fail(message: string): never {
    const line = this.#text.slice(0, this.#position).split('\n').length;
    throw new TomlSyntaxError(message, line);
  }
}

function isTable(value: TomlValue): value is TomlTable {
  return typeof value === 'object' && !Array.isArray(value);
}
