/**
 * The Python programs the runtime runs inside containers live as real .py files in src/runtime/python/, read
 * at run time, like the prompts: they can be read, linted and run by hand. The path goes through the
 * package root, three levels above this module, so it is the same from src/runtime/python/ (tests, tsx) and
 * dist/runtime/python/ (the built package).
 *
 * - keeper: every container's main process (lifeline, egress tunnel, starting the script and the reap);
 * - bootstrap: runs a script, as the sandbox user;      - install: builds an environment, as the sandbox user;
 * - reap: kills every process of the sandbox user;      - store: copies a built environment into its volume;
 * - collect: the output directory as a tar;             - probe: what an image offers.
 * The two that run untrusted code (bootstrap, install) are loaded with seccomp.py in front of them.
 */
import { readFile } from 'node:fs/promises';
import { memoize } from '../memo.js';

export type PythonProgram = 'bootstrap' | 'install' | 'probe' | 'collect' | 'keeper' | 'reap' | 'store' | 'seccomp';

const cache = new Map<string, Promise<string>>();

export function pythonSourcePath(program: PythonProgram): URL {
  return new URL(`../../../src/runtime/python/${program}.py`, import.meta.url);
}

export function loadPythonSource(program: PythonProgram): Promise<string> {
  return memoize(cache, program, () => readFile(pythonSourcePath(program), 'utf8'));
}

/** A program that runs untrusted code, with the seccomp filter installed before its first line. */
export function loadConfinedSource(program: 'bootstrap' | 'install'): Promise<string> {
  return memoize(cache, `confined:${program}`, async () => `${await loadPythonSource('seccomp')}\n${await loadPythonSource(program)}`);
}
