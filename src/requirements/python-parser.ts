/**
 * The one tree-sitter parser for Python, loaded on first use. web-tree-sitter and its WASM grammar cost
 * tens of milliseconds to load, so nothing imports them until a script actually needs reading, and the
 * loaded parser is then kept for the life of the process.
 */
import { createRequire } from 'node:module';
import type { Parser, Tree } from 'web-tree-sitter';
import { PythonParserError } from './errors.js';

let loading: Promise<Parser> | undefined;

async function loadParser(): Promise<Parser> {
  const { Parser: ParserClass, Language } = await import('web-tree-sitter');
  await ParserClass.init();
  const grammarPath = createRequire(import.meta.url).resolve('tree-sitter-python/tree-sitter-python.wasm');
  const language = await Language.load(grammarPath);
  const parser = new ParserClass();
  parser.setLanguage(language);
  return parser;
}

/** The shared parser; a failed load is not remembered, so a later call tries again. */
export function getPythonParser(): Promise<Parser> {
  loading ??= loadParser().catch((error: unknown) => {
    loading = undefined;
    throw new PythonParserError(`Could not load the Python parser: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  });
  return loading;
}

/**
 * Parses `code` and hands the tree to `read`, freeing the tree's WASM memory afterwards whatever happens;
 * `undefined` when the parser gives no tree. Tree-sitter never rejects input: code with syntax errors
 * gives a tree with ERROR nodes in it.
 */
export function parseWith<T>(parser: Parser, code: string, read: (tree: Tree) => T): T | undefined {
  const tree = parser.parse(code);
  if (tree === null) return undefined;
  try {
    return read(tree);
  } finally {
    tree.delete();
  }
}
