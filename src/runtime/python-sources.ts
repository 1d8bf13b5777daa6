/**
 * The Python programs the runtime runs inside containers (bootstrap, install, probe, collect) live as
 * real .py files in src/runtime/, read at run time, like the prompts: they can be read, linted and run by
 * hand. The path goes through the package root, two levels above this module, so it is the same from
 * src/runtime/ (tests, tsx) and dist/runtime/ (the built package).
 */
import { readFile } from 'node:fs/promises';
import { memoize } from './memo.js';

export type PythonProgram = 'bootstrap' | 'install' | 'probe' | 'collect';

const cache = new Map<PythonProgram, Promise<string>>();

export function pythonSourcePath(program: PythonProgram): URL {
  return new URL(`../../src/runtime/${program}.py`, import.meta.url);
}

export function loadPythonSource(program: PythonProgram): Promise<string> {
  return memoize(cache, program, () => readFile(pythonSourcePath(program), 'utf8'));
}
