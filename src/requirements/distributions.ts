/**
 * From an import name to the distribution that provides it: caller overrides first, then the table the
 * project keeps (data/distributions.ts), then the naming conventions of big namespaces, and finally the
 * import's own top-level name, which is right for most packages (`requests`, `numpy`).
 *
 * Dotted names matter: `google.protobuf` is `protobuf` but `google.cloud.storage` is
 * `google-cloud-storage`, so every lookup tries the longest dotted prefix first.
 */
import { hostApplicationModules, moduleDistributions, namespaceConventions } from './data/distributions.js';

export type ResolutionSource = 'override' | 'table' | 'namespace' | 'import-name' | 'host-application';

export interface DistributionResolution {
  /** The distribution (or a full requirement, if an override gives one); `null` when nothing should be installed. */
  distribution: string | null;
  source: ResolutionSource;
  /** The key that matched, e.g. `google.cloud` for `google.cloud.storage.blob` found by convention. */
  matched: string;
  /** For `host-application`: the application whose own Python has the module, e.g. `Autodesk Maya`. */
  application?: string;
}

/**
 * The distribution that provides `module`: overrides, then the table, longest dotted prefix first, then
 * the namespace conventions, then the top-level import name itself. `undefined` when an override says
 * `null` (not a requirement), when the table knows the module cannot be installed, or when the module
 * is a bare shared namespace such as `google` that names no distribution. It does not look at the
 * standard library: ask `isStandardLibrary` first.
 */
export function distributionForModule(module: string, overrides?: Record<string, string | null>): string | undefined {
  return resolveDistribution(module, overrides)?.distribution ?? undefined;
}

/** Like `distributionForModule`, saying where the answer came from; `undefined` for a bare namespace. */
export function resolveDistribution(module: string, overrides?: Record<string, string | null>): DistributionResolution | undefined {
  const parts = module.split('.');
  if (overrides !== undefined) {
    const key = longestKey(parts, (candidate) => Object.hasOwn(overrides, candidate));
    if (key !== undefined) return { distribution: overrides[key] ?? null, source: 'override', matched: key };
  }
  const hostKey = longestKey(parts, (candidate) => Object.hasOwn(hostApplicationModules, candidate));
  if (hostKey !== undefined) return { distribution: null, source: 'host-application', matched: hostKey, application: hostApplicationModules[hostKey] ?? hostKey };
  const key = longestKey(parts, (candidate) => Object.hasOwn(moduleDistributions, candidate));
  // A longer namespace convention beats a shorter table key: `opentelemetry.exporter.jaeger` is
  // `opentelemetry-exporter-jaeger`, not the `opentelemetry` entry's `opentelemetry-api`.
  const convention = namespaceConventions.find((entry) => module === entry.namespace || module.startsWith(`${entry.namespace}.`));
  const conventionBeatsKey = convention !== undefined && (key === undefined || convention.namespace.split('.').length >= key.split('.').length);
  if (key !== undefined && !conventionBeatsKey) return { distribution: moduleDistributions[key] ?? null, source: 'table', matched: key };
  if (convention !== undefined && conventionBeatsKey) {
    if (parts.length < convention.parts) {
      // `import google` or `import google.cloud` alone: shared by many distributions, none of them meant.
      return key === undefined ? undefined : { distribution: moduleDistributions[key] ?? null, source: 'table', matched: key };
    }
    const distribution = parts
      .slice(0, convention.parts)
      .map((part) => (convention.separator === '-' ? part.replace(apiVersionSuffix, '').replaceAll('_', '-') : part))
      .join(convention.separator);
    return { distribution, source: 'namespace', matched: convention.namespace };
  }
  return { distribution: parts[0] ?? module, source: 'import-name', matched: parts[0] ?? module };
}

/**
 * For `from package import name`: whether `package` is only a namespace whose children are separate
 * distributions (`google`, `google.cloud`, `azure.storage`), so that `package.name` must be looked up.
 */
export function isSharedNamespace(module: string, overrides?: Record<string, string | null>): boolean {
  const prefix = `${module}.`;
  const hasLongerKey = (keys: Iterable<string>): boolean => {
    for (const key of keys) if (key.startsWith(prefix)) return true;
    return false;
  };
  if (overrides !== undefined && hasLongerKey(Object.keys(overrides))) return true;
  if (hasLongerKey(Object.keys(moduleDistributions))) return true;
  if (hasLongerKey(Object.keys(hostApplicationModules))) return true;
  const depth = module.split('.').length;
  return namespaceConventions.some(
    (entry) => (module === entry.namespace || module.startsWith(`${entry.namespace}.`) || entry.namespace.startsWith(prefix)) && depth < entry.parts,
  );
}

// Google's generated clients put the API version in the module (`vision_v1`, `speech_v1p1beta1`) but
// not in the distribution (`google-cloud-vision`).
const apiVersionSuffix = /_v\d+(?:p\d+)?(?:alpha|beta)?\d*$/;

function longestKey(parts: readonly string[], has: (candidate: string) => boolean): string | undefined {
  for (let length = parts.length; length > 0; length -= 1) {
    const candidate = parts.slice(0, length).join('.');
    if (has(candidate)) return candidate;
  }
  return undefined;
}
