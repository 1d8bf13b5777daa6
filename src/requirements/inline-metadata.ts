/**
 * PEP 723 inline script metadata: a `# /// script` comment block whose TOML says what the script
 * needs. When a script carries one, its `dependencies` are the requirements and nothing is inferred.
 *
 *     # /// script
 *     # requires-python = ">=3.11"
 *     # dependencies = [
 *     #   "requests<3",
 *     #   "rich",
 *     # ]
 *     # ///
 */
import { parseToml, TomlSyntaxError, type TomlValue } from './toml.js';

export interface ScriptMetadata {
  /** The `dependencies` array as written; empty when the block has none. */
  dependencies: string[];
  /** The `requires-python` specifier, e.g. `>=3.11`. */
  requiresPython: string | undefined;
}

export type ScriptMetadataResult =
  | { status: 'absent' }
  | { status: 'valid'; metadata: ScriptMetadata }
  /** A block is there but cannot be used; `problem` says why, for a warning. */
  | { status: 'invalid'; problem: string };

// The block format of PEP 723: an opening `# /// TYPE` line, comment lines that are `#` alone or `# `
// followed by text, and a closing `# ///` line; the last closing line of a run of comments ends it.
const blockPattern = /^# \/\/\/ ([a-zA-Z0-9-]+)$\n((?:^#(?:| .*)$\n)+)^# \/\/\/$/gm;

/** Finds and reads the `script` metadata block, if the script has one. */
export function readScriptMetadata(code: string): ScriptMetadataResult {
  const text = `${code.replace(/\r\n?/g, '\n')}\n`;
  const blocks = [...text.matchAll(blockPattern)].filter((match) => match[1] === 'script');
  if (blocks.length === 0) return { status: 'absent' };
  if (blocks.length > 1) return { status: 'invalid', problem: 'the script has more than one "# /// script" block' };
  const body = (blocks[0]?.[2] ?? '')
    .split('\n')
    .map((line) => (line.startsWith('# ') ? line.slice(2) : line.slice(1)))
    .join('\n');

  let document;
  try {
    document = parseToml(body);
  } catch (error) {
    if (error instanceof TomlSyntaxError) return { status: 'invalid', problem: `its TOML does not parse: ${error.message}` };
    throw error;
  }

  const dependencies = document['dependencies'];
  if (dependencies !== undefined && !isStringArray(dependencies)) {
    return { status: 'invalid', problem: '"dependencies" must be an array of strings' };
  }
  const empty = (dependencies ?? []).find((dependency) => dependency.trim() === '');
  if (empty !== undefined) return { status: 'invalid', problem: '"dependencies" holds an empty string' };
  const requiresPython = document['requires-python'];
  if (requiresPython !== undefined && typeof requiresPython !== 'string') {
    return { status: 'invalid', problem: '"requires-python" must be a string' };
  }
  return { status: 'valid', metadata: { dependencies: (dependencies ?? []).map((dependency) => dependency.trim()), requiresPython } };
}

function isStringArray(value: TomlValue): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}
