/**
 * Where the newest version of a project comes from: PyPI's JSON API (the default), the simple API of
 * any index (PEP 691 JSON when the index offers it, PEP 503 HTML otherwise), or the file names in a
 * find-links directory. Each lookup answers with what it found or why it could not; none throws for a
 * network failure. Only the caller's own abort throws, as `AbortedError`.
 */
import { readdir } from 'node:fs/promises';
import { combineSignals, throwIfAborted } from '../abort.js';
import { maskUrl, splitCredentials } from '../index-url.js';
import type { Logger } from '../logger.js';
import { comparablePythonVersion, newestVersion, parseVersion, satisfiesSpecifier } from './pep440.js';
import { normalizeName } from './requirement-names.js';
import { isCompatibleWheel, type WheelPlatform } from './wheel-tags.js';

/**
 * What an index says about a project, shown beside a package nobody vouched for: does it exist, since
 * when, how many releases, and its own one-line summary (PyPI's JSON API only).
 */
export interface IndexFacts {
  exists: boolean;
  /** Distinct versions the index lists. */
  releaseCount?: number;
  /** Day of the earliest upload, `YYYY-MM-DD`, when the index gives upload times. */
  firstReleaseDate?: string;
  summary?: string;
}

/** Why every release was passed over by pycage's own rules (not by the index). */
export type ReleasePolicy = 'too-new' | 'no-wheel';

export type VersionLookup =
  /** `cooldownUnchecked`: the source gave no upload times, so the release age could not be checked. */
  | { kind: 'found'; version: string; facts?: IndexFacts; cooldownUnchecked?: boolean }
  /** The source answered and does not know the project. */
  | { kind: 'not-found' }
  /**
   * The source knows the project but offers no usable release: all yanked, none for this Python, or
   * (`policy`) all younger than the cooldown or without a wheel the sandbox can install.
   */
  | { kind: 'no-release'; reason: string; policy?: ReleasePolicy; facts?: IndexFacts }
  /** No answer: connection refused, DNS failure, timeout, a 5xx, a missing directory. */
  | { kind: 'unreachable'; reason: string };

export interface LookupContext {
  /** Releases whose `Requires-Python` excludes this version are skipped; any release when undefined. */
  pythonVersion: string | undefined;
  timeoutMs: number;
  abortSignal: AbortSignal | undefined;
  logger: Logger;
  /** Releases uploaded less than this long ago are skipped (when the source gives upload times). @default 0 */
  minReleaseAgeMs?: number;
  /** A release with only an sdist may be chosen (its install runs build code). @default false */
  allowSdist?: boolean;
  /** The platform wheels must fit. @default linux x86_64/aarch64, glibc 2.36 */
  platform?: WheelPlatform;
  /** The present moment, for the release age. @default Date.now() */
  nowMs?: number;
}

/** One downloadable file of a release, as an index lists it. */
interface ReleaseFile {
  version: string;
  yanked: boolean;
  requiresPython: string | undefined;
  /** Unknown when only PyPI's `info` describes the release. */
  filename?: string;
  uploadTimeMs?: number;
}

/** `https://pypi.org/pypi/<name>/json`: `info.version` and, to skip yanked releases, `releases`. */
export async function lookupPypiJson(apiUrl: string, name: string, context: LookupContext): Promise<VersionLookup> {
  const url = `${trimSlashes(apiUrl)}/${encodeURIComponent(normalizeName(name))}/json`;
  const response = await request(url, { accept: 'application/json' }, context);
  if (response.kind !== 'ok') return response;
  let document: PypiProject;
  try {
    document = JSON.parse(response.body) as PypiProject;
  } catch {
    return { kind: 'unreachable', reason: `${maskUrl(url)} did not answer with JSON` };
  }
  const files: ReleaseFile[] = [];
  if (isRecord(document.releases)) {
    for (const [version, releaseFiles] of Object.entries(document.releases)) {
      if (!Array.isArray(releaseFiles)) continue;
      for (const file of releaseFiles) {
        files.push({
          version,
          yanked: file?.yanked === true,
          requiresPython: stringOrUndefined(file?.requires_python),
          ...optionalFile(file?.filename, file?.upload_time_iso_8601 ?? file?.upload_time),
        });
      }
    }
  }
  if (files.length === 0 && typeof document.info?.version === 'string') {
    // Without `releases` (PyPI may drop it), `info` still describes the latest release.
    files.push({ version: document.info.version, yanked: document.info.yanked === true, requiresPython: stringOrUndefined(document.info.requires_python) });
  }
  const summary = stringOrUndefined(document.info?.summary);
  return chooseRelease(files, context, { ...(summary === undefined ? {} : { summary }), versionCount: isRecord(document.releases) ? Object.keys(document.releases).length : undefined });
}

interface PypiProject {
  info?: { version?: unknown; yanked?: unknown; requires_python?: unknown; summary?: unknown };
  releases?: Record<string, Array<{ yanked?: unknown; requires_python?: unknown; filename?: unknown; upload_time_iso_8601?: unknown; upload_time?: unknown } | null> | undefined>;
}

/** `<index>/<name>/`: PEP 691 JSON when the index offers it, else the PEP 503 HTML page. */
export async function lookupSimpleIndex(indexUrl: string, name: string, context: LookupContext): Promise<VersionLookup> {
  const url = `${trimSlashes(indexUrl)}/${normalizeName(name)}/`;
  const response = await request(
    url,
    { accept: 'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1' },
    context,
  );
  if (response.kind !== 'ok') return response;
  const isJson = response.contentType.includes('json');
  const listed = isJson ? filesFromSimpleJson(response.body) : filesFromSimpleHtml(response.body);
  if (listed === undefined) return { kind: 'unreachable', reason: `${maskUrl(url)} did not answer with a simple index page` };
  return chooseRelease(releaseFilesFor(name, listed), context, { versionCount: isJson ? simpleJsonVersionCount(response.body) : undefined });
}

/** A find-links location: a directory of wheels and sdists, or an HTML page of links to them. */
export async function lookupFindLinks(location: string, name: string, context: LookupContext): Promise<VersionLookup> {
  if (/^https?:\/\//i.test(location)) {
    const response = await request(location, { accept: 'text/html' }, context);
    if (response.kind !== 'ok') return response.kind === 'not-found' ? { kind: 'unreachable', reason: `${maskUrl(location)} answered 404` } : response;
    return chooseRelease(releaseFilesFor(name, filesFromSimpleHtml(response.body) ?? []), context, {});
  }
  const directory = location.startsWith('file://') ? new URL(location).pathname : location;
  let entries: string[];
  try {
    entries = await readdir(directory);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { kind: 'unreachable', reason: code === 'ENOENT' ? 'no such directory' : `cannot read it (${code ?? String(error)})` };
  }
  return chooseRelease(
    releaseFilesFor(
      name,
      entries.map((filename) => ({ filename, yanked: false, requiresPython: undefined })),
    ),
    context,
    {},
  );
}

interface ListedFile {
  filename: string;
  yanked: boolean;
  requiresPython: string | undefined;
  uploadTimeMs?: number;
}

function releaseFilesFor(name: string, listed: readonly ListedFile[]): ReleaseFile[] {
  const files: ReleaseFile[] = [];
  for (const file of listed) {
    const version = versionFromFilename(file.filename, name);
    if (version !== undefined) files.push({ ...file, version });
  }
  return files;
}

function optionalFile(filename: unknown, uploadTime: unknown): { filename?: string; uploadTimeMs?: number } {
  const uploadTimeMs = typeof uploadTime === 'string' ? Date.parse(uploadTime.endsWith('Z') || /[+-]\d\d:?\d\d$/.test(uploadTime) ? uploadTime : `${uploadTime}Z`) : Number.NaN;
  return {
    ...(typeof filename === 'string' && filename !== '' ? { filename } : {}),
    ...(Number.isFinite(uploadTimeMs) ? { uploadTimeMs } : {}),
  };
}

const dayMs = 86_400_000;

/**
 * The newest release with at least one file that is not yanked (PEP 592), whose `Requires-Python`
 * admits the target Python, that is older than the cooldown (its first upload, when the source gives
 * upload times), and that has a wheel for the sandbox (or, with `allowSdist`, an sdist); `no-release`
 * says which rule ruled everything out. `facts` describe the project whatever was chosen.
 */
function chooseRelease(files: readonly ReleaseFile[], context: LookupContext, extra: { summary?: string; versionCount?: number | undefined }): VersionLookup {
  if (files.length === 0) return { kind: 'not-found' };
  const facts = factsOf(files, extra);
  const pythonVersion = context.pythonVersion;
  const unyanked = files.filter((file) => !file.yanked);
  if (unyanked.length === 0) return { kind: 'no-release', reason: 'every release is yanked', facts };
  const target = pythonVersion === undefined ? undefined : comparablePythonVersion(pythonVersion);
  const usable = target === undefined ? unyanked : unyanked.filter((file) => file.requiresPython === undefined || satisfiesSpecifier(target, file.requiresPython));
  if (usable.length === 0) return { kind: 'no-release', reason: `no release supports Python ${pythonVersion}`, facts };

  // A release's age is that of its first upload: a file added later does not make it new again.
  const firstUpload = new Map<string, number>();
  for (const file of files) {
    if (file.uploadTimeMs === undefined) continue;
    firstUpload.set(file.version, Math.min(firstUpload.get(file.version) ?? Number.POSITIVE_INFINITY, file.uploadTimeMs));
  }
  const minAgeMs = context.minReleaseAgeMs ?? 0;
  const cutoffMs = (context.nowMs ?? Date.now()) - minAgeMs;
  const oldEnough = minAgeMs <= 0 ? usable : usable.filter((file) => (firstUpload.get(file.version) ?? Number.NEGATIVE_INFINITY) <= cutoffMs);
  if (oldEnough.length === 0) {
    const days = Math.round((minAgeMs / dayMs) * 10) / 10;
    return { kind: 'no-release', reason: `every release is younger than ${days} day${days === 1 ? '' : 's'} (--min-release-age)`, policy: 'too-new', facts };
  }
  const installable = oldEnough.filter((file) => fileInstallable(file, context));
  if (installable.length === 0) {
    const onlySdists = oldEnough.every((file) => file.filename !== undefined && !file.filename.endsWith('.whl'));
    const where = `Python ${pythonVersion ?? '3'} on ${describePlatform(context.platform)}`;
    const reason = onlySdists
      ? 'it offers only source distributions, whose install runs build code (--allow-sdist permits them)'
      : `no release has a wheel for ${where}${context.allowSdist === true ? '' : ' (--allow-sdist permits building from source)'}`;
    return { kind: 'no-release', reason, policy: 'no-wheel', facts };
  }
  const version = newestVersion(new Set(installable.map((file) => file.version)));
  if (version === undefined) return { kind: 'not-found' };
  return { kind: 'found', version, facts, ...(minAgeMs > 0 && firstUpload.size === 0 ? { cooldownUnchecked: true } : {}) };
}

function fileInstallable(file: ReleaseFile, context: LookupContext): boolean {
  // PyPI's `info` alone names no file: nothing to judge, so nothing to refuse.
  if (file.filename === undefined) return true;
  if (file.filename.endsWith('.whl')) return isCompatibleWheel(file.filename, context.pythonVersion, context.platform);
  return context.allowSdist === true;
}

function describePlatform(platform: WheelPlatform | undefined): string {
  const architectures = platform?.architectures ?? ['x86_64', 'aarch64'];
  return `linux ${architectures.join('/')}`;
}

function factsOf(files: readonly ReleaseFile[], extra: { summary?: string; versionCount?: number | undefined }): IndexFacts {
  const uploads = files.flatMap((file) => (file.uploadTimeMs === undefined ? [] : [file.uploadTimeMs]));
  return {
    exists: true,
    releaseCount: extra.versionCount ?? new Set(files.map((file) => file.version)).size,
    ...(uploads.length === 0 ? {} : { firstReleaseDate: new Date(Math.min(...uploads)).toISOString().slice(0, 10) }),
    ...(extra.summary === undefined ? {} : { summary: extra.summary }),
  };
}

/** PEP 700: the simple JSON page lists every version, also those with no files left. */
function simpleJsonVersionCount(body: string): number | undefined {
  try {
    const versions = (JSON.parse(body) as { versions?: unknown }).versions;
    return Array.isArray(versions) ? versions.length : undefined;
  } catch {
    return undefined;
  }
}

const sdistSuffixes = ['.tar.gz', '.tar.bz2', '.tar.xz', '.tgz', '.tar', '.zip'];

/**
 * The version in a distribution file name, if the file is for `name`. Wheels spell the name with
 * underscores and put the version second (PEP 427); sdists are `<name>-<version>.<archive>`, where the
 * name itself may hold dashes, so every split point is tried. Eggs and other formats are ignored.
 */
function versionFromFilename(filename: string, name: string): string | undefined {
  const wanted = normalizeName(name);
  if (filename.endsWith('.whl')) {
    const parts = filename.slice(0, -4).split('-');
    if (parts.length !== 5 && parts.length !== 6) return undefined;
    const [distribution = '', version = ''] = parts;
    return normalizeName(distribution) === wanted && parseVersion(version) !== undefined ? version : undefined;
  }
  const suffix = sdistSuffixes.find((candidate) => filename.toLowerCase().endsWith(candidate));
  if (suffix === undefined) return undefined;
  const stem = filename.slice(0, -suffix.length);
  for (let index = stem.indexOf('-'); index !== -1; index = stem.indexOf('-', index + 1)) {
    if (normalizeName(stem.slice(0, index)) !== wanted) continue;
    const version = stem.slice(index + 1);
    if (parseVersion(version) !== undefined) return version;
  }
  return undefined;
}

function filesFromSimpleJson(body: string): ListedFile[] | undefined {
  let document: { files?: unknown };
  try {
    document = JSON.parse(body) as { files?: unknown };
  } catch {
    return undefined;
  }
  if (!Array.isArray(document.files)) return undefined;
  const files: ListedFile[] = [];
  for (const file of document.files as Array<Record<string, unknown> | null>) {
    if (file === null || typeof file !== 'object' || typeof file.filename !== 'string') continue;
    const yanked = file.yanked;
    const { uploadTimeMs } = optionalFile(file.filename, file['upload-time']);
    files.push({
      filename: file.filename,
      // PEP 691: `yanked` is false, true, or a string giving the reason (which also means yanked).
      yanked: yanked === true || (typeof yanked === 'string'),
      requiresPython: stringOrUndefined(file['requires-python']),
      // PEP 700
      ...(uploadTimeMs === undefined ? {} : { uploadTimeMs }),
    });
  }
  return files;
}

/** PEP 503: one `<a>` per file; `data-yanked` (PEP 592) and `data-requires-python` (PEP 345) attributes. */
function filesFromSimpleHtml(body: string): ListedFile[] | undefined {
  const files: ListedFile[] = [];
  for (const match of body.matchAll(/<a\b([^>]*)>([\s\S]*?)<\/a\s*>/gi)) {
    const attributes = parseAttributes(match[1] ?? '');
    const text = decodeEntities((match[2] ?? '').replace(/<[^>]*>/g, '')).trim();
    const href = attributes.get('href');
    const fromHref = href === undefined ? undefined : decodeURIComponent(href.split('#')[0]?.split('?')[0]?.split('/').at(-1) ?? '');
    const filename = text !== '' ? text : fromHref;
    if (filename === undefined || filename === '') continue;
    files.push({ filename, yanked: attributes.has('data-yanked'), requiresPython: attributes.get('data-requires-python') });
  }
  return files;
}

function parseAttributes(text: string): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const match of text.matchAll(/([^\s=/>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g)) {
    const key = match[1]?.toLowerCase();
    if (key !== undefined) attributes.set(key, decodeEntities(match[2] ?? match[3] ?? match[4] ?? ''));
  }
  return attributes;
}

function decodeEntities(text: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (entity: string, body: string) => {
    if (body.startsWith('#x') || body.startsWith('#X')) return safeCodePoint(Number.parseInt(body.slice(2), 16)) ?? entity;
    if (body.startsWith('#')) return safeCodePoint(Number.parseInt(body.slice(1), 10)) ?? entity;
    return named[body.toLowerCase()] ?? entity;
  });
}

function safeCodePoint(codePoint: number): string | undefined {
  return Number.isInteger(codePoint) && codePoint >= 0 && codePoint <= 0x10ffff ? String.fromCodePoint(codePoint) : undefined;
}

type FetchOutcome = { kind: 'ok'; body: string; contentType: string } | { kind: 'not-found' } | { kind: 'unreachable'; reason: string };

/**
 * GET `address`. Credentials in it (`https://user:token@host/simple`) are sent as a Basic
 * authorization header, since fetch refuses URLs that carry them; every log line and reason names the
 * URL without them.
 */
async function request(address: string, headers: Record<string, string>, context: LookupContext): Promise<FetchOutcome> {
  throwIfAborted(context.abortSignal);
  const signal = combineSignals(context.abortSignal, context.timeoutMs);
  const startedAtMs = Date.now();
  const { url, authorization } = splitCredentials(address);
  try {
    const response = await fetch(url, {
      headers: authorization === undefined ? headers : { ...headers, authorization },
      redirect: 'follow',
      ...(signal === undefined ? {} : { signal }),
    });
    if (response.status === 404 || response.status === 410) {
      await response.body?.cancel();
      return { kind: 'not-found' };
    }
    if (!response.ok) {
      await response.body?.cancel();
      context.logger.debug(`GET ${url}: ${response.status}`);
      if (response.status === 401 || response.status === 403) {
        return { kind: 'unreachable', reason: `HTTP ${response.status}: ${authorization === undefined ? 'the index wants credentials (user:password@ in the URL)' : 'the index refused the credentials'}` };
      }
      return { kind: 'unreachable', reason: `HTTP ${response.status}` };
    }
    const body = await response.text();
    context.logger.debug(`GET ${url}: ${response.status} in ${Date.now() - startedAtMs} ms`);
    return { kind: 'ok', body, contentType: response.headers.get('content-type')?.toLowerCase() ?? '' };
  } catch (error) {
    throwIfAborted(context.abortSignal);
    const reason = describeFetchError(error, context.timeoutMs);
    context.logger.debug(`GET ${url}: ${reason}`);
    return { kind: 'unreachable', reason };
  }
}

/** A fetch failure in a few plain words: `connection refused`, `DNS lookup failed`, `no answer within 5000 ms`. */
export function describeFetchError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return `no answer within ${timeoutMs} ms`;
  const cause = error instanceof Error ? (error.cause as (Error & { code?: string }) | undefined) : undefined;
  switch (cause?.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'DNS lookup failed';
    case 'ECONNRESET':
      return 'connection reset';
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connection timed out';
    default:
      return cause?.message ?? (error instanceof Error ? error.message : String(error));
  }
}

function trimSlashes(url: string): string {
  return url.replace(/\/+$/, '');
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
