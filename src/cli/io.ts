/**
 * The CLI's view of the outside world, injected so that commands and the session can be driven by
 * tests: streams, environment, working directory, and how to start an editor.
 */
import type { Readable, Writable } from 'node:stream';

export type InputStream = Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
export type OutputStream = Writable & { isTTY?: boolean; columns?: number };

export interface CliIo {
  stdin: InputStream;
  stdout: OutputStream;
  stderr: OutputStream;
  env: Record<string, string | undefined>;
  cwd: string;
  /** Registers a handler for SIGINT/SIGTERM; returns a function that removes it. */
  onSignal(handler: (signal: 'SIGINT' | 'SIGTERM') => void): () => void;
}

export function nodeIo(): CliIo {
  return {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    onSignal(handler) {
      // The first signal asks the command to stop cleanly; a second one means the user will not wait.
      let received = 0;
      const onSignal = (signal: 'SIGINT' | 'SIGTERM'): void => {
        received += 1;
        if (received > 1) process.exit(signal === 'SIGINT' ? 130 : 143);
        handler(signal);
      };
      const onInt = (): void => onSignal('SIGINT');
      const onTerm = (): void => onSignal('SIGTERM');
      process.on('SIGINT', onInt);
      process.on('SIGTERM', onTerm);
      return () => {
        process.off('SIGINT', onInt);
        process.off('SIGTERM', onTerm);
      };
    },
  };
}

/** Prompts need both a keyboard and a screen; pycage draws them on stderr so stdout stays the script's. */
export function isInteractive(io: CliIo): boolean {
  return io.stdin.isTTY === true && io.stderr.isTTY === true;
}
