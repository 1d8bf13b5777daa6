/**
 * Whether a package index answers, for `pycage doctor`: one request for a project every index has
 * (`pip`), then the index's root page when it does not hold that one, each with a short timeout so an
 * offline machine hears "not reachable" at once rather than hanging.
 */
import { maskUrl, splitCredentials } from '../index-url.js';
import { combineSignals } from '../abort.js';
import { describeFetchError } from './version-sources.js';

export interface IndexCheckOptions {
  /** The simple API's base, e.g. `https://pypi.org/simple` or `http://user:token@10.0.0.5:3141/simple`. */
  indexUrl: string;
  /** Time allowed for each request. @default 5000 */
  timeoutMs?: number;
  abortSignal?: AbortSignal;
}

export type IndexCheck =
  /** It answered a simple API page (`page` is what was asked: the `pip` project or the root). */
  | { kind: 'simple-api'; page: string }
  /** It answered, but not with a simple API page (`reason`: the status, or what came back). */
  | { kind: 'not-simple-api'; reason: string }
  | { kind: 'unreachable'; reason: string };

const simpleAccept = 'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1';

export async function checkIndex(options: IndexCheckOptions): Promise<IndexCheck> {
  const base = options.indexUrl.replace(/\/+$/, '');
  let lastReason = '';
  for (const page of [`${base}/pip/`, `${base}/`]) {
    const answer = await get(page, options);
    if (answer.kind === 'unreachable') return answer;
    if (answer.kind === 'page' && looksLikeSimpleApi(answer.contentType, answer.body)) return { kind: 'simple-api', page: maskUrl(page) };
    lastReason = answer.kind === 'status' ? `${maskUrl(page)} answered HTTP ${answer.status}` : `${maskUrl(page)} is not a simple API page`;
    // Credentials refused: the root will say the same.
    if (answer.kind === 'status' && (answer.status === 401 || answer.status === 403)) break;
  }
  return { kind: 'not-simple-api', reason: lastReason };
}

function looksLikeSimpleApi(contentType: string, body: string): boolean {
  if (contentType.includes('json')) {
    try {
      const document = JSON.parse(body) as { meta?: unknown; files?: unknown; projects?: unknown };
      return typeof document.meta === 'object' && (Array.isArray(document.files) || Array.isArray(document.projects));
    } catch {
      return false;
    }
  }
  return /<a\b[^>]*href=/i.test(body) || /<html/i.test(body);
}

type Answer = { kind: 'page'; contentType: string; body: string } | { kind: 'status'; status: number } | { kind: 'unreachable'; reason: string };

async function get(address: string, options: IndexCheckOptions): Promise<Answer> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const { url, authorization } = splitCredentials(address);
  const signal = combineSignals(options.abortSignal, timeoutMs);
  try {
    const response = await fetch(url, {
      headers: { accept: simpleAccept, ...(authorization === undefined ? {} : { authorization }) },
      redirect: 'follow',
      ...(signal === undefined ? {} : { signal }),
    });
    if (!response.ok) {
      await response.body?.cancel();
      return { kind: 'status', status: response.status };
    }
    return { kind: 'page', contentType: response.headers.get('content-type')?.toLowerCase() ?? '', body: await response.text() };
  } catch (error) {
    if (options.abortSignal?.aborted) throw error;
    return { kind: 'unreachable', reason: describeFetchError(error, timeoutMs) };
  }
}
