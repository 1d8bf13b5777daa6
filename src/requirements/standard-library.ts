/**
 * Which imports the Python standard library satisfies, per target version. The module lists are
 * generated from real interpreters by data/generate-stdlib.py (into data/stdlib.ts, as the oldest
 * version's list and each later version's changes); this file rebuilds each version's set and looks
 * names up.
 *
 * Only top-level names matter: `os.path` is standard library because `os` is.
 */
import { laterVersions, oldestModules, oldestVersion } from './data/stdlib.js';
import { PythonVersionError } from './errors.js';
import { topLevelName } from './requirement-names.js';

/** Python versions whose standard library pycage knows, oldest first. */
export const supportedPythonVersions: readonly string[] = [oldestVersion, ...laterVersions.map((change) => change.version)];

/** The version assumed when a caller names none: what the default image runs. */
export const defaultPythonVersion = '3.12';

// `__main__` is the running script itself; `sys.stdlib_module_names` leaves it out.
const alwaysPresent = new Set(['__main__']);

// The data holds the oldest list and each later version's changes; the sets are rebuilt on first use.
let setsByVersion: ReadonlyMap<string, ReadonlySet<string>> | undefined;

function moduleSet(version: string): ReadonlySet<string> {
  if (setsByVersion === undefined) {
    let current = new Set(oldestModules);
    const sets = new Map<string, ReadonlySet<string>>([[oldestVersion, current]]);
    for (const change of laterVersions) {
      current = new Set([...current, ...change.added]);
      for (const module of change.removed) current.delete(module);
      sets.set(change.version, current);
    }
    setsByVersion = sets;
  }
  return setsByVersion.get(version) ?? new Set();
}

export interface ResolvedPythonVersion {
  /** `major.minor` of the list used, one of `supportedPythonVersions`. */
  version: string;
  /** Set when the requested version is outside the supported range and the nearest one is used. */
  warning?: string;
}

/**
 * Maps `'3.12'`, `'3.12.4'` or `'3.13.0rc1'` onto a supported list. A version outside the range uses the
 * nearest list, with a warning; anything that is not a Python 3 version throws `PythonVersionError`.
 */
export function resolvePythonVersion(pythonVersion: string = defaultPythonVersion): ResolvedPythonVersion {
  const match = /^\s*3\.(\d+)(?:\.\d+)?(?:(?:a|b|rc)\d+)?\+?\s*$/.exec(pythonVersion);
  if (match === null) throw new PythonVersionError(pythonVersion);
  const minor = Number(match[1]);
  const oldest = supportedPythonVersions[0] ?? '3.9';
  const newest = supportedPythonVersions.at(-1) ?? '3.14';
  const exact = `3.${minor}`;
  if (supportedPythonVersions.includes(exact)) return { version: exact };
  const nearest = minor < minorOf(oldest) ? oldest : newest;
  return {
    version: nearest,
    warning: `Python ${pythonVersion} is outside the versions pycage knows (${oldest} to ${newest}); using the standard library of ${nearest}.`,
  };
}

/** True when `module` (dotted or not) belongs to the standard library of `pythonVersion`. */
export function isStandardLibrary(module: string, pythonVersion: string = defaultPythonVersion): boolean {
  const topLevel = topLevelName(module);
  if (alwaysPresent.has(topLevel)) return true;
  return moduleSet(resolvePythonVersion(pythonVersion).version).has(topLevel);
}

export interface StandardLibraryHistory {
  /** The first supported version whose standard library has it, when that is after the asked one. */
  addedIn?: string;
  /** The first supported version that no longer has it, when that is at or before the asked one. */
  removedIn?: string;
}

/**
 * For a module that is not in the standard library of `pythonVersion`: whether another supported version
 * has it, which explains an import such as `tomllib` on 3.10 (added in 3.11) or `imghdr` on 3.13
 * (removed there). Empty when no supported version ever had it.
 */
export function standardLibraryHistory(module: string, pythonVersion: string = defaultPythonVersion): StandardLibraryHistory {
  const topLevel = topLevelName(module);
  const target = minorOf(resolvePythonVersion(pythonVersion).version);
  const having = supportedPythonVersions.filter((version) => moduleSet(version).has(topLevel)).map(minorOf);
  if (having.length === 0 || having.includes(target)) return {};
  const later = having.filter((minor) => minor > target);
  if (later.length > 0 && having.every((minor) => minor > target)) return { addedIn: `3.${Math.min(...later)}` };
  const lastBefore = Math.max(...having.filter((minor) => minor < target));
  return { removedIn: `3.${lastBefore + 1}` };
}

function minorOf(version: string): number {
  return Number(version.split('.')[1]);
}
