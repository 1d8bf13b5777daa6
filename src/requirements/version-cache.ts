/**
 * Remembers index answers on disk so that running the same script again does not ask the index again:
 * `versions.json` under the cache directory, one entry per (source, project, Python version), each
 * trusted for a limited time. The cache is an optimisation only: a file that cannot be read or written
 * is logged and ignored, never an error.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../logger.js';
import type { IndexFacts } from './version-sources.js';

interface CacheEntry {
  /** The newest version, or `null` when the source answered that it does not know the project. */
  version: string | null;
  /** What the index said about the project, shown when nobody vouched for it. */
  facts?: IndexFacts;
  savedAtMs: number;
}

/** A cached answer: the version (or `null`, not on the index) and the project's facts when known. */
export interface CachedAnswer {
  version: string | null;
  facts?: IndexFacts;
}

interface CacheFile {
  format: 1;
  entries: Record<string, CacheEntry>;
}

export class VersionCache {
  readonly filePath: string;
  readonly #ttlMs: number;
  readonly #logger: Logger;
  #entries: Record<string, CacheEntry> = {};
  readonly #changed = new Map<string, CacheEntry>();

  private constructor(filePath: string, ttlMs: number, logger: Logger) {
    this.filePath = filePath;
    this.#ttlMs = ttlMs;
    this.#logger = logger;
  }

  static async open(directory: string, ttlMs: number, logger: Logger): Promise<VersionCache> {
    const cache = new VersionCache(path.join(directory, 'versions.json'), ttlMs, logger);
    cache.#entries = await cache.#read();
    return cache;
  }

  /** `policy` holds whatever else decides the choice (cooldown, wheels only, platform), so changing it asks again. */
  static key(source: string, name: string, pythonVersion: string | undefined, policy = ''): string {
    return `${source} ${name} ${pythonVersion ?? '*'}${policy === '' ? '' : ` ${policy}`}`;
  }

  /** The cached answer while it is fresh: a version or `null` for "not on this index"; `undefined` for none. */
  get(key: string): CachedAnswer | undefined {
    const nowMs = Date.now();
    const entry = this.#changed.get(key) ?? this.#entries[key];
    if (entry === undefined || nowMs - entry.savedAtMs > this.#ttlMs || nowMs < entry.savedAtMs) return undefined;
    return { version: entry.version, ...(entry.facts === undefined ? {} : { facts: entry.facts }) };
  }

  set(key: string, version: string | null, facts?: IndexFacts): void {
    this.#changed.set(key, { version, ...(facts === undefined ? {} : { facts }), savedAtMs: Date.now() });
  }

  /** Writes the new answers, merged into whatever another process saved meanwhile; drops stale entries. */
  async save(): Promise<void> {
    // Taken before the file is read again, as the moment of this save.
    const nowMs = Date.now();
    if (this.#changed.size === 0) return;
    const entries = { ...(await this.#read()), ...Object.fromEntries(this.#changed) };
    for (const [key, entry] of Object.entries(entries)) {
      if (nowMs - entry.savedAtMs > this.#ttlMs) delete entries[key];
    }
    const file: CacheFile = { format: 1, entries };
    // Write then rename, so a reader never sees half a file.
    const temporary = `${this.filePath}.${process.pid}.${Date.now()}.tmp`;
    try {
      await mkdir(path.dirname(this.filePath), { recursive: true });
      await writeFile(temporary, `${JSON.stringify(file)}\n`);
      await rename(temporary, this.filePath);
      this.#entries = entries;
      this.#changed.clear();
    } catch (error) {
      this.#logger.debug(`Could not write the version cache ${this.filePath}: ${String(error)}`);
    }
  }

  async #read(): Promise<Record<string, CacheEntry>> {
    let text: string;
    try {
      text = await readFile(this.filePath, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.#logger.debug(`Could not read the version cache ${this.filePath}: ${String(error)}`);
      return {};
    }
    try {
      const parsed = JSON.parse(text) as Partial<CacheFile>;
      if (parsed.format !== 1 || typeof parsed.entries !== 'object' || parsed.entries === null) return {};
      const entries: Record<string, CacheEntry> = {};
      for (const [key, entry] of Object.entries(parsed.entries)) {
        if (typeof entry?.savedAtMs === 'number' && (typeof entry.version === 'string' || entry.version === null)) entries[key] = entry;
      }
      return entries;
    } catch {
      this.#logger.debug(`Ignoring a version cache that is not valid JSON: ${this.filePath}`);
      return {};
    }
  }
}
