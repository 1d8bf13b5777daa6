/**
 * The progress spinner shown on a terminal while the model thinks, an image builds or packages
 * install. pycage draws its own rather than @clack/prompts' spinner because that one puts the
 * terminal in raw mode and answers Ctrl-C with `process.exit(0)`: the work in progress would not be
 * stopped, its containers not removed, and the exit status would say success. Here the terminal stays
 * in its normal mode, so Ctrl-C arrives as SIGINT and goes through pycage's own handling (exit 130 in
 * a command, back to the prompt in the session).
 */
import type { Colors } from './colors.js';
import type { OutputStream } from './io.js';

export interface Spinner {
  start(message: string): void;
  message(message: string): void;
  /** Stops, leaving `message` as a finished step. */
  stop(message: string): void;
  /** Stops and erases the line, leaving no trace. */
  clear(): void;
}

export interface SpinnerOptions {
  output: OutputStream;
  colors: Colors;
  /** Between frames. @default 80 */
  frameDelayMs?: number;
}

const frames = ['◒', '◐', '◓', '◑'];
const bar = '│';
const doneSymbol = '◇';
const hideCursor = '\u001b[?25l';
const showCursor = '\u001b[?25h';
const eraseLine = '\r\u001b[2K';

export function createSpinner(options: SpinnerOptions): Spinner {
  const { output, colors } = options;
  let timer: NodeJS.Timeout | undefined;
  let text = '';
  let frame = 0;
  let dots = 0;

  const columns = (): number => Math.max(20, output.columns ?? 80);
  const draw = (): void => {
    const symbol = colors.magenta(frames[frame % frames.length] ?? '');
    const suffix = '.'.repeat(Math.floor(dots) % 4);
    // One line only: a message wider than the terminal would wrap, and erasing one line would leave
    // the rest on screen at every frame.
    const line = `${text}${suffix}`.slice(0, columns() - 4);
    output.write(`${eraseLine}${symbol}  ${line}`);
    frame += 1;
    dots += 0.125;
  };
  const end = (): void => {
    if (timer === undefined) return;
    clearInterval(timer);
    timer = undefined;
    output.write(`${eraseLine}${showCursor}`);
    process.removeListener('exit', restoreCursor);
  };
  // A process that exits while the spinner turns (a second Ctrl-C) must not leave the cursor hidden.
  const restoreCursor = (): void => {
    output.write(showCursor);
  };

  return {
    start(message) {
      end();
      text = message.replace(/\.+$/, '');
      frame = 0;
      dots = 0;
      output.write(`${colors.dim(bar)}\n${hideCursor}`);
      process.on('exit', restoreCursor);
      draw();
      timer = setInterval(draw, options.frameDelayMs ?? 80);
      // A spinner never keeps pycage alive on its own.
      timer.unref();
    },
    message(message) {
      text = message.replace(/\.+$/, '');
    },
    stop(message) {
      const running = timer !== undefined;
      end();
      if (running) output.write(`${colors.green(doneSymbol)}  ${message}\n`);
    },
    clear() {
      end();
    },
  };
}
