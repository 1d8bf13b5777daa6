/**
 * `pycage extract [file | -]`: prints the Python block of a model's answer, as pycage would run it.
 * No block is exit 4 with the reason, like a request whose answers never held code.
 */
import { extractCode } from '../../extract/index.js';
import type { ParsedCommand } from '../args.js';
import { readSource } from '../input.js';
import type { CliIo } from '../io.js';
import { printJson, writeOutput } from '../output.js';
import type { Reporter } from '../reporter.js';

export default async function extract(parsed: ParsedCommand, io: CliIo, reporter: Reporter): Promise<number> {
  const source = await readSource(io, parsed.positionals[0], "a model's answer");
  const extracted = extractCode(source.text);
  if (parsed.flags.json) {
    printJson(io, extracted);
    return 0;
  }
  if (parsed.flags.verbose) reporter.info(`rule ${extracted.rule}: ${extracted.reason}`);
  writeOutput(io.stdout, extracted.code.endsWith('\n') ? extracted.code : `${extracted.code}\n`);
  return 0;
}
