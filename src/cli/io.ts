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
  // pycage owns SIGINT/SIGTERM for its whole life: a listener stays installed (so nothing else turns a
  // Ctrl-C into an abrupt exit while containers are being removed) and passes each signal to the
  // command's current handler. With no handler, or at the second signal, the user will not wait.
  const handlers = new Set<(signal: 'SIGINT' | 'SIGTERM') => void>();
  let installed = false;
  let received = 0;
  const dispatch = (signal: 'SIGINT' | 'SIGTERM'): void => {
    received += 1;
    if (handlers.size === 0 || received > 1) process.exit(signal === 'SIGINT' ? 130 : 143);
    for (const handler of handlers) handler(signal);
  };
  return {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    onSignal(handler) {
      if (!installed) {
        installed = true;
        process.on('SIGINT', () => dispatch('SIGINT'));
        process.on('SIGTERM', () => dispatch('SIGTERM'));
      }
      handlers.add(handler);
      return () => {
        handlers.delete(handler);
        if (handlers.size === 0) received = 0;
      };
    },
  };
}

/** Prompts need both a keyboard and a screen; pycage draws them on stderr so stdout stays the script's. */
export function isInteractive(io: CliIo): boolean {
  return io.stdin.isTTY === true && io.stderr.isTTY === true;
}
