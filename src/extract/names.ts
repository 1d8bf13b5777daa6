/**
 * Which top-level names a block of Python defines and which names it uses, read line by line (no
 * parser: extraction stays synchronous and cheap). Enough to tell a program split over several
 * blocks (definitions in one, the calls in the next) from blocks that each stand alone.
 */

const keywords = new Set([
  'False', 'None', 'True', 'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue', 'def', 'del', 'elif', 'else',
  'except', 'finally', 'for', 'from', 'global', 'if', 'import', 'in', 'is', 'lambda', 'nonlocal', 'not', 'or', 'pass', 'raise',
  'return', 'try', 'while', 'with', 'yield', 'match', 'case', 'self',
]);

export interface BlockNames {
  /** Names bound at the top level: functions, classes, imports, assignments, loop variables. */
  defined: Set<string>;
  /** Every name the block reads (attributes after a dot left out), wherever it appears. */
  used: Set<string>;
  /**
   * Whether the block does anything when run, beyond defining things: a top-level call, print,
   * loop, `if __name__ == "__main__":`... A block of definitions and imports alone does nothing.
   */
  acts: boolean;
}

export function readBlockNames(code: string): BlockNames {
  const text = withoutStringsAndComments(code);
  const defined = new Set<string>();
  let acts = false;
  for (const line of text.split('\n')) {
    // Indented lines belong to a definition above; a line that was only a string is a docstring.
    if (line.trim() === '' || /^\s/.test(line) || /^""\s*$/.test(line)) continue;
    const definition = /^(?:async\s+)?def\s+([A-Za-z_]\w*)/.exec(line) ?? /^class\s+([A-Za-z_]\w*)/.exec(line);
    const plainImport = /^import\s+(.+)$/.exec(line);
    const fromImport = /^from\s+\S+\s+import\s+(.+)$/.exec(line);
    const assignment = /^([A-Za-z_][\w]*(?:\s*,\s*[A-Za-z_]\w*)*)\s*(?::[^=]*)?=(?!=)/.exec(line);
    if (definition !== null) {
      defined.add(definition[1] ?? '');
    } else if (plainImport !== null) {
      for (const part of (plainImport[1] ?? '').split(',')) {
        const alias = /\bas\s+([A-Za-z_]\w*)/.exec(part)?.[1] ?? part.trim().split('.')[0]?.trim();
        if (alias) defined.add(alias);
      }
    } else if (fromImport !== null) {
      for (const part of (fromImport[1] ?? '').replace(/[()]/g, '').split(',')) {
        const alias = /\bas\s+([A-Za-z_]\w*)/.exec(part)?.[1] ?? part.trim();
        if (alias && alias !== '*') defined.add(alias);
      }
    } else if (/^@/.test(line)) {
      // A decorator belongs to the definition that follows.
    } else if (assignment !== null) {
      for (const name of (assignment[1] ?? '').split(',')) defined.add(name.trim());
      // An assignment from a call computes something: it acts (`data = load()`), a literal does not.
      if (/=\s*[^=].*\(/.test(line)) acts = true;
    } else {
      const loop = /^(?:async\s+)?for\s+([\w\s,]+?)\s+in\b/.exec(line);
      if (loop !== null) {
        for (const name of (loop[1] ?? '').split(',')) defined.add(name.trim());
      }
      acts = true;
    }
  }
  const used = new Set<string>();
  for (const match of text.matchAll(/(?<![\w.])([A-Za-z_]\w*)/g)) {
    const name = match[1] ?? '';
    if (!keywords.has(name)) used.add(name);
  }
  return { defined, used, acts };
}

/** The code with string literals emptied and comments removed, line structure kept. */
function withoutStringsAndComments(code: string): string {
  return code.replace(/[rRbBuUfF]{0,2}("""|''')[\s\S]*?(?:\1|$)|[rRbBuUfF]{0,2}("|')(?:\\.|(?!\2)[^\\\n])*(?:\2|$)|#[^\n]*/gm, (found) =>
    found.startsWith('#') ? '' : `""${'\n'.repeat((found.match(/\n/g) ?? []).length)}`,
  );
}
