/**
 * Pins bare requirement names to the newest release the configured source offers (`requests` ->
 * `requests==2.32.3`), so that a cached environment is keyed by exact versions. Anything that already
 * says what it wants (`numpy>=1.26`, `pkg==1.0`, `pkg[extra]`, `name @ URL`) is left as written.
 *
 * Never throws for a source that does not answer: the requirement stays unpinned and one warning per
 * source names it. Only the caller's abort throws.
 */
import { throwIfAborted } from '../abort.js';
import { toLogger } from '../logger.js';
import { checkPinOptions, pinDefaults, type PinDetail, type PinOptions, type PinnedRequirements } from './options.js';
import { bareRequirementName, normalizeName } from './requirement-names.js';
import { defaultCacheDirectory } from '../cache-directory.js';
import { maskUrl, urlWithoutCredentials } from '../index-url.js';
import { VersionCache } from './version-cache.js';
import { lookupFindLinks, lookupPypiJson, lookupSimpleIndex, type LookupContext, type VersionLookup } from './version-sources.js';

export async function pinRequirements(requirements: readonly string[], options: PinOptions = {}): Promise<PinnedRequirements> {
  checkPinOptions(options);
  const logger = toLogger(options.logger, 'Requirements');
  throwIfAborted(options.abortSignal);
  const names = new Map<string, string>(); // normalized -> name as written first
  for (const requirement of requirements) {
    const name = bareRequirementName(requirement);
    if (name !== undefined && !names.has(normalizeName(name))) names.set(normalizeName(name), name);
  }
  const details = new Map<string, PinDetail>([...names].map(([normalized, name]) => [normalized, { name }]));
  const detailList = (): PinDetail[] => [...details.values()];
  if (options.pin === false || names.size === 0) return { requirements: [...requirements], warnings: [], details: detailList() };
  if (options.noIndex === true && options.findLinks === undefined) {
    logger.debug('No index and no find-links: requirements stay unpinned.');
    return { requirements: [...requirements], warnings: [], details: detailList() };
  }

  const minReleaseAgeDays = options.minReleaseAgeDays ?? pinDefaults.minReleaseAgeDays;
  const context: LookupContext = {
    pythonVersion: options.pythonVersion,
    timeoutMs: options.timeoutMs ?? pinDefaults.timeoutMs,
    abortSignal: options.abortSignal,
    logger,
    minReleaseAgeMs: minReleaseAgeDays * 86_400_000,
    allowSdist: options.allowSdist === true,
    ...(options.platform === undefined ? {} : { platform: options.platform }),
  };
  // Local files the user gave are trusted as they are: no cooldown (they have no upload time anyway).
  const localContext: LookupContext = { ...context, minReleaseAgeMs: 0 };
  const policyKey = JSON.stringify([minReleaseAgeDays, options.allowSdist === true, options.platform ?? null]);
  const indexAddress = options.indexUrl ?? options.jsonApiUrl ?? pinDefaults.jsonApiUrl;
  // What warnings and log lines name: never the credentials, which only the requests carry.
  const indexLabel = maskUrl(indexAddress);
  // An `indexUrl` is a simple index; otherwise the source is PyPI's JSON API. The cache keeps the two
  // apart, and keys them by the URL without credentials: the cache file must not hold a secret.
  const lookupIndex = options.indexUrl === undefined ? lookupPypiJson : lookupSimpleIndex;
  const cacheSource = `${options.indexUrl === undefined ? 'json' : 'simple'}:${urlWithoutCredentials(indexAddress)}`;
  const findLinksLabel = options.findLinks === undefined ? undefined : maskUrl(options.findLinks);
  const cache = options.noIndex === true ? undefined : await VersionCache.open(options.cacheDir ?? defaultCacheDirectory(), options.cacheTtlMs ?? pinDefaults.cacheTtlMs, logger);

  const pinned = new Map<string, string>();
  const unreachable = new Map<string, { reason: string; names: string[] }>();
  const sourcesDown = new Map<string, string>();
  // Names pinned from a source that gave no upload times: the cooldown could not be applied to them.
  const cooldownUnchecked: string[] = [];
  // Lookups finish in any order; warnings are reported in the order of the requirements.
  const warningsByName = new Map<string, string[]>();
  const warn = (name: string, warning: string): void => {
    warningsByName.set(name, [...(warningsByName.get(name) ?? []), warning]);
  };

  const resolveOne = async (normalized: string, name: string): Promise<void> => {
    const detail = details.get(normalized) ?? { name };
    if (options.findLinks !== undefined) {
      const local = await lookupFindLinks(options.findLinks, name, localContext);
      if (local.kind === 'found') {
        pinned.set(normalized, local.version);
        detail.version = local.version;
        detail.from = 'find-links';
        logger.debug(`${name}: ${local.version} from ${findLinksLabel}`);
        return;
      }
      if (options.noIndex === true) {
        if (local.kind === 'no-release' && local.policy !== undefined) detail.refusal = { policy: local.policy, reason: local.reason };
        report(local, name, `the find-links location ${findLinksLabel}`);
        return;
      }
      if (local.kind === 'unreachable') report(local, name, `the find-links location ${findLinksLabel}`);
    }
    const key = VersionCache.key(cacheSource, normalized, options.pythonVersion, policyKey);
    const cached = cache?.get(key);
    if (cached !== undefined) {
      logger.debug(`${name}: ${cached.version ?? 'not on the index'} (cached)`);
      if (cached.version === null) {
        detail.facts = { exists: false };
        report({ kind: 'not-found' }, name, indexLabel);
      } else {
        pinned.set(normalized, cached.version);
        detail.version = cached.version;
        detail.from = 'index';
        if (cached.facts !== undefined) detail.facts = cached.facts;
      }
      return;
    }
    // Once the index has failed to answer at all, the remaining names do not each wait for a timeout.
    const downReason = sourcesDown.get(indexLabel);
    if (downReason !== undefined) {
      report({ kind: 'unreachable', reason: downReason }, name, indexLabel);
      return;
    }
    const answer = await lookupIndex(indexAddress, name, context);
    if (answer.kind === 'unreachable' && !answer.reason.startsWith('HTTP ')) sourcesDown.set(indexLabel, answer.reason);
    if (answer.kind === 'found') {
      if (answer.cooldownUnchecked === true) cooldownUnchecked.push(name);
      cache?.set(key, answer.version, answer.facts);
      pinned.set(normalized, answer.version);
      detail.version = answer.version;
      detail.from = 'index';
      if (answer.facts !== undefined) detail.facts = answer.facts;
      logger.debug(`${name}: ${answer.version} from ${indexLabel}`);
      return;
    }
    if (answer.kind === 'not-found') {
      cache?.set(key, null);
      detail.facts = { exists: false };
    }
    if (answer.kind === 'no-release') {
      if (answer.facts !== undefined) detail.facts = answer.facts;
      if (answer.policy !== undefined) detail.refusal = { policy: answer.policy, reason: answer.reason };
    }
    report(answer, name, indexLabel);
  };

  const report = (answer: Exclude<VersionLookup, { kind: 'found' }>, name: string, source: string): void => {
    switch (answer.kind) {
      case 'not-found':
        warn(name, `${name} is not on ${source}: the package may not exist under that name. Left unpinned.`);
        break;
      case 'no-release':
        warn(name, `${name} has no usable release on ${source} (${answer.reason}).${answer.policy === undefined ? ' Left unpinned.' : ''}`);
        break;
      case 'unreachable': {
        const entry = unreachable.get(source) ?? { reason: answer.reason, names: [] };
        entry.names.push(name);
        unreachable.set(source, entry);
        break;
      }
    }
  };

  try {
    await forEachLimited([...names], Math.max(1, options.concurrency ?? pinDefaults.concurrency), ([normalized, name]) => resolveOne(normalized, name));
  } finally {
    await cache?.save();
  }

  const warnings: string[] = [];
  for (const [source, { reason, names: left }] of unreachable) {
    const ordered = [...names.values()].filter((name) => left.includes(name));
    warnings.push(`Could not reach ${source} (${reason}); left unpinned: ${ordered.join(', ')}.`);
  }
  if (cooldownUnchecked.length > 0) {
    const ordered = [...names.values()].filter((name) => cooldownUnchecked.includes(name));
    warnings.push(`${indexLabel} gives no upload times, so releases younger than ${minReleaseAgeDays} days could not be skipped for: ${ordered.join(', ')}.`);
  }
  for (const name of names.values()) warnings.push(...(warningsByName.get(name) ?? []));
  for (const warning of warnings) logger.warn(warning);

  return {
    requirements: requirements.map((requirement) => {
      const name = bareRequirementName(requirement);
      const version = name === undefined ? undefined : pinned.get(normalizeName(name));
      return name !== undefined && version !== undefined ? `${name}==${version}` : requirement;
    }),
    warnings,
    details: detailList(),
  };
}

/** Runs `work` over `items` with at most `limit` running at once; the first failure rejects. */
async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next] as T;
      next += 1;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
