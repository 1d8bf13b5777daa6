/**
 * `pycage prune`: removes every container, volume and image pycage made (they all carry its label),
 * for a clean slate or to free disk space. Environments are rebuilt on the next run that needs them.
 */
import { prune as pruneDocker } from '../../runtime/index.js';
import type { ParsedCommand } from '../args.js';
import type { CliIo } from '../io.js';
import { printJson } from '../output.js';
import type { Reporter } from '../reporter.js';

export default async function prune(parsed: ParsedCommand, io: CliIo, reporter: Reporter): Promise<number> {
  reporter.status('Removing what pycage made');
  const removed = await pruneDocker(reporter.logSink === undefined ? {} : { logger: reporter.logSink });
  reporter.done();
  if (parsed.flags.json) printJson(io, removed);
  else {
    reporter.success(
      `Removed ${plural(removed.containers, 'container')}, ${plural(removed.volumes, 'volume')} and ${plural(removed.images, 'image')}.`,
    );
  }
  return 0;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
