/**
 * Small facts about requirement strings (PEP 508) that pinning needs: the project name a requirement
 * is about, whether it is a bare name that pinning may complete, and PEP 503 name normalization.
 */

const bareName = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/;
const leadingName = /^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?=$|[[(<>=!~;@\s])/;

/** PEP 503: `PyYAML`, `pyyaml` and `py_yaml` are spelled differently but are one project. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/**
 * The name of a requirement that is nothing but a project name (`requests`), which pinning may turn
 * into `requests==2.32.3`; `undefined` when it carries anything else (a version specifier, extras,
 * markers, a URL), which is then kept exactly as given.
 */
export function bareRequirementName(requirement: string): string | undefined {
  const trimmed = requirement.trim();
  return bareName.test(trimmed) ? trimmed : undefined;
}

/** The project a requirement is about (`numpy` for `numpy>=1.26; python_version>"3.9"`), if it names one. */
export function requirementProjectName(requirement: string): string | undefined {
  return leadingName.exec(requirement)?.[1];
}

/** Two requirements with equal keys are about the same project (`PyYAML==6.0` and `pyyaml`). */
export function requirementKey(requirement: string): string {
  return normalizeName(requirementProjectName(requirement) ?? requirement);
}

/** The package an import comes from: `google` for `google.cloud.storage`. */
export function topLevelName(module: string): string {
  const dot = module.indexOf('.');
  return dot === -1 ? module : module.slice(0, dot);
}
