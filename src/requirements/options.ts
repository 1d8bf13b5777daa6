/**
 * Options of the requirements stage's public functions, in one place so that `inferRequirements` and
 * `pinRequirements` document each field once.
 */
import type { Logger, LogSink } from '../logger.js';
import { checkOptionKeys, type OptionKeys } from '../options.js';

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
  abortSignal: true,
  logger: true,
} as const satisfies OptionKeys<PinOptions>;

export const inferOptionKeys = { ...pinOptionKeys, overrides: true, localModules: true } as const satisfies OptionKeys<InferOptions>;

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
}

export interface PinnedRequirements {
  requirements: string[];
  warnings: string[];
}

export const pinDefaults = {
  jsonApiUrl: 'https://pypi.org/pypi',
  cacheTtlMs: 24 * 60 * 60 * 1000,
  concurrency: 4,
  timeoutMs: 10_000,
} as const;
