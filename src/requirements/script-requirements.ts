/**
 * The one place where pycage infers the requirements of a script it is about to run or list: the
 * runtime's `requirements: 'auto'`, the agent, `pycage run` and `pycage requirements` each describe
 * their situation (the code and who wrote it, the target Python, where packages come from, the user's
 * package policy) and get the same inference and the same package gate. `inferRequirements` stays the
 * public, lower-level call that this one makes.
 */
import type { Logger, LogSink } from '../logger.js';
import { inferRequirements } from './infer.js';
import type { InferOptions, InferredRequirements } from './options.js';
import { gatePackages, type RefusedPackage } from './package-gate.js';

/**
 * The package policy the user set, in the field names that the runtime's options, the agent's options
 * and the CLI's flags share, so each caller passes its own object as it is.
 */
export interface PackagePolicy {
  /** Names installed although nothing vouches for them; `*` for any. @default [] */
  allowPackages?: readonly string[] | undefined;
  /** Accept URL and path requirements in the script's inline metadata. @default false */
  allowUrlRequirements?: boolean | undefined;
  /** Pins may choose a release with only a source distribution. @default false */
  allowSdist?: boolean | undefined;
  /** Pins skip releases younger than this many days. @default 7 */
  minReleaseAgeDays?: number | undefined;
}

export interface ScriptSituation {
  code: string;
  /**
   * Who wrote the code. The user's inline metadata speaks for the user (origin `declared`); a model's
   * names packages as its imports do, and each is judged by its name.
   */
  author: 'user' | 'model';
  /** The Python the script will run on. @default `inferRequirements`' default */
  pythonVersion?: string | undefined;
  /** Where packages come from, with the index URL's credentials: pinning needs them unmasked. */
  packageSource: { indexUrl?: string | undefined; findLinks?: string | undefined; noIndex?: boolean | undefined };
  policy: PackagePolicy;
  /** The script's own modules (files next to it): never requirements. @default [] */
  localModules?: readonly string[] | undefined;
  /** Import name -> distribution overrides. @default {} */
  overrides?: Record<string, string | null> | undefined;
  /** Where index answers are cached. @default `inferRequirements`' default */
  cacheDir?: string | undefined;
  abortSignal?: AbortSignal | undefined;
  logger?: Logger | LogSink | undefined;
}

export interface ScriptRequirements extends InferredRequirements {
  /** What the package gate refuses of these under `policy.allowPackages`; empty when all may be installed. */
  refused: RefusedPackage[];
}

/** The requirements of `situation.code`, inferred and gated the same way for every caller. */
export async function requirementsForScript(situation: ScriptSituation): Promise<ScriptRequirements> {
  const { policy } = situation;
  const options = definedFields({
    pythonVersion: situation.pythonVersion,
    ...situation.packageSource,
    trustInlineMetadata: situation.author === 'user',
    allowUrlRequirements: policy.allowUrlRequirements,
    allowSdist: policy.allowSdist,
    minReleaseAgeDays: policy.minReleaseAgeDays,
    localModules: situation.localModules,
    overrides: situation.overrides,
    cacheDir: situation.cacheDir,
    abortSignal: situation.abortSignal,
    logger: situation.logger,
  }) satisfies InferOptions;
  const inferred = await inferRequirements(situation.code, options);
  return { ...inferred, refused: gatePackages(inferred.details, { allowPackages: policy.allowPackages ?? [] }) };
}

/**
 * `fields` without the ones that are undefined: callers hold optional settings as `undefined`, while
 * `inferRequirements` checks its option keys and reads a present key as a given value.
 */
function definedFields<Fields extends object>(fields: Fields): { [Key in keyof Fields]?: Exclude<Fields[Key], undefined> } {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as { [Key in keyof Fields]?: Exclude<Fields[Key], undefined> };
}
