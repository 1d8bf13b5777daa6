/**
 * The package gate: which requirements pycage will not install without a yes. A model can name a
 * package that does not exist, or one an attacker registered under a name models invent; only an
 * `unknown` origin (an import name nothing vouches for) needs a yes, given by `allowPackages`
 * (`--allow-package NAME`, `*` for any) or by a person reviewing the flagged proposal. A requirement
 * whose every release was passed over by the cooldown or the wheels-only rule is refused whatever its
 * origin, since installing it unpinned would take exactly the release that was passed over.
 */
import { normalizeName } from './requirement-names.js';
import type { RequirementDetail } from './options.js';
import type { IndexFacts } from './version-sources.js';

export interface PackageGateOptions {
  /** Names let through although unknown; `*` lets any through. @default [] */
  allowPackages?: readonly string[];
}

export interface RefusedPackage {
  name: string;
  requirement: string;
  origin: RequirementDetail['origin'];
  /**
   * `unknown`: nothing vouches for it; `too-new` and `no-wheel`: no release passed pycage's rules;
   * `url`: a URL or path requirement (refused by `checkRequirements`).
   */
  reason: 'unknown' | 'too-new' | 'no-wheel' | 'url';
  /** One line for a person, naming the package and the way to allow it. */
  message: string;
  module?: string;
  index?: IndexFacts;
}

/** The requirements the gate refuses, each with its reason; empty when everything may be installed. */
export function gatePackages(details: readonly RequirementDetail[], options: PackageGateOptions = {}): RefusedPackage[] {
  const allowed = new Set((options.allowPackages ?? []).map((name) => (name === '*' ? '*' : normalizeName(name))));
  const refused: RefusedPackage[] = [];
  for (const detail of details) {
    const base = {
      name: detail.name,
      requirement: detail.requirement,
      origin: detail.origin,
      ...(detail.module === undefined ? {} : { module: detail.module }),
      ...(detail.index === undefined ? {} : { index: detail.index }),
    };
    if (detail.refusal !== undefined) {
      const remedy = detail.refusal.policy === 'too-new' ? 'pass --min-release-age 0 to accept it' : 'pass --allow-sdist to build it from source';
      refused.push({ ...base, reason: detail.refusal.policy, message: `${detail.name}: ${detail.refusal.reason}; ${remedy}.` });
      continue;
    }
    if (detail.origin !== 'unknown' || allowed.has('*') || allowed.has(normalizeName(detail.name))) continue;
    const imported = detail.module === undefined || normalizeName(detail.module) === normalizeName(detail.name) ? '' : ` (for import ${detail.module})`;
    const facts = detail.index === undefined ? '' : `; the index: ${describeIndexFacts(detail.index)}`;
    refused.push({
      ...base,
      reason: 'unknown',
      message: `${detail.name}${imported} is an unknown package: not in pycage's mapping table nor among the most downloaded on PyPI${facts}. Pass --allow-package ${detail.name} to install it anyway.`,
    });
  }
  return refused;
}

/** `does not exist`, or `exists since 2026-11-20, 1 release: "summary"`. */
export function describeIndexFacts(facts: IndexFacts): string {
  if (!facts.exists) return 'no such project';
  const parts: string[] = [];
  if (facts.firstReleaseDate !== undefined) parts.push(`first release ${facts.firstReleaseDate}`);
  if (facts.releaseCount !== undefined) parts.push(`${facts.releaseCount} release${facts.releaseCount === 1 ? '' : 's'}`);
  if (facts.summary !== undefined) parts.push(JSON.stringify(facts.summary.length > 120 ? `${facts.summary.slice(0, 117)}...` : facts.summary));
  return parts.length === 0 ? 'exists' : `exists, ${parts.join(', ')}`;
}
