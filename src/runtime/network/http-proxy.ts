/**
 * The host side of pycage's egress proxy: what happens to ONE connection a sandboxed script opened to
 * its proxy (HTTP_PROXY=http://127.0.0.1:3128 in the container), once the tunnel has carried it to the
 * host as a Duplex stream. It reads the request head, asks the egress policy, resolves the name itself,
 * connects to the address it checked (never to the name again: no DNS rebinding), and relays.
 *
 * Two request forms, as HTTP clients send them to a proxy:
 * - `CONNECT host:port` (HTTPS and any other TCP): answered `200 Connection Established`, then bytes
 *   both ways untouched.
 * - absolute-form plain HTTP (`GET http://host/path HTTP/1.1`): sent on in origin-form with `Proxy-*`
 *   and hop-by-hop headers removed and `Connection: close`, so one client connection carries exactly
 *   one request; the client opens another for the next (HTTP clients do so when the server closes).
 *
 * A refused destination gets `403` with `X-Pycage-Blocked: <reason>` before any connection is tried.
 * Request headers are never logged: a package index's basic auth passes through here.
 */
import { lookup } from 'node:dns/promises';
import { connect as netConnect, Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Duplex } from 'node:stream';
import { untilAborted } from '../../abort.js';
import { Logger } from '../../logger.js';
import { type BlockedEntry, formatBlockedEntry } from './blocked-log.js';
import { checkDestination, checkHostName, type EgressPolicy, formatHostPort, parseHost, parsePort } from './policy.js';

export interface ProxyConnectionOptions {
  policy: EgressPolicy;
  /** Called once for each destination the policy refused (not for malformed requests or DNS failures). */
  onBlocked: (entry: BlockedEntry) => void;
  /**
   * Addresses of a host name. Not called for IP addresses, names in `extraHosts`, or names the policy
   * refuses anyway (no DNS query leaves for them).
   * @default every address `dns.promises.lookup` gives, in its order
   */
  resolve?: (host: string) => Promise<readonly string[]>;
  /**
   * The addresses of this machine, read for each connection: a public one among them is refused as
   * `host` unless named (see `DestinationContext`).
   * @default every address of this machine's network interfaces (`os.networkInterfaces()`)
   */
  hostAddresses?: () => readonly string[];
  /** Names answered without DNS, as Docker's `--add-host` would: `{ 'web.test': '172.20.0.2' }`. Keys compare case-insensitively. */
  extraHosts?: Readonly<Record<string, readonly string[] | string>>;
  /**
   * Opens the upstream connection to an address the policy allowed; tests inject one to see calls.
   * @default net.connect({ host: address, port, allowHalfOpen: true })
   */
  connect?: (target: { address: string; port: number }) => Socket;
  logger?: Logger;
  /** Largest request head (request line and headers) read; past it the answer is 431. @default 16384 */
  maxHeaderBytes?: number;
  /** Time the client has to send its request head (answer 408), and to close after an error answer. @default 10000 */
  headerTimeoutMs?: number;
  /** Time for resolving and connecting upstream, together (answer 504). @default 10000 */
  connectTimeoutMs?: number;
  /** Ends the connection at once, both sides, in any phase. */
  abortSignal?: AbortSignal;
}

/** How a connection ended, for the caller's log and for tests. */
export type ProxyOutcome =
  | { kind: 'relayed'; host: string; port: number; address: string }
  | { kind: 'blocked'; host: string; port: number; reason: string }
  /** Answered with an error status that is no policy decision: a malformed request, DNS or upstream failure. */
  | { kind: 'failed'; status: number; message: string }
  /** Nothing was answered: the client left before sending a request, or the connection was aborted. */
  | { kind: 'closed'; message: string };

const statusTexts: Readonly<Record<number, string>> = {
  200: 'Connection Established',
  400: 'Bad Request',
  403: 'Forbidden',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
  502: 'Bad Gateway',
  504: 'Gateway Timeout',
};

/** Serves one proxy connection to its end. Never rejects: every failure is answered or ends the connection. */
export async function serveProxyConnection(client: Duplex, options: ProxyConnectionOptions): Promise<ProxyOutcome> {
  const logger = (options.logger ?? new Logger()).child('EgressProxy');
  const headerTimeoutMs = options.headerTimeoutMs ?? 10_000;
  const { abortSignal } = options;
  // Kept for the connection's whole life: an 'error' with no listener would crash the host process.
  client.on('error', (error: Error) => logger.debug(`client connection: ${error.message}`));
  const answer = (status: number, message: string, headers: Record<string, string> = {}) =>
    answerAndClose(client, { status, body: `${message}\n`, headers, lingerMs: headerTimeoutMs, ...(abortSignal ? { abortSignal } : {}) });
  const fail = async (status: number, message: string): Promise<ProxyOutcome> => {
    logger.debug(`${status}: ${message}`);
    await answer(status, message);
    return { kind: 'failed', status, message };
  };

  if (abortSignal?.aborted) {
    client.destroy();
    return { kind: 'closed', message: 'aborted' };
  }
  const head = await readRequestHead(client, { maxHeaderBytes: options.maxHeaderBytes ?? 16_384, headerTimeoutMs, abortSignal });
  if (head.kind === 'closed') {
    client.destroy();
    return { kind: 'closed', message: head.message };
  }
  if (head.kind === 'too-large') return fail(431, 'pycage: request head too large');
  if (head.kind === 'timeout') return fail(408, 'pycage: no request received in time');

  const request = parseRequest(head.text);
  if (request.kind === 'invalid') return fail(400, `pycage: ${request.message}`);
  const { host, port } = request;

  const blocked = async (reason: string): Promise<ProxyOutcome> => {
    const entry = { host, port, reason };
    logger.info(`blocked ${formatBlockedEntry(entry)}`);
    try {
      options.onBlocked(entry);
    } catch (error) {
      // The caller's bookkeeping failing must not leave the script without its answer.
      logger.warn(`onBlocked failed: ${errorCode(error)}`);
    }
    await answer(403, `pycage blocked ${formatBlockedEntry(entry)}`, { 'X-Pycage-Blocked': reason });
    return { kind: 'blocked', host, port, reason };
  };

  // Refuse what no rule could admit before resolving: no DNS query leaves for a name that is not allowed.
  const nameCheck = checkHostName(options.policy, host, port);
  if (!nameCheck.allowed) return blocked(nameCheck.reason);

  const connectSignal = AbortSignal.any([AbortSignal.timeout(options.connectTimeoutMs ?? 10_000), ...(abortSignal ? [abortSignal] : [])]);
  let addresses: readonly string[];
  try {
    addresses = await untilAborted(addressesOf(host, options), connectSignal);
  } catch (error) {
    if (abortSignal?.aborted) return abandon(client, 'aborted');
    if (connectSignal.aborted) return fail(504, `pycage could not resolve ${host} in time`);
    return fail(502, `pycage could not resolve ${host} (${errorCode(error)})`);
  }

  const context = { hostAddresses: (options.hostAddresses ?? machineAddresses)() };
  const allowed = addresses.filter((address) => checkDestination(options.policy, host, port, [address], context).allowed);
  if (allowed.length === 0) {
    const decision = checkDestination(options.policy, host, port, addresses, context);
    return blocked(decision.allowed ? 'no address' : decision.reason);
  }

  let upstream: Socket | undefined;
  let connectedAddress = '';
  let lastError: unknown;
  for (const address of allowed) {
    try {
      upstream = await openUpstream(options.connect ?? defaultConnect, { address, port }, connectSignal);
      connectedAddress = address;
      logger.debug(`${request.kind === 'connect' ? 'CONNECT' : request.method} ${formatHostPort(host, port)} via ${address}`);
      break;
    } catch (error) {
      lastError = error;
      if (connectSignal.aborted) break;
    }
  }
  if (upstream === undefined) {
    if (abortSignal?.aborted) return abandon(client, 'aborted');
    if (connectSignal.aborted) return fail(504, `pycage could not connect to ${formatHostPort(host, port)} in time`);
    return fail(502, `pycage could not connect to ${formatHostPort(host, port)} (${errorCode(lastError)})`);
  }
  upstream.on('error', (error: Error) => logger.debug(`upstream ${formatHostPort(host, port)}: ${error.message}`));
  if (client.destroyed) {
    upstream.destroy();
    return { kind: 'closed', message: 'client left while connecting' };
  }

  if (request.kind === 'connect') client.write(`HTTP/1.1 200 ${statusTexts[200]}\r\n\r\n`);
  else upstream.write(request.head, 'latin1');
  // Bytes the client sent after its head (a TLS hello, a request body) go first.
  if (head.rest.length > 0) upstream.write(head.rest);
  await relay(client, upstream, abortSignal);
  return { kind: 'relayed', host, port, address: connectedAddress };
}

async function addressesOf(host: string, options: ProxyConnectionOptions): Promise<readonly string[]> {
  const parsed = parseHost(host);
  if (parsed?.kind === 'address') return [host];
  for (const [name, addresses] of Object.entries(options.extraHosts ?? {})) {
    if (parseHost(name)?.text === host) return typeof addresses === 'string' ? [addresses] : addresses;
  }
  if (options.resolve !== undefined) return options.resolve(host);
  return (await lookup(host, { all: true })).map((entry) => entry.address);
}

/** Every address on this machine's interfaces, read now: interfaces come and go (a VPN, a new bridge). */
function machineAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((entries) => (entries ?? []).map((entry) => entry.address));
}

function defaultConnect(target: { address: string; port: number }): Socket {
  // Half-open allowed: a client that finished sending may still be reading the answer.
  return netConnect({ host: target.address, port: target.port, allowHalfOpen: true });
}

/** The socket once connected; destroyed and rejected on an error or when `abortSignal` fires. */
function openUpstream(connect: NonNullable<ProxyConnectionOptions['connect']>, target: { address: string; port: number }, abortSignal: AbortSignal): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(target);
    const cleanup = (): void => {
      socket.off('connect', onConnect);
      socket.off('error', onError);
      abortSignal.removeEventListener('abort', onAbort);
    };
    const onConnect = (): void => {
      cleanup();
      resolve(socket);
    };
    const onError = (error: Error): void => {
      cleanup();
      socket.destroy();
      reject(error);
    };
    const onAbort = (): void => onError(new Error('timed out'));
    socket.once('connect', onConnect);
    socket.once('error', onError);
    if (abortSignal.aborted) onAbort();
    else abortSignal.addEventListener('abort', onAbort, { once: true });
  });
}

/** The error's code (ENOTFOUND, ECONNREFUSED) or else its message, on one line: it goes into a status line's body. */
/** The system's own words for the usual failures (what pip or curl would print), else the error code. */
const errorWords: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'Connection refused',
  ECONNRESET: 'Connection reset by peer',
  EHOSTUNREACH: 'No route to host',
  ENETUNREACH: 'Network is unreachable',
  ETIMEDOUT: 'Connection timed out',
  ENOTFOUND: 'Name or service not known',
  EAI_AGAIN: 'Temporary failure in name resolution',
};

function errorCode(error: unknown): string {
  const code = error instanceof Error ? (error as NodeJS.ErrnoException).code : undefined;
  const text = code !== undefined ? (errorWords[code] ?? code) : error instanceof Error ? error.message : String(error);
  return text.replace(/[\x00-\x1f\x7f]+/g, ' ').trim();
}

function abandon(client: Duplex, message: string): ProxyOutcome {
  client.destroy();
  return { kind: 'closed', message };
}

type RequestHead =
  | { kind: 'head'; text: string; rest: Buffer }
  | { kind: 'too-large' }
  | { kind: 'timeout' }
  | { kind: 'closed'; message: string };

/** Reads up to the blank line that ends the request head; leaves the client paused, with what followed in `rest`. */
function readRequestHead(
  client: Duplex,
  limits: { maxHeaderBytes: number; headerTimeoutMs: number; abortSignal: AbortSignal | undefined },
): Promise<RequestHead> {
  return new Promise((resolve) => {
    let received = Buffer.alloc(0);
    const finish = (result: RequestHead): void => {
      clearTimeout(timer);
      client.off('data', onData);
      client.off('end', onEnd);
      client.off('close', onEnd);
      limits.abortSignal?.removeEventListener('abort', onAbort);
      client.pause();
      resolve(result);
    };
    const onData = (chunk: Buffer | string): void => {
      received = Buffer.concat([received, typeof chunk === 'string' ? Buffer.from(chunk) : chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end !== -1 && end + 4 <= limits.maxHeaderBytes) {
        finish({ kind: 'head', text: received.subarray(0, end).toString('latin1'), rest: received.subarray(end + 4) });
      } else if (received.length >= limits.maxHeaderBytes) {
        finish({ kind: 'too-large' });
      }
    };
    const onEnd = (): void => finish({ kind: 'closed', message: 'client closed before a complete request' });
    const onAbort = (): void => finish({ kind: 'closed', message: 'aborted' });
    const timer = setTimeout(() => finish({ kind: 'timeout' }), limits.headerTimeoutMs);
    client.on('data', onData);
    client.once('end', onEnd);
    client.once('close', onEnd);
    if (limits.abortSignal?.aborted) onAbort();
    else limits.abortSignal?.addEventListener('abort', onAbort, { once: true });
  });
}

type ProxyRequest =
  | { kind: 'connect'; host: string; port: number }
  /** `head` is the request as sent upstream: origin-form, headers cleaned, `Connection: close`. */
  | { kind: 'forward'; method: string; host: string; port: number; head: string }
  | { kind: 'invalid'; message: string };

const token = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Headers that concern only the hop between the client and its proxy, never passed on. */
const hopByHopHeaders = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'proxy-authenticate', 'upgrade', 'host']);

function parseRequest(text: string): ProxyRequest {
  // Only CRLF line ends: a bare LF or CR read one way here and another way upstream is how requests get smuggled.
  const lines = text.split('\r\n');
  if (lines.some((line) => /[\r\n]/.test(line))) return { kind: 'invalid', message: 'lines must end with CRLF' };
  const requestLine = /^(\S+) (\S+) HTTP\/(1\.[01])$/.exec(lines[0] ?? '');
  if (requestLine === null) return { kind: 'invalid', message: 'not an HTTP/1.x request line' };
  const [, method = '', target = '', version = ''] = requestLine;
  if (!token.test(method)) return { kind: 'invalid', message: 'bad method' };

  const headers: Array<[string, string]> = [];
  for (const line of lines.slice(1)) {
    const match = /^([^:]+):[ \t]*(.*?)[ \t]*$/.exec(line);
    if (match === null || !token.test(match[1] ?? '')) return { kind: 'invalid', message: 'malformed header line' };
    if (/[\x00-\x08\x0a-\x1f\x7f]/.test(match[2] ?? '')) return { kind: 'invalid', message: 'control character in a header' };
    headers.push([match[1] ?? '', match[2] ?? '']);
  }

  if (method === 'CONNECT') {
    const authority = splitAuthority(target, undefined);
    if (authority === undefined) return { kind: 'invalid', message: 'CONNECT takes host:port' };
    return { kind: 'connect', ...authority };
  }

  const absolute = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)([^#]*)/.exec(target);
  if (absolute === null) return { kind: 'invalid', message: 'a proxy takes absolute-form requests (http://host/path) or CONNECT host:port' };
  const [, scheme = '', authorityText = '', pathAndQuery = ''] = absolute;
  if (scheme.toLowerCase() !== 'http') return { kind: 'invalid', message: `${scheme.toLowerCase()}:// requests go through CONNECT, not absolute-form` };
  if (authorityText.includes('@')) return { kind: 'invalid', message: 'credentials in the request URL are not passed on; send an Authorization header' };
  const authority = splitAuthority(authorityText, 80);
  if (authority === undefined) return { kind: 'invalid', message: 'bad host or port in the request URL' };

  const connectionTokens = new Set(
    headers.filter(([name]) => name.toLowerCase() === 'connection').flatMap(([, value]) => value.toLowerCase().split(',').map((item) => item.trim())),
  );
  const kept = headers.filter(([name]) => {
    const lower = name.toLowerCase();
    return !hopByHopHeaders.has(lower) && !lower.startsWith('proxy-') && !connectionTokens.has(lower);
  });
  const path = pathAndQuery === '' ? '/' : pathAndQuery.startsWith('/') ? pathAndQuery : `/${pathAndQuery}`;
  const head = [
    `${method} ${path} HTTP/${version}`,
    `Host: ${authorityText}`,
    ...kept.map(([name, value]) => `${name}: ${value}`),
    'Connection: close',
    '',
    '',
  ].join('\r\n');
  return { kind: 'forward', method, ...authority, head };
}

/** `host:port` or `[v6]:port` (the port may be left out when `defaultPort` is given) -> canonical host and port. */
function splitAuthority(text: string, defaultPort: number | undefined): { host: string; port: number } | undefined {
  const match = /^(\[[^\]]*\]|[^:[\]]*)(?::(\d*))?$/.exec(text);
  if (match === null) return undefined;
  const [, hostText = '', portText] = match;
  const port = portText === undefined || portText === '' ? defaultPort : parsePort(portText);
  const host = parseHost(hostText);
  if (port === undefined || host === undefined) return undefined;
  return { host: host.text, port };
}

/**
 * Sends a short plain-text answer and ends the connection: what the client still sends is read and
 * dropped (closing with unread data would reset the connection and could lose the answer), for at
 * most `lingerMs`.
 */
function answerAndClose(
  client: Duplex,
  answer: { status: number; body: string; headers: Record<string, string>; lingerMs: number; abortSignal?: AbortSignal },
): Promise<void> {
  const body = Buffer.from(answer.body, 'utf8');
  const headerLines = Object.entries({
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(body.length),
    Connection: 'close',
    ...answer.headers,
  }).map(([name, value]) => `${name}: ${value}\r\n`);
  const head = `HTTP/1.1 ${answer.status} ${statusTexts[answer.status] ?? 'Error'}\r\n${headerLines.join('')}\r\n`;
  return new Promise((resolve) => {
    if (client.destroyed) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      answer.abortSignal?.removeEventListener('abort', done);
      client.destroy();
      resolve();
    };
    const timer = setTimeout(done, answer.lingerMs);
    answer.abortSignal?.addEventListener('abort', done, { once: true });
    client.once('close', done);
    client.resume();
    client.end(Buffer.concat([Buffer.from(head, 'latin1'), body]));
  });
}

/**
 * Bytes both ways with backpressure (pipe) until both sides are closed. An end in one direction is
 * passed on as a half-close; a side that closes without having ended both ways (an error, a reset)
 * takes the other down with it.
 */
function relay(client: Duplex, upstream: Duplex, abortSignal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const destroyBoth = (): void => {
      tearDown(client);
      tearDown(upstream);
    };
    let open = 2;
    const onClose = (stream: Duplex) => (): void => {
      if (!(stream.readableEnded && stream.writableFinished)) destroyBoth();
      open -= 1;
      if (open > 0) return;
      abortSignal?.removeEventListener('abort', destroyBoth);
      resolve();
    };
    for (const stream of [client, upstream]) {
      if (stream.closed) onClose(stream)();
      else stream.once('close', onClose(stream));
    }
    if (open === 0) return;
    if (abortSignal?.aborted) destroyBoth();
    else abortSignal?.addEventListener('abort', destroyBoth, { once: true });
    client.pipe(upstream);
    upstream.pipe(client);
  });
}

/**
 * Ends a stream that cannot finish properly. A TCP socket is reset rather than closed, so that the
 * peer sees a broken connection (ECONNRESET) and not a clean end it could take for a complete answer.
 */
function tearDown(stream: Duplex): void {
  if (stream.destroyed) return;
  if (stream instanceof Socket) {
    try {
      stream.resetAndDestroy();
      return;
    } catch {
      // Not a TCP handle (a Unix socket): a plain destroy below.
    }
  }
  stream.destroy();
}
