// What a script prints reaches the user's terminal through writeOutput: on a terminal, escape
// sequences that act on it (clipboard, title, cursor, erase) are shown, not obeyed; colours pass; piped
// output is left byte for byte.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { OutputStream } from '../../../src/cli/io.js';
import type { CliIo } from '../../../src/cli/io.js';
import { flushOutput, printJson, TerminalSanitizer, writeOutput } from '../../../src/cli/output.js';

/** A stream that keeps what it was given, as a terminal (`isTTY`) or as a pipe. */
function captureStream(isTTY: boolean): OutputStream & { written: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  }) as OutputStream & { written: () => string };
  stream.isTTY = isTTY;
  stream.written = () => chunks.join('');
  return stream;
}

const clipboardWrite = '\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\x07';
const windowTitle = '\x1b]0;innocent title\x1b\\';

/** Characters a terminal acts on; none may reach it from a script. */
const controls = /[\x00-\x07\x0b\x0c\x0e-\x1f\x80-\x9f]/;

/** The text less the colours it may keep (SGR other than 8, concealed), so what is left must hold no control. */
function withoutColours(text: string): string {
  return text.replace(/\x1b\[(?!8m)[0-9;:]*m/g, '');
}

describe('writeOutput on a terminal', () => {
  it('shows OSC clipboard writes and window titles instead of passing them', () => {
    const stream = captureStream(true);
    writeOutput(stream, `before ${clipboardWrite} middle ${windowTitle} after\n`);
    const written = stream.written();
    expect(written).not.toMatch(controls);
    expect(written).toBe('before \\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\\x07 middle \\x1b]0;innocent title\\x1b\\ after\n');
  });

  it('lets colours and text styles pass unchanged', () => {
    const stream = captureStream(true);
    const coloured = '\x1b[1;31mred bold\x1b[0m \x1b[38;5;8mgrey\x1b[m \x1b[38;2;1;2;3mtrue colour\x1b[39m\n';
    writeOutput(stream, coloured);
    expect(stream.written()).toBe(coloured);
  });

  it('shows every other escape: cursor moves, erases, resets, DCS, APC, PM, SOS, C1 controls, concealed text', () => {
    const hostile = [
      '\x1b[2K', // erase the line
      '\x1b[1A', // cursor up
      '\x1b[2J', // clear the screen
      '\x1b[10;1H', // cursor position
      '\x1bc', // full reset
      '\x1bPq#0;2;0;0;0\x1b\\', // DCS (sixel)
      '\x1b_Gf=100;payload\x1b\\', // APC (kitty graphics)
      '\x1b^private\x1b\\', // PM
      '\x1bXstring\x1b\\', // SOS
      '\u009d52;c;eA==\u0007', // OSC as a C1 control
      '\u009b2J', // CSI as a C1 control
      '\x1b[8mhidden\x1b[0m', // concealed text
      '\x0e', // shift out: line-drawing characters from here on
    ];
    for (const sequence of hostile) {
      const stream = captureStream(true);
      writeOutput(stream, `text ${sequence} more\n`);
      expect(withoutColours(stream.written()), JSON.stringify(sequence)).not.toMatch(controls);
      expect(stream.written(), JSON.stringify(sequence)).toContain('\\x');
    }
  });

  it('keeps tabs, newlines, carriage returns and backspaces (progress bars use them) and any Unicode text', () => {
    const stream = captureStream(true);
    const text = 'a\tb\r\n 50%\r100%\b\n données 结果 🐍\n';
    writeOutput(stream, text);
    expect(stream.written()).toBe(text);
  });

  it('judges a sequence split across writes whole', () => {
    const stream = captureStream(true);
    writeOutput(stream, 'start \x1b');
    writeOutput(stream, ']52;c;eA==\x07 \x1b[3');
    writeOutput(stream, '1mred\x1b[');
    writeOutput(stream, '0m end\n');
    expect(stream.written()).toBe('start \\x1b]52;c;eA==\\x07 \x1b[31mred\x1b[0m end\n');
  });

  it('gives the same answer however the output is cut into chunks', () => {
    const text = `a ${clipboardWrite} \x1b[32mgreen\x1b[0m ${windowTitle} \x1b[2K\x1b[8mx\x1b[0m \x1b`;
    const whole = new TerminalSanitizer();
    const expected = whole.write(text) + whole.end();
    for (let first = 0; first <= text.length; first += 1) {
      for (const second of [first, Math.min(text.length, first + 1), Math.min(text.length, first + 3)]) {
        const sanitizer = new TerminalSanitizer();
        const pieces = [text.slice(0, first), text.slice(first, second), text.slice(second)];
        const joined = pieces.map((piece) => sanitizer.write(piece)).join('') + sanitizer.end();
        expect(joined, `cut at ${first}, ${second}`).toBe(expected);
      }
    }
    expect(withoutColours(expected)).not.toMatch(controls);
    expect(expected).toContain('\x1b[32mgreen\x1b[0m');
  });

  it('does not hold back a long run of parameters waiting for a colour', () => {
    const sanitizer = new TerminalSanitizer();
    const written = sanitizer.write(`\x1b[${'1;'.repeat(100)}`);
    expect(written.startsWith('\\x1b[1;')).toBe(true);
  });

  it('writes what it held back, visibly, when the output is over', () => {
    const stream = captureStream(true);
    writeOutput(stream, 'last line\x1b[1');
    expect(stream.written()).toBe('last line');
    flushOutput(stream);
    expect(stream.written()).toBe('last line\\x1b[1');
  });
});

describe('printJson on a terminal', () => {
  it('stays valid JSON with the same value, and holds nothing a terminal acts on', () => {
    const stdout = captureStream(true);
    const value = { stdout: `out ${clipboardWrite} \u009d52;c;eA==\u0007 \u007f end`, exitCode: 0 };
    printJson({ stdout } as unknown as CliIo, value);
    expect(stdout.written()).not.toMatch(controls);
    expect(JSON.parse(stdout.written())).toEqual(value);
  });
});

describe('writeOutput to a pipe', () => {
  it('passes the bytes unchanged', () => {
    const stream = captureStream(false);
    const text = `raw ${clipboardWrite} ${windowTitle} \x1b[2J\x1b[31mred\x1b[0m \u009d\x1b`;
    writeOutput(stream, text);
    flushOutput(stream);
    expect(stream.written()).toBe(text);
  });
});
