/**
 * `pycage requirements <file | ->`: the packages a script needs, one per line, pinned to the newest
 * version the configured index offers where it answers (unpinned, with a warning, where it does not).
 */
import { inferRequirements } from '../../requirements/index.js';
import type { ParsedCommand } from '../args.js';
import { readSource } from '../input.js';
import type { CliIo } from '../io.js';
import { findLocalModules } from '../local-modules.js';
import { printJson, writeOutput } from '../output.js';
import type { Reporter } from '../reporter.js';
import { packageSourceFrom } from '../runtime-setup.js';

export default async function requirements(parsed: ParsedCommand, io: CliIo, reporter: Reporter): Promise<number> {
  const source = await readSource(io, parsed.positionals[0], 'a Python script', { python: true });
  const local = await findLocalModules(source.text, source.path);
  const inferred = await inferRequirements(source.text, {
    ...(parsed.flags.python === undefined ? {} : { pythonVersion: parsed.flags.python }),
    localModules: local.names,
    ...packageSourceFrom(parsed.flags, io),
    ...(reporter.logSink === undefined ? {} : { logger: reporter.logSink }),
  });
  for (const warning of inferred.warnings) reporter.warn(warning);
  if (parsed.flags.json) printJson(io, inferred);
  else if (inferred.requirements.length > 0) writeOutput(io.stdout, `${inferred.requirements.join('\n')}\n`);
  return 0;
}
