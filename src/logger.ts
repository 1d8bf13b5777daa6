/**
 * The library never writes to the console. Components log through a `Logger` whose sink the caller
 * provides; without one, log lines go nowhere. The CLI's `--verbose` installs a sink that prints
 * `[Component] message`, in the manner of the seed's `[IsolatedExecutionRuntime]` lines.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogEntry {
  level: LogLevel;
  /** Which part of pycage speaks: `Runtime`, `Sandbox`, `Pool`, `Generator`, `Requirements`, `Agent`... */
  component: string;
  message: string;
}

export type LogSink = (entry: LogEntry) => void;

export class Logger {
  readonly #sink: LogSink | undefined;
  readonly component: string;

  constructor(sink?: LogSink, component = 'pycage') {
    this.#sink = sink;
    this.component = component;
  }

  /** The same sink, speaking for another component. */
  child(component: string): Logger {
    return new Logger(this.#sink, component);
  }

  debug(message: string): void {
    this.#write('debug', message);
  }

  info(message: string): void {
    this.#write('info', message);
  }

  warn(message: string): void {
    this.#write('warn', message);
  }

  error(message: string): void {
    this.#write('error', message);
  }

  #write(level: LogLevel, message: string): void {
    if (this.#sink === undefined) return;
    try {
      this.#sink({ level, component: this.component, message });
    } catch {
      // A broken sink must not break the operation it was only watching.
    }
  }
}

/** Accepts either a ready `Logger` or a bare sink function, as public options do. */
export function toLogger(logger: Logger | LogSink | undefined, component: string): Logger {
  if (logger instanceof Logger) return logger.child(component);
  return new Logger(logger, component);
}
