/**
 * How the CLI tells the user what is going on, always on stderr so stdout stays the script's own:
 * spinners and @clack/prompts' framing on a terminal, plain `pycage: ...` lines otherwise (CI logs,
 * pipes), and `[Component] message` lines with --verbose.
 */
import type { LogEntry, LogSink } from '../logger.js';
import { colorsEnabled, createColors, type Colors } from './colors.js';
import { highlightPython } from './highlight.js';
import { isInteractive, type CliIo } from './io.js';
import { createSpinner, type Spinner } from './spinner.js';

export type Clack = typeof import('@clack/prompts');

export interface ReporterOptions {
  verbose: boolean;
  /** With --json nothing but warnings and errors is printed, unless --verbose asks for more. */
  quiet: boolean;
}

export class Reporter {
  readonly colors: Colors;
  readonly fancy: boolean;
  /** A log sink for `--verbose`: every component's lines, dimmed, as `[Component] message`. */
  readonly logSink: LogSink | undefined;
  readonly #io: CliIo;
  readonly #options: ReporterOptions;
  #clack: Clack | undefined;
  #prompts: Promise<Clack> | undefined;
  #spinner: Spinner | undefined;

  constructor(io: CliIo, options: ReporterOptions) {
    this.#io = io;
    this.#options = options;
    this.colors = createColors(colorsEnabled(io.stderr, io.env));
    // Verbose log lines would tear through a spinner's redraws, so verbose output is always plain.
    this.fancy = isInteractive(io) && !options.verbose;
    // Made once: commands read it often, and each read of a getter would make a new function.
    this.logSink = options.verbose
      ? (entry: LogEntry) => {
          const text = `[${entry.component}] ${entry.message}`;
          io.stderr.write(`${entry.level === 'warn' || entry.level === 'error' ? this.colors.yellow(text) : this.colors.dim(text)}\n`);
        }
      : undefined;
  }

  /** Loads @clack/prompts only when a terminal will show it: plain output must stay cheap. */
  async ready(): Promise<void> {
    if (this.fancy && this.#clack === undefined) this.#clack = await import('@clack/prompts');
  }

  /**
   * @clack/prompts for asking the user: the one ready() loaded, or, when the output is plain (a
   * session with --verbose still prompts), loaded on first use, once.
   */
  prompts(): Promise<Clack> {
    if (this.#clack !== undefined) return Promise.resolve(this.#clack);
    this.#prompts ??= import('@clack/prompts');
    return this.#prompts;
  }

  /**
   * Something is under way (the model, an image build, an install): a spinner, or one line. A
   * `brief` step (starting a warm sandbox, reading imports) shows only as a spinner: in a log it
   * would be noise.
   */
  status(message: string, options: { brief?: boolean } = {}): void {
    if (this.#options.quiet) return;
    if (this.fancy && this.#clack !== undefined) {
      if (this.#spinner === undefined) {
        // Not clack's spinner: it turns Ctrl-C into process.exit(0) (see spinner.ts).
        this.#spinner = createSpinner({ output: this.#io.stderr, colors: this.colors });
        this.#spinner.start(message);
      } else {
        this.#spinner.message(message);
      }
      return;
    }
    if (options.brief !== true) this.#line(message);
  }

  /** The thing under way finished; with a message, say how. */
  done(message?: string): void {
    if (this.#spinner !== undefined) {
      const spinner = this.#spinner;
      this.#spinner = undefined;
      if (message === undefined || this.#options.quiet) spinner.clear();
      else spinner.stop(message);
      return;
    }
    if (message !== undefined && !this.#options.quiet) this.success(message);
  }

  /** Stops any spinner without a trace, before the script's own output or a prompt. */
  pause(): void {
    this.done();
  }

  info(message: string): void {
    if (this.#options.quiet) return;
    this.pause();
    if (this.fancy && this.#clack !== undefined) this.#clack.log.info(message, { output: this.#io.stderr });
    else this.#line(message);
  }

  success(message: string): void {
    if (this.#options.quiet) return;
    this.pause();
    if (this.fancy && this.#clack !== undefined) this.#clack.log.success(message, { output: this.#io.stderr });
    else this.#line(message);
  }

  warn(message: string): void {
    this.pause();
    if (this.fancy && this.#clack !== undefined) this.#clack.log.warn(message, { output: this.#io.stderr });
    else this.#line(`warning: ${message}`, this.colors.yellow);
  }

  error(message: string, hint?: string): void {
    this.pause();
    const text = hint === undefined ? message : `${message}\n${hint}`;
    if (this.fancy && this.#clack !== undefined) this.#clack.log.error(text, { output: this.#io.stderr });
    else {
      this.#line(`error: ${message}`, this.colors.red);
      if (hint !== undefined) this.#line(hint);
    }
  }

  /**
   * Shows code, highlighted on a colour terminal. The lines are printed as they are, with no gutter
   * before them, so that code selected on the screen pastes as code.
   */
  code(code: string, title: string): void {
    if (this.#options.quiet) return;
    this.pause();
    const body = highlightPython(code.replace(/\s+$/, ''), this.colors);
    if (this.fancy && this.#clack !== undefined) {
      this.#clack.log.step(this.colors.bold(title), { output: this.#io.stderr });
      this.#io.stderr.write(`${body}\n\n`);
      return;
    }
    this.#line(`${title}:`);
    const rule = this.colors.dim('-'.repeat(40));
    this.#io.stderr.write(`${rule}\n${body}\n${rule}\n`);
  }

  /**
   * The model's own words (a refusal, a question back), shown whole. Control characters other than
   * line breaks and tabs are taken out: the text is the model's, not pycage's, and must not drive the
   * terminal.
   */
  words(text: string, title: string): void {
    this.pause();
    const clean = text.replace(/\r\n?/g, '\n').replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '').trim();
    if (this.fancy && this.#clack !== undefined) {
      this.#clack.log.step(this.colors.bold(title), { output: this.#io.stderr });
      this.#clack.log.message(clean.split('\n'), { output: this.#io.stderr });
      return;
    }
    this.#line(`${title}:`);
    this.#io.stderr.write(`${clean}\n`);
  }

  #line(message: string, style: (text: string) => string = (text) => text): void {
    this.#io.stderr.write(`${style(`pycage: ${message}`)}\n`);
  }
}

export function formatDuration(milliseconds: number): string {
  if (milliseconds < 1000) return `${Math.round(milliseconds)} ms`;
  if (milliseconds < 60_000) return `${Number((milliseconds / 1000).toFixed(1))} s`;
  const minutes = Math.floor(milliseconds / 60_000);
  const seconds = Math.round((milliseconds % 60_000) / 1000);
  return seconds === 0 ? `${minutes} min` : `${minutes} min ${seconds} s`;
}

export function formatBytes(bytes: number): string {
  if (bytes >= 2 ** 30 && bytes % 2 ** 30 === 0) return `${bytes / 2 ** 30} GiB`;
  if (bytes >= 2 ** 20) return `${Math.round(bytes / 2 ** 20)} MiB`;
  if (bytes >= 2 ** 10) return `${Math.round(bytes / 2 ** 10)} KiB`;
  return `${bytes} B`;
}
