/**
 * Writing to stdout/stderr safely: a reader that goes away (`pycage run x.py | head`) must not crash
 * pycage with EPIPE while it still has containers to remove.
 */
import type { CliIo, OutputStream } from './io.js';

const guarded = new WeakSet<OutputStream>();

export function writeOutput(stream: OutputStream, text: string): void {
  if (!guarded.has(stream)) {
    guarded.add(stream);
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
    });
  }
  if (!stream.destroyed) stream.write(text);
}

/** --json: exactly one object on stdout. */
export function printJson(io: CliIo, value: unknown): void {
  writeOutput(io.stdout, `${JSON.stringify(value, null, 2)}\n`);
}
