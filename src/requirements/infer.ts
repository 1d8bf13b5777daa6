/**
 * From a script to the packages it needs: its PEP 723 metadata when it has some, otherwise its imports,
 * minus the standard library of the target Python, minus the script's own modules, each mapped to the
 * distribution that provides it and pinned to the newest release the configured source offers.
 *
 * Nothing here throws for a script: unreadable code yields what can be read, bad metadata a warning.
 * Only a caller's mistake (a `pythonVersion` such as `2.7`), an abort, or a broken install throws.
 */
import { throwIfAborted } from '../abort.js';
import { toLogger } from '../logger.js';
import { moduleDistributions } from './data/distributions.js';
import { isSharedNamespace, resolveDistribution } from './distributions.js';
import { readImports } from './imports.js';
import { readScriptMetadata } from './inline-metadata.js';
import { checkInferOptions, type InferOptions, type InferredRequirements, type PinDetail, type RequirementDetail, type RequirementOrigin } from './options.js';
import { comparablePythonVersion, satisfiesSpecifier } from './pep440.js';
import { pinRequirements } from './pin.js';
import { popularRank } from './popular.js';
import { checkRequirements, isPlainRequirement } from './requirement-policy.js';
import { normalizeName, requirementKey, requirementProjectName, topLevelName } from './requirement-names.js';
import { defaultPythonVersion, isStandardLibrary, resolvePythonVersion, standardLibraryHistory } from './standard-library.js';

export async function inferRequirements(code: string, options: InferOptions = {}): Promise<InferredRequirements> {
  checkInferOptions(options);
  const logger = toLogger(options.logger, 'Requirements');
  throwIfAborted(options.abortSignal);
  const requestedVersion = options.pythonVersion ?? defaultPythonVersion;
  const resolved = resolvePythonVersion(requestedVersion);
  const warnings: string[] = [];
  if (resolved.warning !== undefined) warnings.push(resolved.warning);

  let requirements: string[];
  // How each requirement was found, by requirement key: decides its origin once pinning is done.
  let found: Map<string, Found>;
  let source: InferredRequirements['source'];
  let requiresPython: string | undefined;
  const metadata = readScriptMetadata(code);
  if (metadata.status === 'valid') {
    source = 'pep723';
    requirements = metadata.metadata.dependencies;
    checkRequirements(requirements, {
      origin: "the script's inline metadata (PEP 723)",
      ...(options.allowUrlRequirements === undefined ? {} : { allowUrlRequirements: options.allowUrlRequirements }),
    });
    const declared: Found['kind'] = options.trustInlineMetadata === false ? 'named' : 'declared';
    found = new Map(requirements.map((requirement) => [requirementKey(requirement), { kind: declared }]));
    requiresPython = metadata.metadata.requiresPython;
    if (requiresPython !== undefined && !satisfiesSpecifier(comparablePythonVersion(requestedVersion), requiresPython)) {
      warnings.push(`The script asks for Python ${requiresPython} (its inline metadata) but the target is Python ${requestedVersion}.`);
    }
    logger.debug(`Requirements from the script's inline metadata: ${requirements.join(', ') || 'none'}`);
  } else {
    if (metadata.status === 'invalid') {
      warnings.push(`Ignoring the script's inline metadata (PEP 723): ${metadata.problem}. Requirements are inferred from its imports instead.`);
    }
    source = 'inferred';
    const inferred = await requirementsFromImports(code, resolved.version, options);
    requirements = inferred.requirements;
    found = inferred.found;
    warnings.push(...inferred.warnings);
    logger.debug(`Requirements inferred from imports: ${requirements.join(', ') || 'none'}`);
  }

  // Inference's own options are not pinRequirements' (which checks its keys).
  const { overrides: _overrides, localModules: _localModules, allowUrlRequirements: _allowUrl, trustInlineMetadata: _trust, ...pinOptions } = options;
  const pinned = await pinRequirements(requirements, { ...pinOptions, pythonVersion: requestedVersion });
  warnings.push(...pinned.warnings);
  const pins = new Map(pinned.details.map((detail) => [normalizeName(detail.name), detail]));
  const details = pinned.requirements.map((requirement) => describe(requirement, found.get(requirementKey(requirement)), pins));
  return { requirements: pinned.requirements, source, warnings, ...(requiresPython === undefined ? {} : { requiresPython }), details };
}

/**
 * How a requirement was found: `declared` by someone trusted (the user's inline metadata, an override),
 * `table` (the project's mapping), `guessed` (an import name or a namespace convention used as a
 * distribution name), or `named` (inline metadata written by a model: a name, vouched for by nobody).
 */
interface Found {
  kind: 'declared' | 'table' | 'guessed' | 'named';
  module?: string;
}

const tableDistributions = new Set(Object.values(moduleDistributions).flatMap((distribution) => (distribution === null ? [] : [normalizeName(distribution)])));

function describe(requirement: string, how: Found | undefined, pins: ReadonlyMap<string, PinDetail>): RequirementDetail {
  const name = requirementProjectName(requirement) ?? requirement;
  const pin = pins.get(normalizeName(name));
  const rank = popularRank(name);
  let origin: RequirementOrigin;
  // A URL requirement got here only through allowUrlRequirements: that flag is the caller's word for it.
  if (how === undefined || how.kind === 'declared' || !isPlainRequirement(requirement)) origin = 'declared';
  else if (pin?.from === 'find-links') origin = 'local';
  else if (how.kind === 'table' || (how.kind === 'named' && tableDistributions.has(normalizeName(name)))) origin = 'mapped';
  else origin = rank === undefined ? 'unknown' : 'popular';
  return {
    requirement,
    name,
    origin,
    ...(how?.module === undefined ? {} : { module: how.module }),
    ...(rank === undefined ? {} : { popularRank: rank }),
    ...(pin?.facts === undefined ? {} : { index: pin.facts }),
    ...(pin?.refusal === undefined ? {} : { refusal: pin.refusal }),
  };
}

async function requirementsFromImports(
  code: string,
  pythonVersion: string,
  options: InferOptions,
): Promise<{ requirements: string[]; warnings: string[]; found: Map<string, Found> }> {
  const localModules = new Set((options.localModules ?? []).map(localTopLevelName));
  const requirements = new Map<string, string>(); // normalized project name -> requirement
  const found = new Map<string, Found>();
  const warnings = new Set<string>();
  const add = (requirement: string, how: Found): void => {
    const key = requirementKey(requirement);
    if (requirements.has(key)) return;
    requirements.set(key, requirement);
    found.set(key, how);
  };

  for (const entry of await readImports(code)) {
    // `if TYPE_CHECKING:` imports are only read by type checkers; running the script never needs them.
    if (entry.typeCheckingOnly) continue;
    const topLevel = topLevelName(entry.module);
    if (localModules.has(topLevel)) continue;
    const overridden = options.overrides !== undefined && resolveDistribution(entry.module, options.overrides)?.source === 'override';
    if (!overridden && isStandardLibrary(entry.module, pythonVersion)) continue;

    // `from google.cloud import storage`: `google.cloud` is shared, `google.cloud.storage` names the package.
    const candidates =
      entry.form === 'from' && !entry.names.includes('*') && entry.names.length > 0 && isSharedNamespace(entry.module, options.overrides)
        ? entry.names.map((name) => `${entry.module}.${name}`)
        : [entry.module];

    for (const module of candidates) {
      const resolution = resolveDistribution(module, options.overrides);
      if (resolution === undefined) {
        warnings.add(`${module} is a namespace shared by several distributions; import a module inside it to say which one the script needs.`);
        continue;
      }
      if (resolution.source === 'override') {
        if (resolution.distribution !== null) add(resolution.distribution, { kind: 'declared', module });
        continue;
      }
      if (resolution.source === 'host-application') {
        warnings.add(`${module} exists only inside ${resolution.application ?? 'another application'}; no package index has it, so it is not a requirement.`);
        continue;
      }
      const history = standardLibraryHistory(module, pythonVersion);
      if (history.addedIn !== undefined) {
        warnings.add(`${topLevel} is in the standard library only from Python ${history.addedIn}; Python ${pythonVersion} does not have it.`);
        continue;
      }
      if (history.removedIn !== undefined && resolution.source === 'import-name') {
        warnings.add(`${topLevel} was removed from the standard library in Python ${history.removedIn}, and no replacement package is known.`);
        continue;
      }
      if (resolution.distribution === null) {
        warnings.add(`${module} cannot be installed from a package index; it is not a requirement.`);
        continue;
      }
      if (resolution.source === 'namespace') {
        warnings.add(`${module}: guessed the distribution ${resolution.distribution} from the naming of ${resolution.matched}.* packages.`);
      }
      add(resolution.distribution, { kind: resolution.source === 'table' ? 'table' : 'guessed', module });
    }
  }
  return { requirements: [...requirements.values()], warnings: [...warnings], found };
}

/** `helpers`, `helpers.py`, `pkg/__init__.py`, `pkg/mod.py` and `pkg.mod` all make `pkg`/`helpers` local. */
function localTopLevelName(module: string): string {
  const withoutSuffix = module.replace(/\.pyw?$/, '');
  return withoutSuffix.split(/[\\/.]/).find((part) => part !== '') ?? withoutSuffix;
}
