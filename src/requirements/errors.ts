/**
 * Errors of the requirements stage. Almost nothing here throws: an index that does not answer or a
 * script that does not parse becomes a warning. What remains is input that cannot mean anything.
 */
import { PycageError, UsageError, type PycageErrorOptions } from '../errors.js';

/** A `pythonVersion` that is not a Python 3 version, such as `'2.7'` or `'latest'`. Exit 2. */
export class PythonVersionError extends UsageError {
  override readonly name: string = 'PythonVersionError';
  /** The value as the caller gave it. */
  readonly pythonVersion: string;

  constructor(pythonVersion: string, options: Omit<PycageErrorOptions, 'exitCode'> = {}) {
    super(`Not a Python 3 version: "${pythonVersion}". Give one such as 3.12.`, options);
    this.pythonVersion = pythonVersion;
  }
}

/**
 * The Python grammar could not be loaded (the tree-sitter WASM files are missing or broken). This is an
 * installation problem, not a problem with the script being read.
 */
export class PythonParserError extends PycageError {
  override readonly name: string = 'PythonParserError';

  constructor(message: string, options: PycageErrorOptions = {}) {
    super(message, { hint: 'Reinstall pycage: its dependencies web-tree-sitter and tree-sitter-python ship the parser.', ...options });
  }
}
