/**
 * Reads the modules a Python script imports, with tree-sitter's Python grammar rather than patterns,
 * so that strings, comments and odd layouts (`import a . b`, parenthesised name lists) read as Python
 * reads them.
 *
 * What counts: `import a.b [as c], d`, `from a.b import c`, at any depth (try/except, if, functions,
 * classes), and `__import__('x')` / `importlib.import_module('x')` called with a plain string literal.
 * What does not: relative imports (`from . import x`, the script's own package), `from __future__`,
 * and dynamic imports of computed names. Imports under `if TYPE_CHECKING:` are reported but marked,
 * because only type checkers read them: they are not needed to run the script.
 *
 * Broken code never throws: tree-sitter turns what it cannot read into ERROR nodes and reads the rest.
 * Lines inside an ERROR region that look like import statements are read again on their own, so one
 * unclosed bracket does not hide the imports after it.
 */
import type { Node, Parser, Tree } from 'web-tree-sitter';
import { PythonParserError } from './errors.js';
import { getPythonParser, parseWith } from './python-parser.js';

export interface ImportedModule {
  /** Full dotted module name: `a.b` for `import a.b` and for `from a.b import c`. */
  module: string;
  /** For `from a.b import c, d as e`: `['c', 'd']`; `['*']` for a star import; empty for the other forms. */
  names: string[];
  /** `import`, `from`, or `dynamic` for `__import__('x')` and `importlib.import_module('x')`. */
  form: 'import' | 'from' | 'dynamic';
  /** Inside `if TYPE_CHECKING:`: read by type checkers, never executed. */
  typeCheckingOnly: boolean;
  /** 1-based line of the statement. */
  line: number;
}

/**
 * Every import the script makes, in the order of the source, duplicates included. Not cached: the
 * costly part, loading the grammar, is done once per process by `getPythonParser`; a parse itself takes
 * milliseconds, so a caller that reads the same script twice pays little and nothing is kept between calls.
 */
export async function readImports(code: string): Promise<ImportedModule[]> {
  const parser = await getPythonParser();
  const found = parseWith(parser, code, collectImports);
  if (found === undefined) throw new PythonParserError('The Python parser returned no tree.');
  if (found.errorRows.size > 0) {
    const seen = new Set(found.imports.map((entry) => `${entry.line} ${entry.module}`));
    for (const entry of rereadErrorLines(parser, code, found.errorRows)) {
      if (seen.has(`${entry.line} ${entry.module}`)) continue;
      seen.add(`${entry.line} ${entry.module}`);
      found.imports.push(entry);
    }
    found.imports.sort((left, right) => left.line - right.line);
  }
  return found.imports;
}

/**
 * The distinct modules a script needs at run time, full dotted names in source order: no relative
 * imports, no `__future__`, nothing that only an `if TYPE_CHECKING:` block imports.
 */
export async function parseImports(code: string): Promise<string[]> {
  const modules = new Set<string>();
  for (const entry of await readImports(code)) {
    if (!entry.typeCheckingOnly) modules.add(entry.module);
  }
  return [...modules];
}

interface Collected {
  imports: ImportedModule[];
  /** Source rows covered by ERROR nodes, for the second reading. */
  errorRows: Set<number>;
}

function collectImports(tree: Tree): Collected {
  const imports: ImportedModule[] = [];
  const errorRows = new Set<number>();
  const cursor = tree.walk();
  try {
    for (;;) {
      const node = cursor.currentNode;
      const descend = visit(node, imports);
      if (node.type === 'ERROR') {
        for (let row = node.startPosition.row; row <= node.endPosition.row; row += 1) errorRows.add(row);
      }
      if (descend && cursor.gotoFirstChild()) continue;
      while (!cursor.gotoNextSibling()) {
        if (!cursor.gotoParent()) return { imports, errorRows };
      }
    }
  } finally {
    cursor.delete();
  }
}

/** Records what `node` imports; returns whether its children may hold more imports. */
function visit(node: Node, imports: ImportedModule[]): boolean {
  switch (node.type) {
    case 'import_statement': {
      for (const module of importedNames(node)) imports.push(entry(node, module, [], 'import'));
      return false;
    }
    case 'import_from_statement': {
      const moduleNode = node.childForFieldName('module_name');
      // `relative_import` is `from . import x` / `from .a import x`: the script's own package.
      if (moduleNode === null || moduleNode.type !== 'dotted_name') return false;
      const module = dottedName(moduleNode);
      if (module === undefined) return false;
      const names: string[] = [];
      for (const child of node.namedChildren) {
        if (child === null) continue;
        if (child.type === 'wildcard_import') names.push('*');
      }
      names.push(...importedNames(node));
      imports.push(entry(node, module, names, 'from'));
      return false;
    }
    case 'future_import_statement':
      return false;
    case 'call': {
      const module = dynamicImport(node);
      if (module !== undefined) imports.push(entry(node, module, [], 'dynamic'));
      return true;
    }
    default:
      return true;
  }
}

/** The `name` fields of an import statement, without their `as` aliases: `a.b` and `c` in `import a.b, c as d`. */
function importedNames(statement: Node): string[] {
  const names: string[] = [];
  for (const name of statement.childrenForFieldName('name')) {
    const dotted = name.type === 'aliased_import' ? name.childForFieldName('name') : name;
    const module = dotted === null ? undefined : dottedName(dotted);
    if (module !== undefined) names.push(module);
  }
  return names;
}

function entry(node: Node, module: string, names: string[], form: ImportedModule['form']): ImportedModule {
  return { module, names, form, typeCheckingOnly: isTypeCheckingOnly(node), line: node.startPosition.row + 1 };
}

/** `a . b` and `a.b` are the same module; comments between the parts are not part of it. */
function dottedName(node: Node): string | undefined {
  if (node.type !== 'dotted_name') return undefined;
  const parts = node.namedChildren.filter((child): child is Node => child !== null && child.type === 'identifier').map((child) => child.text);
  return parts.length > 0 ? parts.join('.') : undefined;
}

const identifier = /^[\p{L}\p{Nl}_][\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}]*$/u;

/** `__import__('x')`, `import_module('x')`, `importlib.import_module('x')`: the literal module name. */
function dynamicImport(call: Node): string | undefined {
  const callee = call.childForFieldName('function');
  if (callee === null) return undefined;
  const name = callee.type === 'identifier' ? callee.text : callee.type === 'attribute' ? callee.childForFieldName('attribute')?.text : undefined;
  if (name !== '__import__' && name !== 'import_module') return undefined;
  const first = call.childForFieldName('arguments')?.namedChildren[0];
  if (first === null || first === undefined || first.type !== 'string') return undefined;
  const text = plainStringValue(first);
  // A leading dot is relative to a package argument: the script's own code.
  if (text === undefined || text.startsWith('.')) return undefined;
  const parts = text.split('.');
  return parts.every((part) => identifier.test(part)) ? text : undefined;
}

/** The value of a string literal with no prefix magic, interpolation or escapes; otherwise undefined. */
function plainStringValue(node: Node): string | undefined {
  let value = '';
  for (const child of node.children) {
    if (child === null) continue;
    switch (child.type) {
      case 'string_start':
        if (/[fbtFBT]/.test(child.text)) return undefined;
        break;
      case 'string_content':
        if (child.namedChildCount > 0) return undefined;
        value += child.text;
        break;
      case 'string_end':
        break;
      default:
        return undefined;
    }
  }
  return value;
}

/** True inside the body of `if TYPE_CHECKING:` or `if typing.TYPE_CHECKING:` (not in its `else`). */
function isTypeCheckingOnly(node: Node): boolean {
  let child: Node = node;
  let parent = node.parent;
  while (parent !== null) {
    if (parent.type === 'if_statement') {
      const condition = parent.childForFieldName('condition');
      const consequence = parent.childForFieldName('consequence');
      if (condition && consequence?.equals(child) && namesTypeChecking(condition)) return true;
    }
    child = parent;
    parent = parent.parent;
  }
  return false;
}

function namesTypeChecking(condition: Node): boolean {
  if (condition.type === 'identifier') return condition.text === 'TYPE_CHECKING';
  if (condition.type === 'attribute') return condition.childForFieldName('attribute')?.text === 'TYPE_CHECKING';
  return false;
}

/**
 * Tree-sitter sometimes folds a whole statement into an ERROR node when the line before it is broken
 * (an unclosed bracket). Each such line that starts like an import is parsed again alone, and kept only
 * if it then reads as a complete, error-free statement.
 */
function rereadErrorLines(parser: Parser, code: string, rows: ReadonlySet<number>): ImportedModule[] {
  const lines = code.split(/\r\n|\r|\n/);
  const found: ImportedModule[] = [];
  for (const row of [...rows].sort((left, right) => left - right)) {
    const text = lines[row]?.trim();
    if (text === undefined || !/^(?:import|from)\s/.test(text)) continue;
    const imports = parseWith(parser, text, (tree) => (tree.rootNode.hasError ? [] : collectImports(tree).imports));
    for (const entry of imports ?? []) found.push({ ...entry, line: row + 1, typeCheckingOnly: false });
  }
  return found;
}
