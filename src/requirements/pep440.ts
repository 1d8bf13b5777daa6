/**
 * Just enough of PEP 440 to choose the newest release of a package the way pip would: parsing and
 * ordering versions (epochs, pre-, post- and dev-releases, local labels) and testing a version against
 * a specifier such as a package's `Requires-Python: >=3.9,!=3.9.1`.
 */

export interface Version {
  epoch: number;
  release: number[];
  pre: { label: 'a' | 'b' | 'rc'; number: number } | undefined;
  post: number | undefined;
  dev: number | undefined;
  local: Array<string | number> | undefined;
  /** The text it was parsed from. */
  text: string;
}

// PEP 440, "Appendix B: Parsing version strings with regular expressions", canonical spelling rules
// (case-insensitive, `-`/`_`/`.` separators, alternative pre-release names, implicit post releases).
const versionPattern = new RegExp(
  '^\\s*v?' +
    '(?:(?<epoch>[0-9]+)!)?' +
    '(?<release>[0-9]+(?:\\.[0-9]+)*)' +
    '(?<pre>[-_.]?(?<preLabel>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?<preNumber>[0-9]+)?)?' +
    '(?<post>(?:-(?<postImplicit>[0-9]+))|(?:[-_.]?(?:post|rev|r)[-_.]?(?<postNumber>[0-9]+)?))?' +
    '(?<dev>[-_.]?dev[-_.]?(?<devNumber>[0-9]+)?)?' +
    '(?:\\+(?<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?' +
    '\\s*$',
  'i',
);

/** The parsed version, or `undefined` for text that is not a PEP 440 version (such as `1.0-legacy-x`). */
export function parseVersion(text: string): Version | undefined {
  const groups = versionPattern.exec(text)?.groups;
  if (groups === undefined) return undefined;
  const preLabel = groups.preLabel?.toLowerCase();
  return {
    epoch: Number(groups.epoch ?? 0),
    release: (groups.release ?? '0').split('.').map(Number),
    pre:
      preLabel === undefined
        ? undefined
        : { label: preLabel.startsWith('a') ? 'a' : preLabel.startsWith('b') ? 'b' : 'rc', number: Number(groups.preNumber ?? 0) },
    post: groups.post === undefined ? undefined : Number(groups.postImplicit ?? groups.postNumber ?? 0),
    dev: groups.dev === undefined ? undefined : Number(groups.devNumber ?? 0),
    local: groups.local?.split(/[-_.]/).map((part) => (/^[0-9]+$/.test(part) ? Number(part) : part.toLowerCase())),
    text,
  };
}

/** Pre-releases and dev releases are what pip skips unless nothing else is offered. */
function isPrerelease(version: Version): boolean {
  return version.pre !== undefined || version.dev !== undefined;
}

/** Negative, zero or positive, as `left` sorts before, with or after `right`. */
export function compareVersions(left: Version, right: Version): number {
  if (left.epoch !== right.epoch) return left.epoch - right.epoch;
  const length = Math.max(left.release.length, right.release.length);
  for (let index = 0; index < length; index += 1) {
    const difference = (left.release[index] ?? 0) - (right.release[index] ?? 0);
    if (difference !== 0) return difference;
  }
  const pre = comparePhases(left, right);
  if (pre !== 0) return pre;
  const post = (left.post ?? -1) - (right.post ?? -1);
  if (post !== 0) return post;
  if (left.dev !== right.dev) {
    // No dev segment sorts after any dev segment: 1.0.post1.dev3 < 1.0.post1.
    if (left.dev === undefined) return 1;
    if (right.dev === undefined) return -1;
    return left.dev - right.dev;
  }
  return compareLocal(left.local, right.local);
}

// Within one release: 1.0.dev0 < 1.0a1 < 1.0rc1 < 1.0 < 1.0.post1. A dev release of the final
// (no pre, no post) sorts before every pre-release of it.
function comparePhases(left: Version, right: Version): number {
  return phaseKey(left) - phaseKey(right) || (left.pre?.number ?? 0) - (right.pre?.number ?? 0);
}

function phaseKey(version: Version): number {
  if (version.pre === undefined && version.post === undefined && version.dev !== undefined) return -1;
  if (version.pre === undefined) return 3;
  return { a: 0, b: 1, rc: 2 }[version.pre.label];
}

function compareLocal(left: Version['local'], right: Version['local']): number {
  if (left === undefined || right === undefined) return (left === undefined ? 0 : 1) - (right === undefined ? 0 : 1);
  for (let index = 0; index < Math.max(left.length, right.length); index += 1) {
    const leftPart = left[index];
    const rightPart = right[index];
    if (leftPart === undefined) return -1;
    if (rightPart === undefined) return 1;
    if (typeof leftPart === 'number' && typeof rightPart === 'number') {
      if (leftPart !== rightPart) return leftPart - rightPart;
    } else if (typeof leftPart === 'number') {
      return 1; // numeric segments sort after alphanumeric ones
    } else if (typeof rightPart === 'number') {
      return -1;
    } else if (leftPart !== rightPart) {
      return leftPart < rightPart ? -1 : 1;
    }
  }
  return 0;
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
    if (!isPrerelease(version) && (newestFinal === undefined || compareVersions(version, newestFinal) > 0)) newestFinal = version;
  }
  return (newestFinal ?? newestAny)?.text;
}

/**
 * Whether `version` satisfies `specifier` (comma-separated clauses: `>=3.9`, `!=3.9.*`, `~=3.8`, ...).
 * An empty specifier accepts everything; a clause that cannot be read is ignored rather than guessed,
 * because indexes publish some odd `Requires-Python` values and skipping a release on a typo is worse.
 */
export function satisfiesSpecifier(version: string, specifier: string): boolean {
  const parsed = parseVersion(version);
  if (parsed === undefined) return false;
  for (const rawClause of specifier.split(',')) {
    const clause = rawClause.trim();
    if (clause === '') continue;
    const match = /^(~=|===|==|!=|<=|>=|<|>)\s*(.+)$/.exec(clause);
    if (match === null) continue;
    const [, operator, target = ''] = match;
    if (!satisfiesClause(parsed, operator ?? '', target.trim())) return false;
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

function satisfiesClause(version: Version, operator: string, target: string): boolean {
  if (operator === '===') return version.text.trim() === target;
  if ((operator === '==' || operator === '!=') && target.endsWith('.*')) {
    const prefix = parseVersion(target.slice(0, -2));
    if (prefix === undefined) return true;
    const matches = version.epoch === prefix.epoch && prefix.release.every((part, index) => (version.release[index] ?? 0) === part);
    return operator === '==' ? matches : !matches;
  }
  const other = parseVersion(target);
  if (other === undefined) return true;
  // Local labels are ignored by every operator except exact equality with a local target.
  const comparison = compareVersions({ ...version, local: other.local === undefined ? undefined : version.local }, other);
  switch (operator) {
    case '==':
      return comparison === 0;
    case '!=':
      return comparison !== 0;
    case '<=':
      return comparison <= 0;
    case '>=':
      return comparison >= 0;
    case '<':
      // `<3.9` does not admit 3.9's own pre-releases.
      return comparison < 0 && !(isPrerelease(version) && !isPrerelease(other) && sameRelease(version, other));
    case '>':
      // `>3.9` does not admit 3.9's post-releases.
      return comparison > 0 && !(version.post !== undefined && other.post === undefined && sameRelease(version, other));
    case '~=': {
      if (other.release.length < 2) return true;
      const prefix = other.release.slice(0, -1);
      return comparison >= 0 && version.epoch === other.epoch && prefix.every((part, index) => (version.release[index] ?? 0) === part);
    }
    default:
      return true;
  }
}

function sameRelease(left: Version, right: Version): boolean {
  const length = Math.max(left.release.length, right.release.length);
  for (let index = 0; index < length; index += 1) if ((left.release[index] ?? 0) !== (right.release[index] ?? 0)) return false;
  return left.epoch === right.epoch;
}
