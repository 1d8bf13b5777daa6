/**
 * Options of the requirements stage's public functions, in one place so that `inferRequirements` and
 * `pinRequirements` document each field once.
 */
import type { Logger, LogSink } from '../logger.js';
import { checkOptionKeys, type OptionKeys } from '../options.js';
import type { IndexFacts, ReleasePolicy } from './version-sources.js';
import type { WheelPlatform } from './wheel-tags.js';

/** Where packages come from: the same three choices pip and uv offer, used for pinning and installing. */
export interface PackageSource {
  /**
   * A simple-API index (PEP 503 HTML or PEP 691 JSON), as pip's `--index-url`, e.g.
   * `https://pypi.org/simple` or a company mirror.
   * @default PyPI, asked through its JSON API (`jsonApiUrl`)
   */
  indexUrl?: string;
  /**
   * A directory on the host holding wheels and sdists (a wheelhouse), or the URL of a page of links to
   * them, as pip's `--find-links`. When it has the project, its newest file decides the pin.
   * @default none
   */
  findLinks?: string;
  /** Use no index: pin from `findLinks` only, and leave requirements unpinned without it. @default false */
  noIndex?: boolean;
}

export interface PinOptions extends PackageSource {
  /** Pin bare names to the newest release; `false` returns the requirements as they are. @default true */
  pin?: boolean;
  /**
   * Skip releases whose `Requires-Python` excludes this version (`3.12` stands for a current 3.12.x).
   * @default undefined for `pinRequirements` (any release); the inference's target for `inferRequirements`
   */
  pythonVersion?: string;
  /** Where index answers are cached (`versions.json`). @default `$XDG_CACHE_HOME/pycage`, else `~/.cache/pycage` */
  cacheDir?: string;
  /** How long a cached answer is trusted. @default 86_400_000 (24 hours) */
  cacheTtlMs?: number;
  /** Base of a PyPI-style JSON API (`<base>/<name>/json`), used when no `indexUrl` is given. @default 'https://pypi.org/pypi' */
  jsonApiUrl?: string;
  /** How many index requests run at once. @default 4 */
  concurrency?: number;
  /** Time allowed for each index request, body included. @default 10_000 */
  timeoutMs?: number;
  /**
   * Skip releases first uploaded less than this many days ago (a fresh release may be a hijack not yet
   * noticed). Needs upload times: PyPI's JSON API and PEP 700 simple JSON give them; HTML pages do not.
   * @default 7
   */
  minReleaseAgeDays?: number;
  /** Allow choosing a release that has only a source distribution (its install runs build code). @default false */
  allowSdist?: boolean;
  /** The platform a chosen release must have a wheel for. @default linux x86_64/aarch64 manylinux up to glibc 2.36, or pure Python */
  platform?: WheelPlatform;
  /** Cancels the lookups; an abort throws `AbortedError`, unlike an index that does not answer. */
  abortSignal?: AbortSignal;
  /** Receives what the stage does (component `Requirements`). @default no logging */
  logger?: Logger | LogSink;
}

export interface InferOptions extends PinOptions {
  /** The Python the script will run on: decides what is standard library. @default '3.12' */
  pythonVersion?: string;
  /**
   * Import name (dotted names allowed, longest prefix wins) -> distribution or full requirement,
   * e.g. `{ cv2: 'opencv-python-headless' }`; `null` means "not a requirement". Wins over the table.
   * @default {}
   */
  overrides?: Record<string, string | null>;
  /**
   * Modules that are the script's own files, e.g. `['helpers', 'mypackage']` (`helpers.py` and
   * `pkg/mod.py` are accepted too): never requirements. @default []
   */
  localModules?: readonly string[];
  /** Accept URL and path requirements in the script's inline metadata; refused (PolicyError, exit 5) otherwise. @default false */
  allowUrlRequirements?: boolean;
  /**
   * Whether the script's inline metadata speaks for the user (origin `declared`). `false` for code a
   * model wrote: its metadata names packages like its imports do, and each gets the origin its name
   * earns (`mapped`, `popular`, `local` or `unknown`). @default true
   */
  trustInlineMetadata?: boolean;
}

/**
 * Why a requirement can be trusted:
 * - `declared`: the script's inline metadata, the caller's list or an override named it;
 * - `local`: a `--find-links` folder the user gave holds it (pinned to what it holds);
 * - `mapped`: the project's import-to-distribution table;
 * - `popular`: among the most downloaded distributions on PyPI (the shipped list);
 * - `unknown`: an import name used as a distribution name, which nothing vouches for.
 */
export type RequirementOrigin = 'declared' | 'local' | 'mapped' | 'popular' | 'unknown';

export interface RequirementDetail {
  /** As in `requirements`, e.g. `requests==2.32.3`. */
  requirement: string;
  /** The project name, e.g. `requests`. */
  name: string;
  origin: RequirementOrigin;
  /** The import it was inferred from, e.g. `yaml`; absent for declared requirements. */
  module?: string;
  /** Its rank among the most downloaded distributions, when on the shipped list. */
  popularRank?: number;
  /** What the index said about the project (exists, first release, releases, summary), when asked. */
  index?: IndexFacts;
  /** Set when pycage's own rules passed over every release: too new, or no wheel for the sandbox. */
  refusal?: { policy: ReleasePolicy; reason: string };
}

export const packageSourceKeys = { indexUrl: true, findLinks: true, noIndex: true } as const satisfies OptionKeys<PackageSource>;

export const pinOptionKeys = {
  ...packageSourceKeys,
  pin: true,
  pythonVersion: true,
  cacheDir: true,
  cacheTtlMs: true,
  jsonApiUrl: true,
  concurrency: true,
  timeoutMs: true,
  minReleaseAgeDays: true,
  allowSdist: true,
  platform: true,
  abortSignal: true,
  logger: true,
} as const satisfies OptionKeys<PinOptions>;

export const inferOptionKeys = {
  ...pinOptionKeys,
  overrides: true,
  localModules: true,
  allowUrlRequirements: true,
  trustInlineMetadata: true,
} as const satisfies OptionKeys<InferOptions>;

/** Throws a UsageError naming an unknown key of `pinRequirements`'s options (a typo must not pass unseen). */
export function checkPinOptions(options: unknown): void {
  checkOptionKeys('pinRequirements', options, pinOptionKeys);
}

/** Throws a UsageError naming an unknown key of `inferRequirements`'s options. */
export function checkInferOptions(options: unknown): void {
  checkOptionKeys('inferRequirements', options, inferOptionKeys);
}

export interface InferredRequirements {
  /** `requests==2.32.3`, or `requests` when it could not be pinned; specifiers the script gave are kept. */
  requirements: string[];
  /** `pep723` when the script's inline metadata listed them, `inferred` when they come from its imports. */
  source: 'pep723' | 'inferred';
  /** Things the caller should know: an index that did not answer, a module no index has, bad metadata. */
  warnings: string[];
  /** The `requires-python` of the script's inline metadata, when it has one. */
  requiresPython?: string;
  /** One entry per requirement, in the same order: where it came from and what the index said. */
  details: RequirementDetail[];
}

/** What pinning learned about one bare project name. */
export interface PinDetail {
  name: string;
  /** The version chosen, when one was. */
  version?: string;
  /** Where the version came from. */
  from?: 'find-links' | 'index';
  facts?: IndexFacts;
  refusal?: { policy: ReleasePolicy; reason: string };
}

export interface PinnedRequirements {
  requirements: string[];
  warnings: string[];
  /** One entry per distinct bare name that was looked up. */
  details: PinDetail[];
}

export const pinDefaults = {
  jsonApiUrl: 'https://pypi.org/pypi',
  cacheTtlMs: 24 * 60 * 60 * 1000,
  concurrency: 4,
  timeoutMs: 10_000,
  minReleaseAgeDays: 7,
} as const;
