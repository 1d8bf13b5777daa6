/**
 * Just enough of PEP 440 to choose the newest release of a package the way pip would, on top of
 * @renovatebot/pep440 (a port of Python's `packaging` that Renovate maintains): it parses and orders
 * versions; this file adds pip's choices around it (final releases before pre-releases, unreadable
 * specifier clauses ignored, a bare `3.12` target standing for a current 3.12.x interpreter).
 */
import { compare, explain, satisfies, validRange } from '@renovatebot/pep440';

export interface Version {
  /** The text it was parsed from. */
  text: string;
  /** A pre-release or a dev release: what pip skips unless nothing else is offered. */
  prerelease: boolean;
}

/** The version `text` spells (any PEP 440 spelling: `1.0-beta.2`, `v2.1`, `1!1.0.post1.dev0+local`), or undefined. */
export function parseVersion(text: string): Version | undefined {
  const explained = explain(text);
  return explained === null ? undefined : { text, prerelease: explained.is_prerelease };
}

/** Negative, zero or positive, as `left` sorts before, with or after `right`. */
export function compareVersions(left: Version, right: Version): number {
  return compare(left.text, right.text);
}

/**
 * The newest version in `candidates` (texts that do not parse are ignored): the newest final or post
 * release, or the newest pre-release when there is nothing else, as pip decides by default.
 */
export function newestVersion(candidates: Iterable<string>): string | undefined {
  let newestFinal: Version | undefined;
  let newestAny: Version | undefined;
  for (const text of candidates) {
    const version = parseVersion(text);
    if (version === undefined) continue;
    if (newestAny === undefined || compareVersions(version, newestAny) > 0) newestAny = version;
    if (!version.prerelease && (newestFinal === undefined || compareVersions(version, newestFinal) > 0)) newestFinal = version;
  }
  return (newestFinal ?? newestAny)?.text;
}

/**
 * Whether `version` satisfies `specifier` (comma-separated clauses: `>=3.9`, `!=3.9.*`, `~=3.8`, ...).
 * An empty specifier accepts everything; a clause that cannot be read is ignored rather than guessed,
 * because indexes publish some odd `Requires-Python` values and skipping a release on a typo is worse.
 */
export function satisfiesSpecifier(version: string, specifier: string): boolean {
  if (parseVersion(version) === undefined) return false;
  for (const rawClause of specifier.split(',')) {
    const clause = rawClause.trim();
    if (clause === '' || !validRange(clause)) continue;
    // The version is tested as it is, pre-release or not (`packaging` would leave a 3.13.0rc1 target out).
    if (!satisfies(version, clause, { prereleases: true })) return false;
  }
  return true;
}

/**
 * A target Python to test against a `Requires-Python` specifier. A target of `3.12` stands for a
 * current 3.12.x interpreter, so `>=3.12.1` admits it and `<=3.12` does not, as they would for the
 * real one.
 */
export function comparablePythonVersion(pythonVersion: string): string {
  return /^\d+\.\d+$/.test(pythonVersion.trim()) ? `${pythonVersion.trim()}.99` : pythonVersion.trim();
}
