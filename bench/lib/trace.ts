/**
 * Where a run's time goes, seen from the Docker API: every request dockerode makes in this process
 * (the runtime's and the baseline's alike, since they share the module) is timed by wrapping the
 * modem's `dial`, and named by what it does (`exec create`, `exec start`, `remove`...). For hijacked
 * exec starts the span runs until the stream closes, i.e. the exec's whole life; for the lifeline's
 * attach, only until the connection is upgraded.
 */
import { performance } from 'node:perf_hooks';
import { docker } from './docker.js';
import { formatMs, median } from './stats.js';

export interface DockerCall {
  kind: string;
  startedAt: number;
  endedAt: number;
}

type Dial = (options: { method?: string; path?: string; hijack?: boolean }, callback: (error: unknown, result: unknown) => void) => void;

const calls: DockerCall[] = [];
let installed = false;

/** `POST /v1.41/containers/abc/exec?` -> `exec create`. */
function callKind(method: string, path: string): string {
  const bare = path.replace(/^\/v[\d.]+/, '').replace(/\?.*$/, '');
  const rules: Array<[RegExp, string]> = [
    [/^\/containers\/create$/, 'container create'],
    [/^\/containers\/json$/, 'container list'],
    [/^\/containers\/[^/]+\/attach$/, 'attach (lifeline)'],
    [/^\/containers\/[^/]+\/start$/, 'container start'],
    [/^\/containers\/[^/]+\/exec$/, 'exec create'],
    [/^\/exec\/[^/]+\/start$/, 'exec start+stream'],
    [/^\/exec\/[^/]+\/json$/, 'exec inspect'],
    [/^\/containers\/[^/]+\/json$/, 'container inspect'],
    [/^\/containers\/[^/]+$/, method === 'DELETE' ? 'container remove' : 'container ?'],
    [/^\/containers\/[^/]+\/wait$/, 'container wait'],
    [/^\/events$/, 'events stream'],
    [/^\/_ping$/, 'ping'],
    [/^\/volumes\/create$/, 'volume create'],
    [/^\/images\/[^/]+\/json$/, 'image inspect'],
  ];
  for (const [pattern, name] of rules) if (pattern.test(bare)) return name;
  return `${method} ${bare}`;
}

/** Starts recording every Docker API request of this process (idempotent). */
export function traceDockerCalls(): void {
  if (installed) return;
  installed = true;
  const prototype = Object.getPrototypeOf(docker().modem) as { dial: Dial };
  const original = prototype.dial;
  prototype.dial = function (this: unknown, options, callback) {
    const call: DockerCall = { kind: callKind(options.method ?? 'GET', options.path ?? ''), startedAt: performance.now(), endedAt: Number.NaN };
    calls.push(call);
    return original.call(this, options, (error, result) => {
      const stream = result as { once?: (event: string, listener: () => void) => void } | undefined;
      // An exec's span is its whole life (until its stream closes); an attach's only the upgrade.
      if (!error && call.kind === 'exec start+stream' && typeof stream?.once === 'function') {
        stream.once('close', () => (call.endedAt = performance.now()));
      } else if (call.kind === 'events stream') {
        call.endedAt = call.startedAt;
      } else {
        call.endedAt = performance.now();
      }
      callback(error, result);
    });
  };
}

export function takeCalls(): DockerCall[] {
  return calls.splice(0);
}

/**
 * Per kind: how many calls per sample and the median duration, split into those that started inside
 * the measured window (on the caller's clock) and those that started after it (background work).
 */
export function summarizeCalls(samples: Array<{ from: number; to: number; next: number }>, recorded: readonly DockerCall[]): string {
  const inside = new Map<string, number[]>();
  const after = new Map<string, number[]>();
  for (const sample of samples) {
    for (const call of recorded) {
      if (call.startedAt < sample.from || call.startedAt >= sample.next) continue;
      const table = call.startedAt <= sample.to ? inside : after;
      const durations = table.get(call.kind) ?? [];
      durations.push((Number.isNaN(call.endedAt) ? sample.next : call.endedAt) - call.startedAt);
      table.set(call.kind, durations);
    }
  }
  const lines: string[] = [];
  const describe = (title: string, table: Map<string, number[]>): void => {
    lines.push(`    ${title}`);
    for (const [kind, durations] of [...table.entries()].sort()) {
      lines.push(`      ${kind.padEnd(20)} ${(durations.length / samples.length).toFixed(1).padStart(4)}/sample  median ${formatMs(median(durations))}`);
    }
  };
  // The caller's own time: from the call to its first request, and from the end of its last awaited
  // exec request (its inspect) to the call's return.
  const before: number[] = [];
  const afterLast: number[] = [];
  for (const sample of samples) {
    const own = recorded.filter((call) => call.startedAt >= sample.from && call.startedAt <= sample.to && call.kind.startsWith('exec'));
    if (own.length === 0) continue;
    before.push(own[0]!.startedAt - sample.from);
    afterLast.push(sample.to - Math.max(...own.map((call) => (Number.isNaN(call.endedAt) ? call.startedAt : call.endedAt))));
  }
  lines.push(`    in the caller, before its exec's first request: median ${formatMs(median(before))}; after the exec's last request ended: median ${formatMs(median(afterLast))}`);
  describe('Docker API calls made while the caller waited:', inside);
  describe('Docker API calls started after the call returned (background):', after);
  return lines.join('\n');
}
