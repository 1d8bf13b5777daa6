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
import { parseToml, TomlSyntaxError, type TomlTable, type TomlValue } from './toml.js';

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
// PEP 723 states it as a regular expression; read that way, a script with many opening lines in one run
// of comments takes quadratic time (a 520 KB script took 32 s), so the lines are scanned instead, once,
// with the same result.
const openingLine = /^# \/\/\/ ([a-zA-Z0-9-]+)$/;
const closingLine = '# ///';

/**
 * A line the block may hold. The expression's `.` and `$` stop at U+2028 and U+2029 too, so a line
 * holding one is not a comment line to it, and is not one here either.
 */
function isCommentLine(line: string): boolean {
  return (line === '#' || line.startsWith('# ')) && !/[\u2028\u2029]/.test(line);
}

/** Every metadata block in `lines` (each of which ended with a newline), in order: type and body lines. */
function findBlocks(lines: readonly string[]): Array<{ type: string; body: string[] }> {
  const blocks: Array<{ type: string; body: string[] }> = [];
  let index = 0;
  while (index < lines.length) {
    if (!isCommentLine(lines[index]!)) {
      index += 1;
      continue;
    }
    // A run of comment lines [start, end): a block opens and closes inside one run, at its last closing line.
    const start = index;
    let end = start;
    let lastClosing = -1;
    while (end < lines.length && isCommentLine(lines[end]!)) {
      if (lines[end] === closingLine) lastClosing = end;
      end += 1;
    }
    let line = start;
    while (line < end) {
      const opening = openingLine.exec(lines[line]!);
      // At least one line of content between the opening and the closing line.
      if (opening !== null && lastClosing >= line + 2) {
        blocks.push({ type: opening[1]!, body: lines.slice(line + 1, lastClosing) });
        line = lastClosing + 1;
      } else {
        line += 1;
      }
    }
    index = end;
  }
  return blocks;
}

/** Finds and reads the `script` metadata block, if the script has one. */
export function readScriptMetadata(code: string): ScriptMetadataResult {
  // Every piece is a line: only the last lacks a newline after it, and a block's closing line needs none.
  const lines = code.replace(/\r\n?/g, '\n').split('\n');
  const blocks = findBlocks(lines).filter((block) => block.type === 'script');
  if (blocks.length === 0) return { status: 'absent' };
  if (blocks.length > 1) return { status: 'invalid', problem: 'the script has more than one "# /// script" block' };
  const body = `${blocks[0]!.body.map((line) => (line.startsWith('# ') ? line.slice(2) : line.slice(1))).join('\n')}\n`;

  let document: TomlTable;
  try {
    document = parseToml(body);
  } catch (error) {
    if (error instanceof TomlSyntaxError) return { status: 'invalid', problem: `its TOML does not parse: ${error.message}` };
    throw error;
  }

  const dependencies = document.dependencies;
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
