/**
 * `pycage requirements <file | ->`: the packages a script needs, one per line, pinned to the newest
 * version the configured index offers where it answers (unpinned, with a warning, where it does not).
 */
import { describeIndexFacts, popularListMonth, requirementsForScript, type RequirementDetail } from '../../requirements/index.js';
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
  const { flags } = parsed;
  // Installer options and URL requirements in a PEP 723 block are refused here as `pycage run` refuses them.
  const inferred = await requirementsForScript({
    code: source.text,
    author: 'user',
    pythonVersion: flags.python,
    packageSource: packageSourceFrom(flags, io),
    policy: flags,
    localModules: local.names,
    logger: reporter.logSink,
  });
  for (const warning of inferred.warnings) reporter.warn(warning);
  if (flags.json) printJson(io, inferred);
  else if (flags.explain) {
    const width = Math.max(0, ...inferred.details.map((detail) => detail.requirement.length));
    const lines = inferred.details.map((detail) => `${detail.requirement.padEnd(width)}  # ${explain(detail)}`);
    if (lines.length > 0) writeOutput(io.stdout, `${lines.join('\n')}\n`);
  } else if (inferred.requirements.length > 0) writeOutput(io.stdout, `${inferred.requirements.join('\n')}\n`);
  return 0;
}

/** `mapped from import yaml`, `popular (rank 18)`, `unknown: the index says no such project`... */
function explain(detail: RequirementDetail): string {
  const from = detail.module === undefined || detail.module === detail.name ? '' : ` from import ${detail.module}`;
  let text: string;
  switch (detail.origin) {
    case 'declared':
      text = `declared${from}`;
      break;
    case 'local':
      text = `local (the --find-links folder)${from}`;
      break;
    case 'mapped':
      text = `mapped${from}`;
      break;
    case 'popular':
      text = `popular (rank ${detail.popularRank ?? '?'} of the most downloaded, list of ${popularListMonth})${from}`;
      break;
    case 'unknown':
      text = `unknown${from}: nothing vouches for it${detail.index === undefined ? '' : `; the index: ${describeIndexFacts(detail.index)}`}`;
      break;
  }
  return detail.refusal === undefined ? text : `${text}; REFUSED: ${detail.refusal.reason}`;
}
