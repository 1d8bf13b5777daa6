/**
 * A package index on 127.0.0.1 for tests: PyPI's JSON API (`/pypi/<name>/json`) and a simple API
 * (`/simple/<name>/`) that answers PEP 691 JSON or PEP 503 HTML as the request's Accept header asks,
 * plus `/html-simple/<name>/` that only speaks HTML, like an older mirror. The test sets what it holds
 * and can change it while running; every request is recorded so a test can count them.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { arrivals } from './wait.js';
import { wheelFileName } from './wheels.js';

export interface IndexRelease {
  version: string;
  /** PEP 592: `true` or a reason. @default false */
  yanked?: boolean | string;
  /** `Requires-Python` of the release's files, e.g. `>=3.11`. */
  requiresPython?: string;
  /** File names of the release. @default a py3 wheel and an sdist named after the project */
  files?: string[];
  /**
   * When the release's files were uploaded (ISO 8601), served as PyPI's `upload_time_iso_8601` and
   * PEP 700's `upload-time`; `null` serves none (as an old mirror). HTML pages never carry it.
   * @default '2024-01-15T12:00:00Z', old enough for any cooldown
   */
  uploadTime?: string | null;
}

/** Project name -> releases; a bare string is a release with the defaults. */
export type IndexPackages = Record<string, Array<string | IndexRelease>>;

export interface RecordedIndexRequest {
  method: string;
  path: string;
  accept: string | undefined;
  /** The `Authorization` header as sent, so a test can check what credentials arrived. */
  authorization: string | undefined;
}

export interface IndexServerOptions {
  packages?: IndexPackages;
  /** Answer every request with this HTTP status instead (e.g. 500, 503). */
  status?: number;
  /** Wait this long before answering each request (600_000: an index that never answers while the test runs). @default 0 */
  delayMs?: number;
  /** Leave `releases` out of the JSON API's answers, so only `info` describes the project. @default false */
  omitReleases?: boolean;
  /**
   * Files served at `/files/<name>` (real wheels, so an installer can install from the index); the
   * simple API lists them with their real sha256. @default none: file links lead nowhere
   */
  files?: Record<string, Buffer>;
  /** Answer 401 to any request without this user and password (HTTP Basic). @default no authentication */
  basicAuth?: { username: string; password: string };
  /**
   * Address to listen on. `0.0.0.0` or the Docker bridge's gateway lets containers reach it.
   * @default '127.0.0.1'
   */
  host?: string;
  /** Project name -> `info.summary` of the JSON API. @default none */
  summaries?: Record<string, string>;
}

export interface IndexServer {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** `<url>/pypi`, for `jsonApiUrl` */
  jsonApiUrl: string;
  /** `<url>/simple`: PEP 691 JSON or PEP 503 HTML by content negotiation */
  simpleUrl: string;
  /** `<url>/html-simple`: PEP 503 HTML only */
  htmlSimpleUrl: string;
  requests: RecordedIndexRequest[];
  /** Resolves once `count` requests have arrived: a test acts while the client waits, not after a guessed delay. */
  waitForRequests(count: number): Promise<void>;
  /** The port it listens on. */
  port: number;
  /** The most requests that were being answered at the same moment. */
  readonly peakConcurrentRequests: number;
  /** Replaces the index's contents; later requests see the new ones. */
  setPackages(packages: IndexPackages): void;
  close(): Promise<void>;
}

export async function startIndexServer(options: IndexServerOptions = {}): Promise<IndexServer> {
  let packages = normalizeKeys(options.packages ?? {});
  const requests: RecordedIndexRequest[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const arrived = arrivals(() => requests.length);
  let inFlight = 0;
  let peakConcurrentRequests = 0;

  const server = createServer((request, response) => {
    requests.push({ method: request.method ?? 'GET', path: request.url ?? '/', accept: request.headers.accept, authorization: request.headers.authorization });
    arrived.notify();
    inFlight += 1;
    peakConcurrentRequests = Math.max(peakConcurrentRequests, inFlight);
    response.on('close', () => {
      inFlight -= 1;
    });
    const answer = (): void => {
      try {
        handle(request, response);
      } catch (error) {
        response.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
      }
    };
    if (options.delayMs !== undefined && options.delayMs > 0) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        answer();
      }, options.delayMs);
      timers.add(timer);
    } else answer();
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const fileHashes = (filename: string): Record<string, string> => {
    const file = options.files?.[filename];
    return file === undefined ? {} : { sha256: createHash('sha256').update(file).digest('hex') };
  };

  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    if (options.status !== undefined) {
      response.writeHead(options.status, { 'content-type': 'text/plain' }).end(`status ${options.status}`);
      return;
    }
    if (options.basicAuth !== undefined) {
      const expected = `Basic ${Buffer.from(`${options.basicAuth.username}:${options.basicAuth.password}`).toString('base64')}`;
      if (request.headers.authorization !== expected) {
        response.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Basic realm="test index"' }).end('Unauthorized');
        return;
      }
    }
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const parts = url.pathname.split('/').filter((part) => part !== '');
    const [area, rawName] = parts;
    if (area === 'files' && rawName !== undefined) {
      const file = options.files?.[decodeURIComponent(rawName)];
      if (file === undefined) response.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
      else response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': file.length }).end(file);
      return;
    }
    if ((area === 'simple' || area === 'html-simple') && rawName === undefined) {
      // The root page (PEP 503): one link per project.
      const links = [...packages.values()].map((project) => `<a href="${escapeHtml(normalize(project.name))}/">${escapeHtml(project.name)}</a>`);
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!DOCTYPE html>\n<html><body>\n${links.join('\n')}\n</body></html>\n`);
      return;
    }
    const name = rawName === undefined ? undefined : normalize(decodeURIComponent(rawName));
    const releases = name === undefined ? undefined : packages.get(name);
    if (releases === undefined || name === undefined) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
      return;
    }
    if (area === 'pypi' && parts[2] === 'json') {
      sendJson(response, 'application/json', pypiJson(releases, options.omitReleases === true, options.summaries?.[releases.name]));
      return;
    }
    if (area === 'simple' || area === 'html-simple') {
      const accept = request.headers.accept ?? '';
      if (area === 'simple' && accept.includes('application/vnd.pypi.simple.v1+json')) {
        sendJson(response, 'application/vnd.pypi.simple.v1+json', simpleJson(releases, fileHashes));
      } else {
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(simpleHtml(releases, fileHashes));
      }
      return;
    }
    response.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  let closed: Promise<void> | undefined;
  return {
    url,
    jsonApiUrl: `${url}/pypi`,
    simpleUrl: `${url}/simple`,
    htmlSimpleUrl: `${url}/html-simple`,
    requests,
    waitForRequests: (count) => arrived.reached(count),
    port,
    get peakConcurrentRequests() {
      return peakConcurrentRequests;
    },
    setPackages(next) {
      packages = normalizeKeys(next);
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        // A delayed answer still pending would otherwise fire into a closed server long after the test.
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closed;
    },
  };
}

/** A port on 127.0.0.1 where nothing listens (it was free a moment ago), for "index unreachable" tests. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function normalize(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

function normalizeKeys(packages: IndexPackages): Map<string, { name: string; releases: IndexRelease[] }> {
  return new Map(
    Object.entries(packages).map(([name, releases]) => [
      normalize(name),
      { name, releases: releases.map((release) => withDefaults(typeof release === 'string' ? { version: release } : release)) },
    ]),
  );
}

const defaultUploadTime = '2024-01-15T12:00:00Z';

function withDefaults(release: IndexRelease): IndexRelease {
  return release.uploadTime === undefined ? { ...release, uploadTime: defaultUploadTime } : release;
}

function filesOf(name: string, release: IndexRelease): string[] {
  return release.files ?? [wheelFileName(name, release.version), `${name}-${release.version}.tar.gz`];
}

function pypiJson(project: { name: string; releases: IndexRelease[] }, omitReleases: boolean, summary: string | undefined): unknown {
  const releases: Record<string, unknown[]> = {};
  for (const release of project.releases) {
    releases[release.version] = filesOf(project.name, release).map((filename) => ({
      filename,
      ...(release.uploadTime === undefined || release.uploadTime === null ? {} : { upload_time_iso_8601: release.uploadTime, upload_time: release.uploadTime.replace(/\.\d+Z$|Z$/, '') }),
      url: `https://files.example.invalid/${filename}`,
      yanked: release.yanked !== undefined && release.yanked !== false,
      yanked_reason: typeof release.yanked === 'string' ? release.yanked : null,
      requires_python: release.requiresPython ?? null,
    }));
  }
  // PyPI's `info` describes the newest non-prerelease; a test that needs something else sets it up so.
  const latest = project.releases.at(-1);
  return {
    info: {
      name: project.name,
      summary: summary ?? null,
      version: latest?.version ?? null,
      yanked: latest?.yanked !== undefined && latest.yanked !== false,
      requires_python: latest?.requiresPython ?? null,
    },
    ...(omitReleases ? {} : { releases }),
    urls: latest === undefined ? [] : (releases[latest.version] ?? []),
  };
}

function simpleJson(project: { name: string; releases: IndexRelease[] }, fileHashes: (filename: string) => Record<string, string>): unknown {
  return {
    // 1.1: PEP 700's `versions` and `upload-time`.
    meta: { 'api-version': '1.1' },
    name: normalize(project.name),
    versions: project.releases.map((release) => release.version),
    files: project.releases.flatMap((release) =>
      filesOf(project.name, release).map((filename) => ({
        filename,
        url: `../../files/${filename}`,
        hashes: fileHashes(filename),
        ...(release.uploadTime === undefined || release.uploadTime === null ? {} : { 'upload-time': release.uploadTime }),
        ...(release.requiresPython === undefined ? {} : { 'requires-python': release.requiresPython }),
        ...(release.yanked === undefined || release.yanked === false ? {} : { yanked: release.yanked }),
      })),
    ),
  };
}

function simpleHtml(project: { name: string; releases: IndexRelease[] }, fileHashes: (filename: string) => Record<string, string>): string {
  const links = project.releases.flatMap((release) =>
    filesOf(project.name, release).map((filename) => {
      const attributes = [
        `href="../../files/${encodeURIComponent(filename)}#sha256=${fileHashes(filename).sha256 ?? '0'}"`,
        ...(release.requiresPython === undefined ? [] : [`data-requires-python="${escapeHtml(release.requiresPython)}"`]),
        ...(release.yanked === undefined || release.yanked === false ? [] : [`data-yanked="${typeof release.yanked === 'string' ? escapeHtml(release.yanked) : ''}"`]),
      ];
      return `    <a ${attributes.join(' ')}>${escapeHtml(filename)}</a><br/>`;
    }),
  );
  return `<!DOCTYPE html>\n<html>\n  <head><meta name="pypi:repository-version" content="1.1"><title>Links for ${escapeHtml(project.name)}</title></head>\n  <body>\n    <h1>Links for ${escapeHtml(project.name)}</h1>\n${links.join('\n')}\n  </body>\n</html>\n`;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function sendJson(response: ServerResponse, contentType: string, body: unknown): void {
  response.writeHead(200, { 'content-type': contentType }).end(JSON.stringify(body));
}
