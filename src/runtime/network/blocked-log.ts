/**
 * The destinations the egress proxy refused during one run, for `result.network.blocked`: each
 * host, port and reason once, in the order first seen, and capped so that a script looping over
 * blocked addresses cannot grow the result without bound.
 */

/** One refused destination: the host as the script asked for it, the port, and why. */
export interface BlockedEntry {
  host: string;
  port: number;
  reason: string;
}

export interface BlockedLogOptions {
  /** Distinct entries kept; later distinct ones are only counted in `omitted`. @default 100 */
  maxEntries?: number;
}

export interface BlockedLog {
  /** Adds an entry unless the same host, port and reason is already there. Bound: pass it as `onBlocked` as is. */
  readonly record: (entry: BlockedEntry) => void;
  /** A copy of the entries kept so far. */
  entries(): BlockedEntry[];
  /** Distinct entries refused past `maxEntries`, not kept. */
  omitted(): number;
}

export function createBlockedLog(options: BlockedLogOptions = {}): BlockedLog {
  const maxEntries = options.maxEntries ?? 100;
  const kept = new Map<string, BlockedEntry>();
  const omittedKeys = new Set<string>();
  return {
    record: (entry) => {
      const key = JSON.stringify([entry.host, entry.port, entry.reason]);
      if (kept.has(key)) return;
      if (kept.size < maxEntries) kept.set(key, { host: entry.host, port: entry.port, reason: entry.reason });
      // The omitted keys are bounded too: a hostile script must not turn this set into a memory sink.
      else if (omittedKeys.size < maxEntries * 100) omittedKeys.add(key);
    },
    entries: () => [...kept.values()].map((entry) => ({ ...entry })),
    omitted: () => omittedKeys.size,
  };
}

/** `169.254.169.254:80 (link-local)`, as the CLI and the proxy's 403 body show it. */
export function formatBlockedEntry(entry: BlockedEntry): string {
  const hostPort = entry.host.includes(':') ? `[${entry.host}]:${entry.port}` : `${entry.host}:${entry.port}`;
  return `${hostPort} (${entry.reason})`;
}
