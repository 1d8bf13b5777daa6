/**
 * Writing to stdout/stderr safely:
 * - a reader that goes away (`pycage run x.py | head`) must not crash pycage with EPIPE while it still
 *   has containers to remove;
 * - on a terminal, what a script prints must not drive the terminal. Escape sequences can write the
 *   clipboard (OSC 52), set the window title (OSC 0), send DCS/APC/PM/SOS strings some terminals act
 *   on, or move the cursor and erase lines to hide what was printed. Only colours and text styles
 *   (SGR, `ESC [ ... m`, less "concealed") pass; every other escape and control character is written
 *   in a visible form (`\x1b]52;...`). Piped output is left byte for byte as the script wrote it.
 */
import type { CliIo, OutputStream } from './io.js';

const guarded = new WeakSet<OutputStream>();
const sanitizers = new WeakMap<OutputStream, TerminalSanitizer>();

export interface WriteOutputOptions {
  /** Neutralise escape sequences, as for a terminal. @default the stream's own `isTTY` */
  terminal?: boolean;
}

export function writeOutput(stream: OutputStream, text: string, options: WriteOutputOptions = {}): void {
  if (!guarded.has(stream)) {
    guarded.add(stream);
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
    });
  }
  if (stream.destroyed) return;
  if (!(options.terminal ?? stream.isTTY === true)) {
    stream.write(text);
    return;
  }
  let sanitizer = sanitizers.get(stream);
  if (sanitizer === undefined) {
    sanitizer = new TerminalSanitizer();
    sanitizers.set(stream, sanitizer);
  }
  const safe = sanitizer.write(text);
  if (safe !== '') stream.write(safe);
}

/**
 * Writes out what a terminal stream still holds back (the start of an escape sequence the output ended
 * in), in its visible form. Call it when a script's output is over.
 */
export function flushOutput(stream: OutputStream): void {
  const rest = sanitizers.get(stream)?.end() ?? '';
  if (rest !== '' && !stream.destroyed) stream.write(rest);
}

/**
 * --json: exactly one object on stdout. JSON.stringify leaves DEL and the C1 controls (U+0080-U+009F)
 * as they are, which a terminal may act on; written as `\u009d` they are the same JSON and inert.
 */
export function printJson(io: CliIo, value: unknown): void {
  const text = JSON.stringify(value, null, 2).replace(/[\u007f-\u009f]/g, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`);
  writeOutput(io.stdout, `${text}\n`);
}

const escapeCharacter = '\x1b';
/** Longest `ESC [ ...` held back while waiting to see whether it is a colour; longer ones are not. */
const maxHeldSequence = 64;

/** A control character as visible text: `\x1b`, `\x07`, `\x9d`. */
function visible(character: string): string {
  return `\\x${character.charCodeAt(0).toString(16).padStart(2, '0')}`;
}

/** What the slow path must look at: ESC and the other controls isDangerousControl names. */
const controlPattern = /[\x00-\x07\x0b\x0c\x0e-\x1f\x80-\x9f]/;

/** C0 controls other than tab, newline, carriage return and backspace (progress bars use those), and C1. */
function isDangerousControl(code: number): boolean {
  if (code === 0x09 || code === 0x0a || code === 0x0d || code === 0x08) return false;
  return code < 0x20 || (code >= 0x80 && code <= 0x9f);
}

/** Whether SGR parameters (`1;31`, `38;5;8`) leave text visible: parameter 8 conceals it. */
function isVisibleStyle(parameters: string): boolean {
  const fields = parameters.split(';');
  for (let index = 0; index < fields.length; index += 1) {
    const field = fields[index]!;
    // 38/48/58 take a colour after them (5;N or 2;R;G;B), whose numbers are not styles.
    if (field === '38' || field === '48' || field === '58') {
      index += fields[index + 1] === '5' ? 2 : fields[index + 1] === '2' ? 4 : 0;
      continue;
    }
    if (field.split(':')[0] === '8' || field === '08') return false;
  }
  return true;
}

/**
 * Neutralises terminal escapes in a stream of text, across chunks: a sequence split between two writes
 * is judged whole, because the start of a possible colour is held back until its end arrives.
 */
export class TerminalSanitizer {
  #held = '';

  /** The safe form of `text`, less any possible colour sequence at its end, held for the next call. */
  write(text: string): string {
    // Most output holds nothing to neutralise: it goes through as it is.
    if (this.#held === '' && !controlPattern.test(text)) return text;
    const input = this.#held + text;
    this.#held = '';
    let output = '';
    let index = 0;
    while (index < input.length) {
      const character = input[index]!;
      if (character === escapeCharacter) {
        const colour = /^\x1b\[([0-9;:]*)(m?)/.exec(input.slice(index, index + maxHeldSequence + 2));
        const atEnd = colour !== null && colour[2] === '' && index + colour[0].length === input.length;
        if (index === input.length - 1 || (atEnd && colour[0].length <= maxHeldSequence)) {
          // Perhaps the start of a colour: wait for the rest.
          this.#held = input.slice(index);
          break;
        }
        if (colour !== null && colour[2] === 'm' && isVisibleStyle(colour[1]!)) {
          output += colour[0];
          index += colour[0].length;
          continue;
        }
        // Anything else starting with ESC: the ESC is shown, so the rest is plain text to the terminal.
        output += visible(character);
        index += 1;
        continue;
      }
      const code = character.charCodeAt(0);
      output += isDangerousControl(code) ? visible(character) : character;
      index += 1;
    }
    return output;
  }

  /** What is still held, in visible form; the sanitizer starts afresh. */
  end(): string {
    const held = this.#held;
    this.#held = '';
    return held === '' ? '' : `${visible(escapeCharacter)}${held.slice(1)}`;
  }
}
