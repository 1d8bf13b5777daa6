/**
 * The requirements stage: which packages a Python script needs, pinned to the newest release the
 * configured source offers. The only entrance to src/requirements for the rest of pycage.
 *
 * Importing this module loads no parser: web-tree-sitter and the Python grammar load on the first call
 * that reads code (`inferRequirements`, `parseImports`, `readImports`).
 */
export { inferRequirements } from './infer.js';
export { requirementsForScript } from './script-requirements.js';
export type { PackagePolicy, ScriptRequirements, ScriptSituation } from './script-requirements.js';
export { pinRequirements } from './pin.js';
export { checkIndex } from './index-check.js';
export type { IndexCheck, IndexCheckOptions } from './index-check.js';
export { parseImports, readImports } from './imports.js';
export type { ImportedModule } from './imports.js';
export { distributionForModule, resolveDistribution } from './distributions.js';
export type { DistributionResolution, ResolutionSource } from './distributions.js';
export { isStandardLibrary, standardLibraryHistory, supportedPythonVersions } from './standard-library.js';
export type { StandardLibraryHistory } from './standard-library.js';
export { readScriptMetadata } from './inline-metadata.js';
export type { ScriptMetadata, ScriptMetadataResult } from './inline-metadata.js';
export { normalizeName, requirementKey, topLevelName } from './requirement-names.js';
export { compareVersions, newestVersion, parseVersion, satisfiesSpecifier } from './pep440.js';
export { defaultCacheDirectory } from '../cache-directory.js';
export { PythonParserError, PythonVersionError } from './errors.js';
export type {
  InferOptions,
  InferredRequirements,
  PackageSource,
  PinDetail,
  PinOptions,
  PinnedRequirements,
  RequirementDetail,
  RequirementOrigin,
} from './options.js';
export { checkRequirements, isPlainRequirement } from './requirement-policy.js';
export type { RequirementCheckOptions } from './requirement-policy.js';
export { describeIndexFacts, gatePackages } from './package-gate.js';
export type { PackageGateOptions, RefusedPackage } from './package-gate.js';
export { popularRank, popularListMonth } from './popular.js';
export { isCompatibleWheel, defaultWheelPlatform } from './wheel-tags.js';
export type { WheelPlatform } from './wheel-tags.js';
export type { IndexFacts, ReleasePolicy } from './version-sources.js';
export { packageSourceKeys } from './options.js';
