/**
 * The one base class for every error pycage throws on purpose. Each stage subclasses it with its own
 * name and structured fields; the CLI maps `exitCode` straight to the process exit status, so a
 * subclass decides once, where it is defined, which of the design's exit codes it stands for.
 *
 * A failure of the user's script is never an error: it is a run result. Only infrastructure failures
 * (Docker, the model endpoint, bad input) throw.
 */

/** Process exit statuses of the CLI contract (DESIGN.md, "CLI contract"). */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  docker: 3,
  model: 4,
  /** Refused by a safety policy: an unknown package, a URL requirement. */
  policy: 5,
  timeout: 124,
  memory: 137,
  interrupted: 130,
} as const;

export interface PycageErrorOptions {
  cause?: unknown;
  /** Exit status the CLI uses when this error ends it. @default 1 */
  exitCode?: number;
  /** Whether trying the same thing again may work (rate limits, a restarting daemon). @default false */
  isRetryable?: boolean;
  /** One line telling the user what to do about it, printed under the message. */
  hint?: string;
}

export class PycageError extends Error {
  override readonly name: string = 'PycageError';
  readonly exitCode: number;
  readonly isRetryable: boolean;
  readonly hint: string | undefined;

  constructor(message: string, options: PycageErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.exitCode = options.exitCode ?? ExitCode.failure;
    this.isRetryable = options.isRetryable ?? false;
    this.hint = options.hint;
  }

  /** Works across copies of the module (a library bundled twice), unlike `instanceof`. */
  static isInstance(value: unknown): value is PycageError {
    return value instanceof Error && typeof (value as Partial<PycageError>).exitCode === 'number' && 'isRetryable' in value;
  }
}

/** Bad flags, a file that cannot be read, input that is not what the command takes. Exit 2. */
export class UsageError extends PycageError {
  override readonly name: string = 'UsageError';
  constructor(message: string, options: Omit<PycageErrorOptions, 'exitCode'> = {}) {
    super(message, { ...options, exitCode: ExitCode.usage });
  }
}

/** The operation was cancelled through its `abortSignal` (Ctrl-C in the CLI). Exit 130. */
export class AbortedError extends PycageError {
  override readonly name: string = 'AbortedError';
  constructor(message = 'Cancelled.', options: Omit<PycageErrorOptions, 'exitCode'> = {}) {
    super(message, { ...options, exitCode: ExitCode.interrupted });
  }
}

/**
 * Refused by one of pycage's safety policies before anything ran: a package nobody vouched for, a URL
 * requirement, a blocked host. Exit 5. `refused` names what was refused, for --json and for callers.
 */
export class PolicyError extends PycageError {
  override readonly name: string = 'PolicyError';
  readonly refused: readonly string[];
  constructor(message: string, options: Omit<PycageErrorOptions, 'exitCode'> & { refused?: readonly string[] } = {}) {
    super(message, { ...options, exitCode: ExitCode.policy });
    this.refused = options.refused ?? [];
  }
}
