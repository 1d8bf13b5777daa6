/**
 * Tells Python from the other things models put in code blocks and around them: shell commands,
 * `pip install` lines, JSON, program output, prose. These are line-level heuristics, not a parser:
 * they only have to decide which block to run, and a wrong guess ends in a Python error that the
 * agent loop sends back to the model, never in running a shell command.
 */

/** Info-string words that mean "this block is Python". */
const pythonLanguages = new Set(['python', 'py', 'python3', 'py3', 'ipython', 'ipython3']);

export function isPythonLanguage(language: string | undefined): boolean {
  return language !== undefined && pythonLanguages.has(language);
}

const installCommand =
  /^(?:[!%]\s*)?(?:\$\s+)?(?:sudo\s+)?(?:pip3?|python(?:3(?:\.\d+)?)?\s+-m\s+pip|uv\s+pip|uv|conda|mamba|poetry|pipenv|apt(?:-get)?|brew|npm|yarn)\s+(?:install|add)\b/;

/** A block made only of package installs (`pip install requests`): tagged python or not, it is not a program. */
export function isInstallOnly(code: string): boolean {
  const lines = meaningfulLines(code);
  return lines.length > 0 && lines.every((line) => installCommand.test(line.trim()));
}

/** `{...}` or `[...]` that parses as JSON: data, not a program. */
export function isJson(code: string): boolean {
  const trimmed = code.trim();
  if (!/^[[{]/.test(trimmed)) return false;
  try {
    JSON.parse(trimmed);
    return true;
  } catch {
    return false;
  }
}

/** Lines of code that count: neither blank nor only a comment. */
export function countCodeLines(code: string): number {
  return meaningfulLines(code).length;
}

export interface PythonLook {
  /** Top-level lines (not inside brackets, strings or an indented body) that read as Python statements. */
  pythonLines: number;
  /** Top-level lines that do not: prose, shell commands, program output. */
  otherLines: number;
  /** Whether an `import`, `def`, `class`, `print(` or `if __name__` appears: something only a program has. */
  hasProgramSignal: boolean;
}

const compoundStatement = /^(?:async\s+)?(?:if|elif|while|with|for|except|match|case)\b.*:\s*(?:#.*)?$|^(?:async\s+)?(?:if|elif|while|with|for)\b.*:\s*\S/;
const simpleKeywordStatement =
  /^(?:else|try|finally)\s*:|^(?:return|raise|pass|break|continue|global|nonlocal|assert|del|yield|await)\b/;
const importStatement =
  /^import\s+[A-Za-z_][\w.]*(?:\s+as\s+\w+)?(?:\s*,\s*[A-Za-z_][\w.]*(?:\s+as\s+\w+)?)*\s*(?:#.*)?$|^from\s+\.*[\w.]*\s+import\s+\S/;
const definition = /^(?:async\s+)?def\s+\w+\s*\(|^class\s+\w+\s*[(:]/;
const decorator = /^@[A-Za-z_][\w.]*/;
/** `name(`, `name[`, `name.attr = `, `name += `, `a, b = `: calls, indexing and assignments. */
const expressionStatement =
  /^[A-Za-z_][\w.]*\s*(?:\(|\[|=(?!=)|[-+*/%@&|^]=|\/\/=|\*\*=|>>=|<<=)|^[A-Za-z_][\w.]*(?:\s*,\s*\*?[A-Za-z_][\w.]*)+\s*=(?!=)/;
/** `count: int = 0`, an annotated assignment, and nothing like "Note: this is the code". */
const annotatedAssignment = /^[A-Za-z_]\w*\s*:\s*[A-Za-z_][\w.]*(?:\[[^\]]*\])?(?:\s*\|\s*[A-Za-z_][\w.]*(?:\[[^\]]*\])?)*\s*(?:=.*)?$/;
const docstring = /^[rRbBuUfF]{0,2}(?:"""|''')/;
const programSignal = /^(?:import\s|from\s+\S+\s+import\s|(?:async\s+)?def\s|class\s|if\s+__name__\s*==)|\bprint\s*\(/m;

function isPythonStatement(line: string): boolean {
  return (
    line.startsWith('#') ||
    importStatement.test(line) ||
    definition.test(line) ||
    decorator.test(line) ||
    compoundStatement.test(line) ||
    simpleKeywordStatement.test(line) ||
    expressionStatement.test(line) ||
    annotatedAssignment.test(line) ||
    docstring.test(line)
  );
}

/**
 * Reads `code` line by line, skipping what belongs to an earlier statement (lines inside open
 * brackets, triple-quoted strings, after a backslash, or indented under a block), and judges the rest.
 */
export function lookAtPython(code: string): PythonLook {
  let pythonLines = 0;
  let otherLines = 0;
  let depth = 0;
  let openTripleQuote: string | undefined;
  let continued = false;
  for (const rawLine of code.split('\n')) {
    const line = rawLine.trimEnd();
    const statementStart = depth === 0 && openTripleQuote === undefined && !continued;
    if (statementStart && line.trim() !== '' && !/^\s/.test(line)) {
      if (isPythonStatement(line)) pythonLines += 1;
      else otherLines += 1;
    }
    ({ depth, openTripleQuote } = scanLine(line, depth, openTripleQuote));
    continued = openTripleQuote === undefined && line.endsWith('\\');
  }
  return { pythonLines, otherLines, hasProgramSignal: programSignal.test(code) };
}

/** Follows brackets and strings through one line, so the next line knows whether it starts a statement. */
function scanLine(line: string, depth: number, openTripleQuote: string | undefined): { depth: number; openTripleQuote: string | undefined } {
  let index = 0;
  while (index < line.length) {
    if (openTripleQuote !== undefined) {
      const end = line.indexOf(openTripleQuote, index);
      if (end === -1) return { depth, openTripleQuote };
      index = end + 3;
      openTripleQuote = undefined;
      continue;
    }
    const character = line[index];
    if (character === '#') break;
    if (character === '"' || character === "'") {
      const triple = character.repeat(3);
      if (line.startsWith(triple, index)) {
        openTripleQuote = triple;
        index += 3;
        continue;
      }
      const end = findStringEnd(line, index + 1, character);
      if (end === -1) break;
      index = end + 1;
      continue;
    }
    if (character === '(' || character === '[' || character === '{') depth += 1;
    else if (character === ')' || character === ']' || character === '}') depth = Math.max(0, depth - 1);
    index += 1;
  }
  return { depth, openTripleQuote };
}

function findStringEnd(line: string, from: number, quote: string): number {
  for (let index = from; index < line.length; index += 1) {
    if (line[index] === '\\') index += 1;
    else if (line[index] === quote) return index;
  }
  return -1;
}

function meaningfulLines(code: string): string[] {
  return code.split('\n').filter((line) => line.trim() !== '' && !line.trim().startsWith('#'));
}
