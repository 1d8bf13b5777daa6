/**
 * The command-line interface: parses the command line, loads only the command asked for (so
 * `pycage --help` stays fast), and turns errors into one clear message and the design's exit status.
 * `runCli` takes its I/O as an argument, so tests drive it like a user at a terminal or in a pipe.
 */
import { readFileSync } from 'node:fs';
import { ExitCode, PycageError } from '../errors.js';
import { parseCommandLine, wantsJson, type CommandName, type ParsedCommand } from './args.js';
import { helpText } from './help.js';
import { isInteractive, type CliIo } from './io.js';
import type { Reporter } from './reporter.js';

export { nodeIo } from './io.js';
export type { CliIo } from './io.js';

type Command = (parsed: ParsedCommand, io: CliIo, reporter: Reporter) => Promise<number>;

async function loadCommand(name: Exclude<CommandName, 'help' | 'version'>): Promise<Command> {
  switch (name) {
    case 'request':
      return (await import('./commands/request.js')).default;
    case 'session':
      return (await import('./commands/session.js')).default;
    case 'run':
      return (await import('./commands/run.js')).default;
    case 'requirements':
      return (await import('./commands/requirements.js')).default;
    case 'extract':
      return (await import('./commands/extract.js')).default;
    case 'prune':
      return (await import('./commands/prune.js')).default;
    case 'doctor':
      return (await import('./commands/doctor.js')).default;
  }
}

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let parsed: ParsedCommand;
  try {
    parsed = parseCommandLine(argv);
  } catch (error) {
    io.stderr.write(`pycage: ${(error as Error).message}\n`);
    if (PycageError.isInstance(error) && error.hint !== undefined) io.stderr.write(`${error.hint}\n`);
    // --json promises one object on stdout, a bad command line included.
    if (wantsJson(argv)) {
      const name = PycageError.isInstance(error) ? error.name : 'UsageError';
      io.stdout.write(`${JSON.stringify({ exitCode: ExitCode.usage, error: { name, message: (error as Error).message } }, null, 2)}\n`);
    }
    return ExitCode.usage;
  }
  if (parsed.command === 'help' || parsed.flags.help) {
    io.stdout.write(helpText);
    return ExitCode.ok;
  }
  if (parsed.command === 'version') {
    io.stdout.write(`pycage ${packageVersion()}\n`);
    return ExitCode.ok;
  }
  if (parsed.command === 'session' && !isInteractive(io)) {
    io.stderr.write(
      'pycage: with no request, pycage starts an interactive session, which needs a terminal.\n' +
        'Pass a request instead: pycage "print the first 10 primes" --yes   (see pycage --help)\n',
    );
    return ExitCode.usage;
  }

  const { Reporter } = await import('./reporter.js');
  const reporter = new Reporter(io, { verbose: parsed.flags.verbose, quiet: parsed.flags.json && !parsed.flags.verbose });
  try {
    await reporter.ready();
    const command = await loadCommand(parsed.command);
    return await command(parsed, io, reporter);
  } catch (error) {
    return reportError(error, parsed, io, reporter);
  }
}

function reportError(error: unknown, parsed: ParsedCommand, io: CliIo, reporter: Reporter): number {
  let exitCode: number;
  let json: { name: string; message: string };
  if (PycageError.isInstance(error)) {
    reporter.error(error.message, error.hint);
    exitCode = error.exitCode;
    json = { name: error.name, message: error.message };
  } else {
    // Anything else is a bug in pycage, not the user's fault: say so, keep the stack for a report.
    const message = error instanceof Error ? error.message : String(error);
    reporter.error(`Unexpected error: ${message}`, 'This is a bug in pycage; run again with PYCAGE_DEBUG=1 for details and report it.');
    exitCode = ExitCode.failure;
    json = { name: 'Error', message };
  }
  if (parsed.flags.json) io.stdout.write(`${JSON.stringify({ exitCode, error: json }, null, 2)}\n`);
  const stack = error instanceof Error ? error.stack : undefined;
  if (io.env.PYCAGE_DEBUG !== undefined && stack !== undefined) io.stderr.write(`${stack}\n`);
  return exitCode;
}

function packageVersion(): string {
  const file = new URL('../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}
