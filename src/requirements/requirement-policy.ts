/**
 * What a requirement line may be. A requirement names a project, with optional extras, version
 * specifiers and an environment marker (`numpy>=1.26; python_version>"3.9"`). Anything else points the
 * installer somewhere: an installer option (`--index-url=...`), a URL or path (`pkg @ https://...`,
 * `file:...`, `./pkg`, `git+https://...`), which fetches from anywhere and runs build code. Options
 * are a usage error; URLs and paths are refused by policy unless the caller allows them.
 *
 * One function so that every place that takes requirements (inference, the agent, the CLI, the
 * runtime) applies the same rule.
 */
import { PolicyError, UsageError } from '../errors.js';

export interface RequirementCheckOptions {
  /** Accept URL and path requirements (`name @ https://...`, `file:`, local paths, VCS URLs). @default false */
  allowUrlRequirements?: boolean;
  /** Where the list came from, for the message, e.g. `the script's inline metadata (PEP 723)`. @default 'the requirements' */
  origin?: string;
}

// PEP 508 without the URL form: a name, optional [extras], optional version specifiers (bare or in
// parentheses), optional `; marker`.
const namePattern = '[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?';
const extrasPattern = String.raw`\[\s*(?:${namePattern}(?:\s*,\s*${namePattern})*)?\s*\]`;
const specifierPattern = String.raw`(?:~=|===|==|!=|<=|>=|<|>)\s*[A-Za-z0-9.*+!_-]+`;
const specifiersPattern = String.raw`${specifierPattern}(?:\s*,\s*${specifierPattern})*`;
const plainRequirement = new RegExp(
  String.raw`^${namePattern}\s*(?:${extrasPattern})?\s*(?:${specifiersPattern}|\(\s*${specifiersPattern}\s*\))?\s*(?:;(?<marker>.*))?$`,
);

/** True for a requirement that names a project only (name, extras, versions, marker): no URL, no path. */
export function isPlainRequirement(requirement: string): boolean {
  const match = plainRequirement.exec(requirement.trim());
  if (match === null) return false;
  // pip reads `pkg-1.0-py3-none-any.whl` or `pkg.tar.gz` as a file to install, not as a project name.
  if (/\.(?:whl|zip|tgz|tar|tar\.gz|tar\.bz2|tar\.xz)\b/i.test(requirement)) return false;
  // A marker is only comparisons of quoted strings; `@` or `://` there means a URL is hiding in it.
  const marker = match.groups?.marker ?? '';
  return !/@|:\/\//.test(marker);
}

/**
 * Throws for a requirement list that could redirect the installer: an option-looking or multi-line
 * entry is a `UsageError` (exit 2); a URL or path requirement a `PolicyError` (exit 5) naming every
 * one of them and `--allow-url-requirements`, unless `allowUrlRequirements`.
 */
export function checkRequirements(requirements: readonly string[], options: RequirementCheckOptions = {}): void {
  const origin = options.origin ?? 'the requirements';
  const urls: string[] = [];
  for (const raw of requirements) {
    const requirement = raw.trim();
    if (requirement === '' || requirement.startsWith('#')) continue;
    if (requirement.startsWith('-')) {
      throw new UsageError(`Requirement ${JSON.stringify(requirement)} (${origin}) looks like an installer option; give package names only.`);
    }
    if (/[\r\n\0]/.test(requirement)) throw new UsageError(`Requirement ${JSON.stringify(requirement)} (${origin}) contains a line break.`);
    if (!isPlainRequirement(requirement)) urls.push(requirement);
  }
  if (urls.length > 0 && options.allowUrlRequirements !== true) {
    throw new PolicyError(
      `Refused: ${origin} name${urls.length === 1 ? 's a URL or path' : ' URLs or paths'} instead of a package: ${urls.map((url) => JSON.stringify(url)).join(', ')}. ` +
        'Such a requirement downloads from anywhere and runs build code; pass --allow-url-requirements (allowUrlRequirements) to accept it.',
      { refused: urls },
    );
  }
}
