// The host side of the egress proxy, over real sockets on loopback: a client net.Socket talks to a
// local server whose accepted connections are handed to serveProxyConnection, as the tunnel will hand
// them over; upstream are an HTTP server and a TCP echo server on 127.0.0.1, reachable only because
// tests name them in allowHosts. No name is ever resolved by DNS, and nothing leaves loopback.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage } from 'node:http';
import { type AddressInfo, connect as netConnect, createServer, type Server, Socket } from 'node:net';
import { type Duplex, duplexPair } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Logger, type LogEntry } from '../../../../src/logger.js';
import {
  type BlockedEntry,
  createBlockedLog,
  createEgressPolicy,
  type ProxyConnectionOptions,
  type ProxyOutcome,
  serveProxyConnection,
} from '../../../../src/runtime/network/index.js';

const servers: Server[] = [];

async function listen(server: Server, host = '127.0.0.1'): Promise<number> {
  servers.push(server);
  server.listen(0, host);
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** Echoes every byte, and ends its side when the client ends its own (half-close passed on). */
function echoServer(): Server {
  return createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('error', () => {});
    socket.pipe(socket);
  });
}

/** Answers with what it received, as JSON: method, path, headers, body. */
function reflectingHttpServer(): Server {
  return createHttpServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = JSON.stringify({ method: request.method, url: request.url, headers: request.headers, body: Buffer.concat(chunks).toString() });
      response.writeHead(201, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'X-Upstream': 'yes' });
      response.end(body);
    });
  });
}

/** Some hosts (containers, CI runners) have no ::1; the IPv6 relay test needs it. */
const hasIpv6Loopback = await new Promise<boolean>((resolve) => {
  const probe = createServer();
  probe.once('error', () => resolve(false));
  probe.listen(0, '::1', () => probe.close(() => resolve(true)));
});

let echoPort: number;
let httpPort: number;
let closedPort: number;

beforeAll(async () => {
  echoPort = await listen(echoServer());
  httpPort = await listen(reflectingHttpServer());
  // A port nothing listens on: taken, then released.
  const probe = createServer();
  closedPort = await listen(probe);
  servers.pop();
  probe.close();
  await once(probe, 'close');
});

afterAll(async () => {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
});

interface Calls {
  connect: Array<{ address: string; port: number }>;
  resolve: string[];
}

interface Proxy {
  port: number;
  calls: Calls;
  blocked: BlockedEntry[];
  /** The outcome of each connection served, in the order they ended. */
  outcomes: ProxyOutcome[];
  /** Resolves with the outcome of the next connection to end. */
  nextOutcome(): Promise<ProxyOutcome>;
}

const proxiesToClose: Server[] = [];
const proxiedSockets = new Set<Socket>();
afterEach(async () => {
  // A failed test may leave a connection open; it must not hold the next test up.
  for (const socket of proxiedSockets) socket.destroy();
  proxiedSockets.clear();
  await Promise.all(proxiesToClose.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/**
 * A proxy front on 127.0.0.1: each accepted socket goes to serveProxyConnection. `connect` and
 * `resolve` are counted; resolve fails unless a test provides one (no DNS in unit tests).
 */
async function startProxy(options: Partial<ProxyConnectionOptions> & Pick<ProxyConnectionOptions, 'policy'>): Promise<Proxy> {
  const calls: Calls = { connect: [], resolve: [] };
  const blocked: BlockedEntry[] = [];
  const outcomes: ProxyOutcome[] = [];
  const waiting: Array<(outcome: ProxyOutcome) => void> = [];
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    proxiedSockets.add(socket);
    void serveProxyConnection(socket, {
      onBlocked: (entry) => blocked.push(entry),
      ...options,
      resolve: async (host) => {
        calls.resolve.push(host);
        if (options.resolve === undefined) throw Object.assign(new Error(`no DNS in tests: ${host}`), { code: 'ENOTFOUND' });
        return options.resolve(host);
      },
      connect: (target) => {
        calls.connect.push(target);
        return options.connect ? options.connect(target) : loopbackOnlyConnect(target);
      },
    }).then((outcome) => {
      outcomes.push(outcome);
      waiting.shift()?.(outcome);
    });
  });
  proxiesToClose.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    calls,
    blocked,
    outcomes,
    nextOutcome: () => new Promise((resolve) => waiting.push(resolve)),
  };
}

const loopbackAddresses = new Set(['127.0.0.1', '::1']);

/**
 * The upstream connect of every proxy under test. Tests never leave loopback, even when the proxy is
 * wrong: a connection anywhere else fails at once, with nothing sent.
 */
function loopbackOnlyConnect(target: { address: string; port: number }): Socket {
  if (loopbackAddresses.has(target.address)) return netConnect({ host: target.address, port: target.port, allowHalfOpen: true });
  const socket = new Socket();
  setImmediate(() => socket.destroy(Object.assign(new Error(`test guard: no connection to ${target.address}`), { code: 'ETESTGUARD' })));
  return socket;
}

async function openClient(proxy: Proxy): Promise<Socket> {
  const socket = netConnect({ host: '127.0.0.1', port: proxy.port, allowHalfOpen: true });
  await once(socket, 'connect');
  return socket;
}

/** Reads until `predicate` holds for what was received, or the stream ends. */
function readUntil(socket: Socket, predicate: (received: Buffer) => boolean): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    const cleanup = (): void => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', reject);
    };
    const onData = (chunk: Buffer): void => {
      received = Buffer.concat([received, chunk]);
      if (predicate(received)) {
        cleanup();
        socket.pause();
        resolve(received);
      }
    };
    const onEnd = (): void => {
      cleanup();
      resolve(received);
    };
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('error', reject);
    socket.resume();
  });
}

/** Resolves when the socket is closed, after an error too (which `events.once` would reject on). */
const closed = (socket: Socket) => new Promise<void>((resolve) => socket.once('close', () => resolve()));
const readHead = (socket: Socket) => readUntil(socket, (received) => received.includes('\r\n\r\n'));
const readAll = (socket: Socket) => readUntil(socket, () => false);

interface ParsedResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function parseResponse(raw: Buffer): ParsedResponse {
  const text = raw.toString();
  const end = text.indexOf('\r\n\r\n');
  const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: text.slice(end + 4) };
}

/** Sends one raw request and reads the whole answer (the proxy closes after an error answer). */
async function exchange(proxy: Proxy, raw: string | Buffer): Promise<ParsedResponse> {
  const socket = await openClient(proxy);
  const answer = readAll(socket);
  socket.write(raw);
  const response = parseResponse(await answer);
  socket.destroy();
  return response;
}

const publicPolicy = createEgressPolicy();

describe('CONNECT', () => {
  it('relays bytes both ways to an allowed address, early bytes included, and passes the half-close on', async () => {
    const proxy = await startProxy({ policy: createEgressPolicy({ allowHosts: [`127.0.0.1:${echoPort}`] }) });
    const outcome = proxy.nextOutcome();
    const socket = await openClient(proxy);
    // Bytes right after the head (a TLS hello would be there) must reach upstream after the 200.
    socket.write(`CONNECT 127.0.0.1:${echoPort} HTTP/1.1\r\nHost: 127.0.0.1:${echoPort}\r\n\r\nearly `);
    const head = await readHead(socket);
    expect(head.toString()).toMatch(/^HTTP\/1\.1 200 Connection Established\r\n\r\n/);
    let echoed = head.subarray(head.indexOf('\r\n\r\n') + 4).toString();
    socket.write('and late');
    echoed += (await readUntil(socket, (received) => echoed.length + received.length >= 'early and late'.length)).toString();
    expect(echoed).toBe('early and late');

    // Half-close: the client stops sending; the echo server sees the end, ends too, and that reaches the client.
    socket.end(' last');
    const rest = await readAll(socket);
    expect(rest.toString()).toBe(' last');
    await expect(outcome).resolves.toEqual({ kind: 'relayed', host: '127.0.0.1', port: echoPort, address: '127.0.0.1' });
    expect(proxy.calls.connect).toEqual([{ address: '127.0.0.1', port: echoPort }]);
    expect(proxy.blocked).toEqual([]);
  });

  it('carries several megabytes intact both ways (backpressure, no loss)', async () => {
    const proxy = await startProxy({ policy: createEgressPolicy({ allowHosts: [`127.0.0.1:${echoPort}`] }) });
    const socket = await openClient(proxy);
    socket.write(`CONNECT 127.0.0.1:${echoPort} HTTP/1.1\r\n\r\n`);
    const head = await readHead(socket);
    expect(parseResponse(head).status).toBe(200);
    const payload = Buffer.alloc(4 * 1024 * 1024);
    for (let index = 0; index < payload.length; index += 1) payload[index] = (index * 7919) % 251;
    const echoed = readAll(socket);
    socket.end(payload);
    const received = await echoed;
    expect(received.length).toBe(payload.length);
    expect(createHash('sha256').update(received).digest('hex')).toBe(createHash('sha256').update(payload).digest('hex'));
  });

  it("works for Node's own HTTP client asking for a tunnel", async () => {
    const proxy = await startProxy({ policy: createEgressPolicy({ allowHosts: [`127.0.0.1:${echoPort}`] }) });
    const request = httpRequest({ host: '127.0.0.1', port: proxy.port, method: 'CONNECT', path: `127.0.0.1:${echoPort}` });
    request.end();
    const [response, tunnel] = (await once(request, 'connect')) as [IncomingMessage, Socket];
    expect(response.statusCode).toBe(200);
    tunnel.end('through the tunnel');
    expect((await readAll(tunnel)).toString()).toBe('through the tunnel');
  });

  it.skipIf(!hasIpv6Loopback)('reaches an IPv6 address the user named, and tries the next allowed address when one refuses', async () => {
    const v6EchoPort = await listen(echoServer(), '::1');
    const proxy = await startProxy({
      policy: createEgressPolicy({ allowHosts: [`[::1]:${v6EchoPort}`, `multi.test:${echoPort}`] }),
      // ::1 listens on another port: the first address refuses the connection, the second answers.
      extraHosts: { 'Multi.Test': ['::1', '127.0.0.1'] },
    });
    const v6 = await openClient(proxy);
    v6.write(`CONNECT [::1]:${v6EchoPort} HTTP/1.1\r\n\r\n`);
    expect(parseResponse(await readHead(v6)).status).toBe(200);
    v6.end('six');
    expect((await readAll(v6)).toString()).toBe('six');

    const outcome = proxy.nextOutcome();
    const multi = await openClient(proxy);
    multi.write(`CONNECT multi.test:${echoPort} HTTP/1.1\r\n\r\n`);
    expect(parseResponse(await readHead(multi)).status).toBe(200);
    multi.end('four');
    expect((await readAll(multi)).toString()).toBe('four');
    await expect(outcome).resolves.toMatchObject({ kind: 'relayed', host: 'multi.test', address: '127.0.0.1' });
    expect(proxy.calls.connect).toEqual([
      { address: '::1', port: v6EchoPort },
      { address: '::1', port: echoPort },
      { address: '127.0.0.1', port: echoPort },
    ]);
  });

  it('takes both sides down when upstream resets, and when the connection is aborted', async () => {
    // Resets the connection once the first bytes arrive through the tunnel.
    const resetting = createServer((socket) => socket.once('data', () => socket.resetAndDestroy()));
    const resettingPort = await listen(resetting);
    const controller = new AbortController();
    const proxy = await startProxy({
      policy: createEgressPolicy({ allowHosts: [`127.0.0.1:${resettingPort}`, `127.0.0.1:${echoPort}`] }),
      abortSignal: controller.signal,
    });

    const first = await openClient(proxy);
    first.on('error', () => {});
    const firstOutcome = proxy.nextOutcome();
    first.write(`CONNECT 127.0.0.1:${resettingPort} HTTP/1.1\r\n\r\n`);
    expect(parseResponse(await readHead(first)).status).toBe(200);
    const firstClosed = closed(first);
    first.write('trigger the reset');
    await firstClosed;
    await expect(firstOutcome).resolves.toMatchObject({ kind: 'relayed', port: resettingPort });

    const second = await openClient(proxy);
    second.on('error', () => {});
    second.write(`CONNECT 127.0.0.1:${echoPort} HTTP/1.1\r\n\r\n`);
    expect(parseResponse(await readHead(second)).status).toBe(200);
    const outcome = proxy.nextOutcome();
    const secondClosed = closed(second);
    controller.abort();
    await secondClosed;
    await expect(outcome).resolves.toMatchObject({ kind: 'relayed', port: echoPort });
  });
});

describe('a client that is no socket (the tunnel hands over a plain Duplex)', () => {
  /** One side of a duplexPair served by the proxy; the other side is the script's end, read to its end. */
  function servePair(options: ProxyConnectionOptions): { script: Duplex; outcome: Promise<ProxyOutcome>; received: Promise<Buffer> } {
    const [script, proxySide] = duplexPair();
    const outcome = serveProxyConnection(proxySide, { connect: loopbackOnlyConnect, ...options });
    const received = (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of script) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    })();
    return { script, outcome, received };
  }

  it('relays CONNECT and absolute-form requests, and answers refusals', async () => {
    const blocked: BlockedEntry[] = [];
    const policy = createEgressPolicy({ allowHosts: [`127.0.0.1:${echoPort}`, `127.0.0.1:${httpPort}`] });

    const tunnel = servePair({ policy, onBlocked: (entry) => blocked.push(entry) });
    tunnel.script.end(`CONNECT 127.0.0.1:${echoPort} HTTP/1.1\r\n\r\nping`);
    expect((await tunnel.received).toString()).toBe('HTTP/1.1 200 Connection Established\r\n\r\nping');
    await expect(tunnel.outcome).resolves.toMatchObject({ kind: 'relayed', port: echoPort });

    const plain = servePair({ policy, onBlocked: (entry) => blocked.push(entry) });
    plain.script.end(`GET http://127.0.0.1:${httpPort}/from/pair HTTP/1.1\r\n\r\n`);
    const response = parseResponse(await plain.received);
    expect(response.status).toBe(201);
    expect((JSON.parse(response.body) as { url: string }).url).toBe('/from/pair');
    await expect(plain.outcome).resolves.toMatchObject({ kind: 'relayed', port: httpPort });

    const refused = servePair({ policy, onBlocked: (entry) => blocked.push(entry) });
    refused.script.end('CONNECT 169.254.169.254:443 HTTP/1.1\r\n\r\n');
    expect(parseResponse(await refused.received).headers['x-pycage-blocked']).toBe('link-local');
    await expect(refused.outcome).resolves.toEqual({ kind: 'blocked', host: '169.254.169.254', port: 443, reason: 'link-local' });
    expect(blocked).toEqual([{ host: '169.254.169.254', port: 443, reason: 'link-local' }]);
  });
});

describe('absolute-form HTTP', () => {
  it('sends the request on in origin-form, without proxy and hop-by-hop headers, body included, and relays the answer', async () => {
    const proxy = await startProxy({ policy: createEgressPolicy({ allowHosts: [`127.0.0.1:${httpPort}`] }) });
    const outcome = proxy.nextOutcome();
    const response = await exchange(
      proxy,
      [
        `POST http://127.0.0.1:${httpPort}/submit/it?q=1&r=two HTTP/1.1`,
        'Host: ignored.example',
        'Proxy-Authorization: Basic dXNlcjpwYXNz',
        'Proxy-Connection: keep-alive',
        'Connection: keep-alive, X-Hop',
        'Keep-Alive: timeout=5',
        'X-Hop: goes no further',
        'X-Kept: yes',
        'Authorization: Bearer for-the-server',
        'Content-Length: 11',
        '',
        'hello world',
      ].join('\r\n'),
    );
    expect(response.status).toBe(201);
    expect(response.headers['x-upstream']).toBe('yes');
    const seen = JSON.parse(response.body) as { method: string; url: string; headers: Record<string, string>; body: string };
    expect(seen.method).toBe('POST');
    expect(seen.url).toBe('/submit/it?q=1&r=two');
    expect(seen.body).toBe('hello world');
    expect(seen.headers.host).toBe(`127.0.0.1:${httpPort}`);
    expect(seen.headers.connection).toBe('close');
    expect(seen.headers['x-kept']).toBe('yes');
    expect(seen.headers.authorization).toBe('Bearer for-the-server');
    for (const removed of ['proxy-authorization', 'proxy-connection', 'keep-alive', 'x-hop']) expect(seen.headers).not.toHaveProperty(removed);
    await expect(outcome).resolves.toEqual({ kind: 'relayed', host: '127.0.0.1', port: httpPort, address: '127.0.0.1' });
  });

  it("works for Node's own HTTP client with a chunked body, and a URL with no path", async () => {
    const proxy = await startProxy({
      policy: createEgressPolicy({ allowHosts: [`web.test:${httpPort}`] }),
      extraHosts: { 'web.test': '127.0.0.1' },
    });
    const request = httpRequest({ host: '127.0.0.1', port: proxy.port, method: 'PUT', path: `http://web.test:${httpPort}` });
    request.write('chunk one, ');
    request.end('chunk two');
    const [response] = (await once(request, 'response')) as [IncomingMessage];
    const chunks: Buffer[] = [];
    for await (const chunk of response) chunks.push(chunk as Buffer);
    expect(response.statusCode).toBe(201);
    const seen = JSON.parse(Buffer.concat(chunks).toString()) as { url: string; headers: Record<string, string>; body: string };
    expect(seen.url).toBe('/');
    expect(seen.headers.host).toBe(`web.test:${httpPort}`);
    expect(seen.headers['transfer-encoding']).toBe('chunked');
    expect(seen.body).toBe('chunk one, chunk two');
    expect(proxy.calls.connect).toEqual([{ address: '127.0.0.1', port: httpPort }]);
  });
});

describe('refusals', () => {
  it('refuses the metadata address before any connection or DNS query, and records it', async () => {
    const proxy = await startProxy({ policy: publicPolicy });
    const connectForm = await exchange(proxy, 'CONNECT 169.254.169.254:80 HTTP/1.1\r\nHost: 169.254.169.254:80\r\n\r\n');
    const absoluteForm = await exchange(proxy, 'GET http://169.254.169.254/latest/meta-data/ HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n');
    for (const response of [connectForm, absoluteForm]) {
      expect(response.status).toBe(403);
      expect(response.headers['x-pycage-blocked']).toBe('link-local');
      expect(response.body).toBe('pycage blocked 169.254.169.254:80 (link-local)\n');
    }
    expect(proxy.calls.connect).toEqual([]);
    expect(proxy.calls.resolve).toEqual([]);
    expect(proxy.blocked).toEqual([
      { host: '169.254.169.254', port: 80, reason: 'link-local' },
      { host: '169.254.169.254', port: 80, reason: 'link-local' },
    ]);
  });

  it('refuses link-local even when the allow list names its range', async () => {
    const proxy = await startProxy({ policy: createEgressPolicy({ allowHosts: ['169.254.0.0/16', '169.254.169.254:80', 'fe80::/10'] }) });
    const v4 = await exchange(proxy, 'CONNECT 169.254.169.254:80 HTTP/1.1\r\n\r\n');
    const v6 = await exchange(proxy, 'GET http://[fe80::a9fe:a9fe]/ HTTP/1.1\r\n\r\n');
    const mapped = await exchange(proxy, 'CONNECT [::ffff:169.254.169.254]:80 HTTP/1.1\r\n\r\n');
    expect([v4, v6, mapped].map((response) => [response.status, response.headers['x-pycage-blocked']])).toEqual([
      [403, 'link-local'],
      [403, 'link-local'],
      [403, 'link-local'],
    ]);
    expect(mapped.body).toBe('pycage blocked [::ffff:169.254.169.254]:80 (link-local)\n');
    expect(proxy.calls.connect).toEqual([]);
  });

  it('refuses a name that resolves to a private or loopback address under public (rebinding), and allows it once that exact name is listed', async () => {
    const extraHosts = { 'internal.test': '10.1.2.3', 'local.test.': ['127.0.0.1'] };
    const strict = await startProxy({ policy: publicPolicy, extraHosts });
    const toPrivate = await exchange(strict, 'CONNECT internal.test:443 HTTP/1.1\r\n\r\n');
    const toLoopback = await exchange(strict, `GET http://LOCAL.test:80/ HTTP/1.1\r\n\r\n`);
    expect(toPrivate.status).toBe(403);
    expect(toPrivate.headers['x-pycage-blocked']).toBe('private address 10.1.2.3');
    expect(toLoopback.headers['x-pycage-blocked']).toBe('loopback address 127.0.0.1');
    expect(strict.calls.connect).toEqual([]);
    expect(strict.calls.resolve).toEqual([]);

    // Named: the proxy connects to the address it checked. The injected connect sees 10.1.2.3 (it
    // must: never the name) and, since tests never leave loopback, hands back a socket to the echo server.
    const named = await startProxy({
      policy: createEgressPolicy({ allowHosts: ['internal.test:443', `local.test:${echoPort}`] }),
      extraHosts,
      connect: (target) => netConnect({ host: '127.0.0.1', port: target.address === '10.1.2.3' ? echoPort : target.port, allowHalfOpen: true }),
    });
    for (const target of ['internal.test:443', `local.test:${echoPort}`]) {
      const socket = await openClient(named);
      socket.write(`CONNECT ${target} HTTP/1.1\r\n\r\n`);
      expect(parseResponse(await readHead(socket)).status).toBe(200);
      socket.end('named');
      expect((await readAll(socket)).toString()).toBe('named');
    }
    expect(named.calls.connect).toEqual([
      { address: '10.1.2.3', port: 443 },
      { address: '127.0.0.1', port: echoPort },
    ]);
    expect(named.blocked).toEqual([]);
  });

  it("refuses this machine's own public addresses before connecting, by address and by name", async () => {
    const proxy = await startProxy({ policy: publicPolicy, hostAddresses: () => ['203.0.114.9'], extraHosts: { 'me.test': '203.0.114.9' } });
    const byAddress = await exchange(proxy, 'CONNECT 203.0.114.9:443 HTTP/1.1\r\n\r\n');
    const byName = await exchange(proxy, 'GET http://me.test/ HTTP/1.1\r\n\r\n');
    expect([byAddress.status, byAddress.headers['x-pycage-blocked']]).toEqual([403, 'host']);
    expect([byName.status, byName.headers['x-pycage-blocked']]).toEqual([403, 'host address 203.0.114.9']);
    expect(proxy.calls.connect).toEqual([]);
  });

  it('*.example.com admits no private address', async () => {
    const proxy = await startProxy({ policy: createEgressPolicy({ allowHosts: [`*.example.com:${echoPort}`] }), extraHosts: { 'db.example.com': '127.0.0.1' } });
    const response = await exchange(proxy, `CONNECT db.example.com:${echoPort} HTTP/1.1\r\n\r\n`);
    expect(response.status).toBe(403);
    expect(response.headers['x-pycage-blocked']).toBe('loopback address 127.0.0.1');
    expect(proxy.calls.connect).toEqual([]);
  });

  it('refuses port 25 by default, and a host not in the list, without resolving the name', async () => {
    const open = await startProxy({ policy: publicPolicy });
    const smtp = await exchange(open, 'CONNECT mail.test:25 HTTP/1.1\r\n\r\n');
    expect([smtp.status, smtp.headers['x-pycage-blocked'], smtp.body]).toEqual([403, 'port 25 not allowed', 'pycage blocked mail.test:25 (port 25 not allowed)\n']);

    const listed = await startProxy({ policy: createEgressPolicy({ allowHosts: ['api.github.com'] }) });
    const other = await exchange(listed, 'GET http://evil.test/steal HTTP/1.1\r\n\r\n');
    expect([other.status, other.headers['x-pycage-blocked']]).toEqual([403, 'not in --allow-host']);
    for (const proxy of [open, listed]) {
      expect(proxy.calls.resolve).toEqual([]);
      expect(proxy.calls.connect).toEqual([]);
    }
  });

  it('refuses non-public IPv6 literals under public', async () => {
    const proxy = await startProxy({ policy: publicPolicy });
    const cases: Array<[string, string]> = [
      ['CONNECT [fd00::1]:443 HTTP/1.1', 'unique-local'],
      ['CONNECT [::1]:443 HTTP/1.1', 'loopback'],
      ['GET http://[::ffff:10.0.0.1]/ HTTP/1.1', 'private'],
      ['GET http://[64:ff9b::7f00:1]/ HTTP/1.1', 'loopback'],
      ['CONNECT [2002:c0a8:101::1]:443 HTTP/1.1', 'private'],
    ];
    for (const [requestLine, reason] of cases) {
      const response = await exchange(proxy, `${requestLine}\r\n\r\n`);
      expect([response.status, response.headers['x-pycage-blocked']], requestLine).toEqual([403, reason]);
    }
    expect(proxy.calls.connect).toEqual([]);
  });

  it('records each refused destination once in a blocked log, however often it is tried', async () => {
    const log = createBlockedLog();
    const proxy = await startProxy({ policy: publicPolicy, onBlocked: log.record });
    for (const target of ['169.254.169.254:80', '169.254.169.254:80', '10.0.0.1:443', '169.254.169.254:80', 'mail.test:25']) {
      expect((await exchange(proxy, `CONNECT ${target} HTTP/1.1\r\n\r\n`)).status).toBe(403);
    }
    expect(log.entries()).toEqual([
      { host: '169.254.169.254', port: 80, reason: 'link-local' },
      { host: '10.0.0.1', port: 443, reason: 'private' },
      { host: 'mail.test', port: 25, reason: 'port 25 not allowed' },
    ]);
    expect(log.omitted()).toBe(0);
  });
});

describe('errors that are no policy decision', () => {
  it.each([
    ['an origin-form request', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', 'absolute-form'],
    ['no request line', 'hello there\r\n\r\n', 'not an HTTP/1.x request line'],
    ['CONNECT without a port', 'CONNECT api.github.com HTTP/1.1\r\n\r\n', 'CONNECT takes host:port'],
    ['CONNECT to port 0', 'CONNECT api.github.com:0 HTTP/1.1\r\n\r\n', 'CONNECT takes host:port'],
    ['an https:// absolute URL', 'GET https://api.github.com/ HTTP/1.1\r\n\r\n', 'https:// requests go through CONNECT'],
    ['credentials in the URL', 'GET http://user:pass@api.github.com/ HTTP/1.1\r\n\r\n', 'credentials in the request URL'],
    ['a number that is no address', 'CONNECT 0x7f.1:80 HTTP/1.1\r\n\r\n', 'CONNECT takes host:port'],
    ['a bare LF inside the head', 'GET http://a.test/ HTTP/1.1\r\nX-A: 1\nX-B: 2\r\n\r\n', 'CRLF'],
    ['a folded header', 'GET http://a.test/ HTTP/1.1\r\nX-A: 1\r\n  folded\r\n\r\n', 'malformed header line'],
    ['HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'not an HTTP/1.x request line'],
  ])('answers 400 to %s', async (_name, raw, message) => {
    const proxy = await startProxy({ policy: publicPolicy });
    const response = await exchange(proxy, raw);
    expect(response.status).toBe(400);
    expect(response.body).toContain(message);
    expect(response.body.trimEnd()).not.toContain('\n');
    expect(proxy.calls.connect).toEqual([]);
    expect(proxy.blocked).toEqual([]);
  });

  it('answers 431 to a head over the limit, and 408 when none comes in time', async () => {
    const proxy = await startProxy({ policy: publicPolicy, maxHeaderBytes: 1024, headerTimeoutMs: 200 });
    const large = await exchange(proxy, `GET http://a.test/ HTTP/1.1\r\nX-Big: ${'x'.repeat(2000)}\r\n\r\n`);
    expect(large.status).toBe(431);
    const silent = await exchange(proxy, 'GET http://a.test/ HTTP/1.1\r\n');
    expect(silent.status).toBe(408);
    expect(proxy.calls.connect).toEqual([]);
  });

  it('answers 502 to a name that does not resolve, without counting it as blocked', async () => {
    const proxy = await startProxy({ policy: publicPolicy });
    const outcome = proxy.nextOutcome();
    const response = await exchange(proxy, 'CONNECT nowhere.test:443 HTTP/1.1\r\n\r\n');
    expect(response.status).toBe(502);
    expect(response.body).toBe('pycage could not resolve nowhere.test (Name or service not known)\n');
    expect(response.headers).not.toHaveProperty('x-pycage-blocked');
    expect(proxy.calls.resolve).toEqual(['nowhere.test']);
    expect(proxy.blocked).toEqual([]);
    await expect(outcome).resolves.toEqual({ kind: 'failed', status: 502, message: 'pycage could not resolve nowhere.test (Name or service not known)' });
  });

  it('keeps the answer on one line when a resolver fails with a multi-line message, and survives a throwing onBlocked', async () => {
    const proxy = await startProxy({
      policy: publicPolicy,
      resolve: async () => {
        throw new Error('resolver broke\r\nInjected: header');
      },
      onBlocked: () => {
        throw new Error('bookkeeping broke');
      },
    });
    const unresolved = await exchange(proxy, 'CONNECT odd.test:443 HTTP/1.1\r\n\r\n');
    expect(unresolved.status).toBe(502);
    expect(unresolved.body).toBe('pycage could not resolve odd.test (resolver broke Injected: header)\n');
    const refused = await exchange(proxy, 'CONNECT 10.0.0.1:443 HTTP/1.1\r\n\r\n');
    expect([refused.status, refused.headers['x-pycage-blocked']]).toEqual([403, 'private']);
  });

  it('answers 504 when connecting takes longer than connectTimeoutMs', async () => {
    // A socket that never connects nor fails: the upstream that does not answer.
    const proxy = await startProxy({ policy: createEgressPolicy({ allowHosts: ['10.0.0.1'] }), connect: () => new Socket(), connectTimeoutMs: 100 });
    const response = await exchange(proxy, 'CONNECT 10.0.0.1:443 HTTP/1.1\r\n\r\n');
    expect(response.status).toBe(504);
    expect(response.body).toBe('pycage could not connect to 10.0.0.1:443 in time\n');
    expect(proxy.calls.connect).toEqual([{ address: '10.0.0.1', port: 443 }]);
  });

  it('closes without an answer when aborted while waiting for the request', async () => {
    const controller = new AbortController();
    const proxy = await startProxy({ policy: publicPolicy, abortSignal: controller.signal });
    const outcome = proxy.nextOutcome();
    const socket = await openClient(proxy);
    socket.on('error', () => {});
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    const socketClosed = closed(socket);
    socket.write('CONNECT api.github');
    controller.abort();
    await expect(outcome).resolves.toEqual({ kind: 'closed', message: 'aborted' });
    // Closed (reset or ended, depending on whether the proxy had read those bytes yet), never answered.
    socket.end();
    await socketClosed;
    expect(Buffer.concat(received).length).toBe(0);
  });

  it('answers 502 when the allowed upstream refuses the connection', async () => {
    const proxy = await startProxy({ policy: createEgressPolicy({ allowHosts: [`127.0.0.1:${closedPort}`] }) });
    const response = await exchange(proxy, `GET http://127.0.0.1:${closedPort}/ HTTP/1.1\r\n\r\n`);
    expect(response.status).toBe(502);
    expect(response.body).toBe(`pycage could not connect to 127.0.0.1:${closedPort} (Connection refused)\n`);
    expect(proxy.calls.connect).toEqual([{ address: '127.0.0.1', port: closedPort }]);
    expect(proxy.blocked).toEqual([]);
  });

  it('resolves names through the resolver it is given, and checks every address it returns', async () => {
    const proxy = await startProxy({ policy: publicPolicy, resolve: async () => ['10.0.0.7', '169.254.1.1'] });
    const response = await exchange(proxy, 'CONNECT sneaky.test:443 HTTP/1.1\r\n\r\n');
    expect([response.status, response.headers['x-pycage-blocked']]).toEqual([403, 'private address 10.0.0.7']);
    expect(proxy.calls.resolve).toEqual(['sneaky.test']);
    expect(proxy.calls.connect).toEqual([]);
  });

  it('never logs request headers (credentials pass through the proxy)', async () => {
    const lines: LogEntry[] = [];
    const proxy = await startProxy({
      policy: createEgressPolicy({ allowHosts: [`127.0.0.1:${httpPort}`, 'api.github.com'] }),
      logger: new Logger((entry) => lines.push(entry)),
    });
    const secret = 'c2VjcmV0LXRva2Vu';
    for (const target of [`127.0.0.1:${httpPort}`, '10.0.0.1', `127.0.0.1:${closedPort}`]) {
      await exchange(proxy, `GET http://${target}/ HTTP/1.1\r\nAuthorization: Basic ${secret}\r\nProxy-Authorization: Basic ${secret}\r\n\r\n`);
    }
    await exchange(proxy, `GET http://a.test/ HTTP/1.1\r\nAuthorization: Basic ${secret}\r\nbroken header\r\n\r\n`);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.map((entry) => entry.message).join('\n')).not.toContain(secret);
  });
});

describe('createBlockedLog', () => {
  it('keeps each host, port and reason once, up to its cap, and counts the rest', () => {
    const log = createBlockedLog({ maxEntries: 2 });
    log.record({ host: 'a.test', port: 443, reason: 'not in --allow-host' });
    log.record({ host: 'a.test', port: 443, reason: 'not in --allow-host' });
    log.record({ host: 'a.test', port: 80, reason: 'not in --allow-host' });
    log.record({ host: 'b.test', port: 443, reason: 'not in --allow-host' });
    log.record({ host: 'c.test', port: 443, reason: 'not in --allow-host' });
    log.record({ host: 'c.test', port: 443, reason: 'not in --allow-host' });
    expect(log.entries()).toEqual([
      { host: 'a.test', port: 443, reason: 'not in --allow-host' },
      { host: 'a.test', port: 80, reason: 'not in --allow-host' },
    ]);
    expect(log.omitted()).toBe(2);
  });
});
