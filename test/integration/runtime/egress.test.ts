// The egress policy of issue 10 against the real daemon. A test "internet": a container of the test's
// own, on a Docker network the test creates, serving HTTP on 80 and 8080 and a package index on 8000;
// it is reachable from the host (where pycage's proxy runs) and from nothing else. A script under
// `public` reaches it only through the proxy, only when allowed, and reaches nothing else: not the
// host, not the gateway, not another run, not link-local.
//
// The offline test image has no `requests`: scripts use `urllib.request`, which honours the proxy
// variables as requests does, a raw socket to the proxy where a request must go through it whatever
// NO_PROXY says, and a raw socket without the proxy for the fail-closed checks.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createConnection, createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AbortedError } from '../../../src/errors.js';
import type { RunResult, Runtime } from '../../../src/runtime/index.js';
import { checkDestination, createEgressPolicy } from '../../../src/runtime/network/index.js';
import { dockerBridgeGateway } from '../../helpers/docker.js';
import { buildWheel, wheelFileName } from '../../helpers/wheels.js';
import { createScratch, docker, sessionContainers, startUntil, testImage, waitFor, waitForSessionContainers, type Scratch } from './helpers.js';

const suffix = randomBytes(4).toString('hex');
const networkName = `pycage-test-egress-${suffix}`;
const webName = `pycage-test-egress-web-${suffix}`;
/** What the test internet answers, so that a body can only have come from it. */
const token = randomBytes(8).toString('hex');
const demoWheel = wheelFileName('pycage-egress-demo', '1.0.0');

/**
 * The test internet: an answer on 80 and 8080, the `/srv` tree (a PEP 503 index) on 8000. On 8080
 * also `/bytes/N` (N bytes of a known pattern), POST `/sha256` (the digest of what was sent) and
 * `/reset` (a close-delimited answer cut by a TCP reset once the client sends two bytes).
 */
const webServer = `
import hashlib, http.server, socket, struct, sys, threading
token = sys.argv[1]
pattern = bytes(range(256)) * 4096
class Answer(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    def do_POST(self):
        digest = hashlib.sha256()
        remaining = int(self.headers["Content-Length"])
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 1 << 20))
            if not chunk:
                break
            digest.update(chunk)
            remaining -= len(chunk)
        self.answer(digest.hexdigest().encode())
    def do_GET(self):
        if self.path.startswith("/bytes/"):
            size = int(self.path.split("/")[2])
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            while size > 0:
                self.wfile.write(pattern[:size])
                size -= min(size, len(pattern))
            return
        if self.path == "/reset":
            self.connection.sendall(b"HTTP/1.0 200 OK\\r\\n\\r\\n" + b"partial " * 100)
            # The reset comes once the client says it has the first part, on its own, not with the data.
            self.rfile.read(2)
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        self.answer(("test internet %s on port %d" % (token, self.server.server_address[1])).encode())
    def answer(self, body):
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
class Quiet(http.server.ThreadingHTTPServer):
    def handle_error(self, request, address):
        pass
class Index(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory="/srv", **kwargs)
    def log_message(self, *args):
        pass
servers = [Quiet(("0.0.0.0", port), handler) for port, handler in ((80, Answer), (8080, Answer), (8000, Index))]
for server in servers[1:]:
    threading.Thread(target=server.serve_forever, daemon=True).start()
print("ready", flush=True)
servers[0].serve_forever()
`;

/**
 * Helpers every script here starts with; each prints one JSON line of outcomes.
 * - fetch(url): urllib with the proxy variables as the run set them.
 * - via_proxy(url): a plain HTTP request sent to the keeper's proxy port directly, so that it goes
 *   through the proxy even where NO_PROXY would send urllib straight to the container's own loopback.
 * - direct(host, port): a TCP connection that ignores the proxy.
 */
const prelude = `
import errno, json, socket, urllib.error, urllib.request
def fetch(url):
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return {"status": response.status, "body": response.read().decode()}
    except urllib.error.HTTPError as error:
        return {"status": error.code, "blocked": error.headers.get("X-Pycage-Blocked"), "body": error.read().decode()}
    except OSError as error:
        return {"error": type(error).__name__, "reason": str(getattr(error, "reason", error))}
def via_proxy(url):
    authority = url.split("/")[2]
    connection = socket.create_connection(("127.0.0.1", 3128), timeout=60)
    connection.sendall(("GET %s HTTP/1.1\\r\\nHost: %s\\r\\nConnection: close\\r\\n\\r\\n" % (url, authority)).encode())
    received = b""
    while True:
        chunk = connection.recv(65536)
        if not chunk:
            break
        received += chunk
    connection.close()
    head, _, body = received.partition(b"\\r\\n\\r\\n")
    lines = head.decode("latin1").split("\\r\\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
    return {"status": int(lines[0].split()[1]), "blocked": headers.get("x-pycage-blocked"), "body": body.decode()}
def direct(host, port):
    try:
        socket.create_connection((host, port), timeout=20).close()
        return "connected"
    except OSError as error:
        return errno.errorcode.get(error.errno, type(error).__name__)
`;

let scratch: Scratch;
let webAddress: string;
let gateway: string;
let hostServer: HttpServer;
let hostPort: number;
let hostRequests = 0;
let indexDirectory: string;

function lastJson<T = Record<string, unknown>>(result: RunResult): T {
  const line = result.stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line) as T;
  } catch {
    throw new Error(`no JSON line in the run's output (exit ${result.exitCode}):\n${result.stdout}\n${result.stderr}`);
  }
}

async function listen<T extends HttpServer | TcpServer>(server: T, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

async function writeIndex(directory: string): Promise<void> {
  const wheelhouse = path.join(directory, 'files');
  const wheel = await buildWheel(wheelhouse, { name: 'pycage-egress-demo', version: '1.0.0', files: { 'pycage_egress_demo/__init__.py': `TOKEN = "${token}"\n` } });
  const digest = createHash('sha256').update(await readFile(wheel)).digest('hex');
  const project = path.join(directory, 'simple', 'pycage-egress-demo');
  await mkdir(project, { recursive: true });
  await writeFile(path.join(directory, 'simple', 'index.html'), '<html><body><a href="pycage-egress-demo/">pycage-egress-demo</a></body></html>\n');
  await writeFile(path.join(project, 'index.html'), `<html><body><a href="../../files/${demoWheel}#sha256=${digest}">${demoWheel}</a></body></html>\n`);
}

beforeAll(async () => {
  scratch = await createScratch('egress');
  gateway = dockerBridgeGateway();
  hostServer = createHttpServer((_request, response) => {
    hostRequests += 1;
    response.end('host service');
  });
  hostPort = await listen(hostServer, '0.0.0.0');

  indexDirectory = await mkdtemp(path.join(tmpdir(), 'pycage-egress-index-'));
  await writeIndex(indexDirectory);
  docker('network', 'create', '--label', 'pycage-test=egress', networkName);
  docker('create', '--name', webName, '--label', 'pycage-test=egress', '--network', networkName, testImage, 'python3', '-c', webServer, token);
  docker('cp', `${indexDirectory}/.`, `${webName}:/srv`);
  docker('start', webName);
  webAddress = docker('inspect', '--format', `{{(index .NetworkSettings.Networks "${networkName}").IPAddress}}`, webName);
  await waitFor(() => docker('logs', webName).includes('ready'), 'the test internet to start', { state: () => `its log:\n${docker('logs', webName)}` });
});

afterAll(async () => {
  await scratch?.dispose();
  try {
    docker('rm', '-f', webName);
  } catch {
    // Never created.
  }
  try {
    docker('network', 'rm', networkName);
  } catch {
    // Never created.
  }
  await new Promise((resolve) => hostServer?.close(resolve));
  if (indexDirectory !== undefined) await rm(indexDirectory, { recursive: true, force: true });
});

describe('network public', () => {
  let runtime: Runtime;
  beforeAll(async () => {
    // `web.test` is answered by the proxy itself, as an extra hosts entry would be.
    runtime = scratch.runtime({ hosts: { 'web.test': webAddress } });
    await runtime.start();
  });

  it('reaches the test internet through an allowed address, and through an allowed name', async () => {
    const script = `${prelude}print(json.dumps([fetch("http://${webAddress}:8080/"), fetch("http://web.test:8080/")]))\n`;
    const byAddress = await runtime.runScript(script, { allowHosts: [`${webAddress}:8080`] });
    const [first, second] = lastJson<Array<Record<string, unknown>>>(byAddress);
    expect(first).toEqual({ status: 200, body: `test internet ${token} on port 8080` });
    // An address rule admits whatever name leads to that address.
    expect(second).toEqual({ status: 200, body: `test internet ${token} on port 8080` });
    expect(byAddress.network).toEqual({ mode: 'public', blocked: [] });

    const byName = await runtime.runScript(script, { allowHosts: ['web.test:8080'] });
    const [address, name] = lastJson<Array<Record<string, unknown>>>(byName);
    expect(name).toEqual({ status: 200, body: `test internet ${token} on port 8080` });
    // Only the name was allowed: the bare address is not.
    expect(address).toMatchObject({ status: 403, blocked: 'not in --allow-host' });
    expect(byName.network.blocked).toEqual([{ host: webAddress, port: 8080, reason: 'not in --allow-host' }]);
  });

  it('refuses a name that resolves to a private address unless it was named (no DNS rebinding)', async () => {
    const result = await runtime.runScript(`${prelude}print(json.dumps([fetch("http://web.test/"), fetch("http://${webAddress}/")]))\n`);
    const [name, address] = lastJson<Array<Record<string, unknown>>>(result);
    expect(name).toMatchObject({ status: 403, blocked: `private address ${webAddress}` });
    expect(name!.body).toBe(`pycage blocked web.test:80 (private address ${webAddress})\n`);
    expect(address).toMatchObject({ status: 403, blocked: 'private' });
    expect(result.network).toEqual({
      mode: 'public',
      blocked: [
        { host: 'web.test', port: 80, reason: `private address ${webAddress}` },
        { host: webAddress, port: 80, reason: 'private' },
      ],
    });
    // A wildcard admits public addresses only, whatever name matches it.
    const wildcard = await runtime.runScript(`${prelude}print(json.dumps(fetch("http://web.test:8080/")))\n`, { allowHosts: ['*.test:8080'] });
    expect(lastJson(wildcard)).toMatchObject({ status: 403, blocked: `private address ${webAddress}` });
  });

  it("refuses the host's 0.0.0.0 service at the gateway and at 127.0.0.1, and link-local, before connecting", async () => {
    // The proxy refuses link-local before any connection is tried (the proxy's unit tests show it with
    // an injected connect). Checked first here too, so that a broken policy fails this test before a
    // single packet could leave for the metadata address.
    expect(checkDestination(createEgressPolicy({}), '169.254.169.254', 80, ['169.254.169.254'])).toEqual({ allowed: false, reason: 'link-local' });
    expect(checkDestination(createEgressPolicy({ allowHosts: ['*'] }), '169.254.169.254', 80, ['169.254.169.254']).allowed).toBe(false);
    expect(checkDestination(createEgressPolicy({ allowHosts: ['169.254.169.254:80'] }), '169.254.169.254', 80, ['169.254.169.254']).allowed).toBe(false);

    const before = hostRequests;
    const script = `${prelude}print(json.dumps({
    "gateway": fetch("http://${gateway}:${hostPort}/"),
    "loopback": via_proxy("http://127.0.0.1:${hostPort}/"),
    "localhost": via_proxy("http://localhost/"),
    "metadata": fetch("http://169.254.169.254/latest/meta-data/"),
    "gatewayDirect": direct("${gateway}", ${hostPort}),
}))\n`;
    const result = await runtime.runScript(script);
    const outcome = lastJson<Record<string, Record<string, unknown> | string>>(result);
    expect(outcome.gateway).toMatchObject({ status: 403, blocked: 'private', body: `pycage blocked ${gateway}:${hostPort} (private)\n` });
    expect(outcome.loopback).toMatchObject({ status: 403, blocked: 'loopback' });
    expect(outcome.localhost).toMatchObject({ status: 403, blocked: expect.stringMatching(/^loopback address (127\.0\.0\.1|::1)$/) });
    expect(outcome.metadata).toMatchObject({ status: 403, blocked: 'link-local', body: 'pycage blocked 169.254.169.254:80 (link-local)\n' });
    // Without the proxy there is no route at all.
    expect(outcome.gatewayDirect).toBe('ENETUNREACH');
    expect(result.network.blocked).toEqual(
      expect.arrayContaining([
        { host: gateway, port: hostPort, reason: 'private' },
        { host: '127.0.0.1', port: hostPort, reason: 'loopback' },
        { host: '169.254.169.254', port: 80, reason: 'link-local' },
      ]),
    );
    // A wildcard admits public addresses only: the gateway stays refused.
    const wildcard = await runtime.runScript(`${prelude}print(json.dumps(fetch("http://${gateway}:${hostPort}/")))\n`, { allowHosts: [`*:${hostPort}`] });
    expect(lastJson(wildcard)).toMatchObject({ status: 403, blocked: 'private' });
    // Link-local is never reachable, not even named.
    const named = await runtime.runScript(`${prelude}print(json.dumps(fetch("http://169.254.169.254/")))\n`, { allowHosts: ['169.254.169.254:80'] });
    expect(lastJson(named)).toMatchObject({ status: 403, blocked: 'link-local' });
    expect(named.network.blocked).toEqual([{ host: '169.254.169.254', port: 80, reason: 'link-local' }]);
    expect(hostRequests).toBe(before);
  });

  it('keeps concurrent runs apart: each has only its own loopback', async () => {
    const controller = new AbortController();
    let serverOutput = '';
    let markReady: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => (markReady = resolve));
    const server = runtime.runScript(
      [
        'import socket',
        'listener = socket.socket()',
        'listener.bind(("127.0.0.1", 8000))',
        'listener.listen(8)',
        'print("ready", flush=True)',
        'connection, _ = listener.accept()',
        'print("accepted a connection", flush=True)',
        'connection.sendall(b"run A")',
        'connection.close()',
      ].join('\n'),
      {
        abortSignal: controller.signal,
        onStdout: (text) => {
          serverOutput += text;
          if (serverOutput.includes('ready')) markReady();
        },
      },
    );
    const serverOutcome = server.then(
      () => 'finished',
      (error: unknown) => (error instanceof AbortedError ? 'aborted' : error),
    );
    await Promise.race([ready, serverOutcome]);
    expect(serverOutput).toContain('ready');

    const client = await runtime.runScript(`${prelude}print(json.dumps([direct("127.0.0.1", 8000), via_proxy("http://127.0.0.1:8000/")]))\n`);
    const [plain, proxied] = lastJson<[string, Record<string, unknown>]>(client);
    expect(plain).toBe('ECONNREFUSED');
    expect(proxied).toMatchObject({ status: 403, blocked: 'loopback' });
    controller.abort();
    expect(await serverOutcome).toBe('aborted');
    expect(serverOutput).not.toContain('accepted');
  });

  it('fails closed for a client that ignores the proxy, even to an allowed host', async () => {
    const result = await runtime.runScript(`${prelude}print(json.dumps([direct("${webAddress}", 8080), fetch("http://${webAddress}:8080/")]))\n`, {
      allowHosts: [`${webAddress}:8080`],
    });
    const [plain, proxied] = lastJson<[string, Record<string, unknown>]>(result);
    expect(plain).toBe('ENETUNREACH');
    expect(proxied).toEqual({ status: 200, body: `test internet ${token} on port 8080` });
  });
});

describe('the tunnel', () => {
  let runtime: Runtime;
  beforeAll(async () => {
    runtime = scratch.runtime({ memoryBytes: 512 * 1024 * 1024 });
    await runtime.start();
  });

  it('carries large transfers both ways and many connections at once, byte for byte', async () => {
    // Several times the tunnel's window of credit per connection, so flow control is exercised both ways.
    const script = `${prelude}import hashlib, threading
url = "http://${webAddress}:8080"
pattern = bytes(range(256)) * 4096
def expected(size):
    return (pattern * (size // len(pattern) + 1))[:size]
big = 24 * 1024 * 1024
with urllib.request.urlopen(url + "/bytes/%d" % big, timeout=300) as response:
    download = response.read()
payload = bytes(range(251)) * (16 * 1024 * 1024 // 251)
with urllib.request.urlopen(urllib.request.Request(url + "/sha256", data=payload, method="POST"), timeout=300) as response:
    upload = response.read().decode()
results = []
def one(index):
    size = 100000 + index * 7919
    with urllib.request.urlopen(url + "/bytes/%d" % size, timeout=300) as response:
        results.append(response.read() == expected(size))
threads = [threading.Thread(target=one, args=(index,)) for index in range(32)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(json.dumps({"download": [len(download), download == expected(big)], "upload": upload == hashlib.sha256(payload).hexdigest(), "parallel": [len(results), all(results)]}))
`;
    // Node's warnings go to the stderr of the pycage process (the CLI's): many connections must not cause one.
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(`${warning.name}: ${warning.message}`);
    };
    process.on('warning', onWarning);
    try {
      const result = await runtime.runScript(script, { allowHosts: [`${webAddress}:8080`], timeoutMs: 170_000 });
      expect(result.stderr).toBe('');
      expect(lastJson(result)).toEqual({ download: [24 * 1024 * 1024, true], upload: true, parallel: [32, true] });
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).toEqual([]);
  });

  it('delivers a whole answer to a client that half-closed after its request and reads slowly', async () => {
    // The request is sent and the write side shut (as `nc -N` and some HTTP/1.0 clients do); a small
    // receive buffer keeps most of the answer waiting in the keeper when the proxy has finished both ways.
    const script = `${prelude}pattern = bytes(range(256)) * 4096
def fetch_half_closed(request):
    connection = socket.socket()
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    connection.settimeout(60)
    connection.connect(("127.0.0.1", 3128))
    connection.sendall(request)
    connection.shutdown(socket.SHUT_WR)
    received = b""
    try:
        while True:
            chunk = connection.recv(4096)
            if not chunk:
                break
            received += chunk
        outcome = "end"
    except ConnectionResetError:
        outcome = "reset"
    body = received.partition(b"\\r\\n\\r\\n")[2]
    return [outcome, len(body), body == pattern[:200000]]
target = "${webAddress}:8080"
print(json.dumps(fetch_half_closed(("GET http://%s/bytes/200000 HTTP/1.1\\r\\nHost: %s\\r\\n\\r\\n" % (target, target)).encode())))
`;
    const result = await runtime.runScript(script, { allowHosts: [`${webAddress}:8080`] });
    expect(result.stderr).toBe('');
    expect(lastJson(result)).toEqual(['end', 200000, true]);
  });

  it('passes a reset on: an answer cut by the server is a broken connection for the script, not a clean end', async () => {
    // A close-delimited answer (HTTP/1.0, no length) taken for complete at a clean end would be a
    // truncated download the script cannot tell from a whole one.
    const script = `${prelude}def read_all(connection, request):
    connection.sendall(request)
    received = b""
    try:
        while b"partial" not in received:
            received += connection.recv(65536)
        connection.sendall(b"go")
        while connection.recv(65536):
            pass
        return "clean end"
    except ConnectionResetError:
        return "reset"
target = "${webAddress}:8080"
plain = read_all(socket.create_connection(("127.0.0.1", 3128), timeout=60), ("GET http://%s/reset HTTP/1.1\\r\\nHost: %s\\r\\n\\r\\n" % (target, target)).encode())
tunnel = socket.create_connection(("127.0.0.1", 3128), timeout=60)
tunnel.sendall(("CONNECT %s HTTP/1.1\\r\\nHost: %s\\r\\n\\r\\n" % (target, target)).encode())
established = tunnel.recv(1024).decode().splitlines()[0]
connected = read_all(tunnel, ("GET /reset HTTP/1.1\\r\\nHost: %s\\r\\n\\r\\n" % target).encode())
print(json.dumps([plain, established, connected]))
`;
    const result = await runtime.runScript(script, { allowHosts: [`${webAddress}:8080`] });
    expect(result.stderr).toBe('');
    expect(lastJson(result)).toEqual(['reset', 'HTTP/1.1 200 Connection Established', 'reset']);
  });
});

describe('network public under gVisor', () => {
  it('reaches an allowed host through the tunnel, and fails closed without it', async (context) => {
    if (!docker('info', '--format', '{{json .Runtimes}}').includes('"runsc"')) {
      context.skip('the Docker engine has no runsc runtime (gVisor is not installed)');
      return;
    }
    // The tunnel rides on the attach stream, not on a network interface: it works even where runsc is
    // registered with --network=none, as on this project's machines.
    const runtime = scratch.runtime({ gvisor: true, poolSize: 0 });
    const script = `${prelude}import os\nprint(json.dumps([sorted(os.listdir("/sys/class/net")), fetch("http://${webAddress}:8080/"), direct("${webAddress}", 8080)]))\n`;
    const result = await runtime.runScript(script, { allowHosts: [`${webAddress}:8080`] });
    expect(result.stderr).toBe('');
    const [interfaces, proxied, plain] = lastJson<[string[], Record<string, unknown>, string]>(result);
    expect(interfaces).toEqual(['lo']);
    expect(proxied).toEqual({ status: 200, body: `test internet ${token} on port 8080` });
    // gVisor's network stack says "no route to host" where Linux says "network unreachable": closed either way.
    expect(['ENETUNREACH', 'EHOSTUNREACH']).toContain(plain);
    await runtime.close();
    expect(sessionContainers(runtime)).toEqual([]);
  });
});

describe('networks none and open', () => {
  it('none has only loopback and no proxy; open has a bridge interface', async () => {
    const runtime = scratch.runtime({ network: 'none' });
    const script = `${prelude}import os\nprint(json.dumps({"interfaces": sorted(os.listdir("/sys/class/net")), "proxy": direct("127.0.0.1", 3128), "variables": sorted(name for name in os.environ if "proxy" in name.lower()), "web": direct("${webAddress}", 8080)}))\n`;
    const none = lastJson(await runtime.runScript(script));
    expect(none).toEqual({ interfaces: ['lo'], proxy: 'ECONNREFUSED', variables: [], web: 'ENETUNREACH' });
    // The contrast: under public the keeper listens there.
    const publicRun = lastJson(await runtime.runScript(script, { network: 'public' }));
    expect(publicRun).toMatchObject({ interfaces: ['lo'], proxy: 'connected', web: 'ENETUNREACH' });
    expect(publicRun.variables).toEqual(['HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy']);
    const open = lastJson(await runtime.runScript(`import json, os\nprint(json.dumps(sorted(os.listdir("/sys/class/net"))))\n`, { network: 'open' }));
    expect(open).toContain('eth0');
  });
});

describe('installs', () => {
  it('install from an index on the test internet under public; the script cannot reach that host', async () => {
    const runtime = scratch.runtime({ indexUrl: `http://${webAddress}:8000/simple` });
    const script = `import pycage_egress_demo\n${prelude}print(json.dumps([pycage_egress_demo.TOKEN, fetch("http://${webAddress}:8000/simple/"), fetch("http://${webAddress}:8080/")]))\n`;
    const result = await runtime.runScript(script, { requirements: ['pycage-egress-demo==1.0.0'] });
    expect(result.stderr).toBe('');
    expect(result.environment).toMatchObject({ reused: false });
    const [installed, index, other] = lastJson<[string, Record<string, unknown>, Record<string, unknown>]>(result);
    expect(installed).toBe(token);
    // The run's policy is its own (public), not the install's (the index host).
    expect(index).toMatchObject({ status: 403, blocked: 'private' });
    expect(other).toMatchObject({ status: 403, blocked: 'private' });
    expect(result.network.blocked).toEqual([
      { host: webAddress, port: 8000, reason: 'private' },
      { host: webAddress, port: 8080, reason: 'private' },
    ]);
  });
});

describe('a proxied connection held open', () => {
  let upstream: TcpServer;
  let upstreamPort: number;
  const upstreamSockets: Socket[] = [];
  beforeAll(async () => {
    // A TCP server on the host's loopback, named in allowHosts: the proxy's upstream side, observable.
    upstream = createTcpServer((socket) => {
      upstreamSockets.push(socket);
      socket.on('error', () => undefined);
    });
    upstreamPort = await listen(upstream, '127.0.0.1');
  });
  afterAll(async () => {
    for (const socket of upstreamSockets) socket.destroy();
    await new Promise((resolve) => upstream?.close(resolve));
  });

  /** A CONNECT through the proxy that the script then holds, reading until the other side closes. */
  const holder = () =>
    [
      'import socket',
      'connection = socket.create_connection(("127.0.0.1", 3128))',
      `connection.sendall(b"CONNECT 127.0.0.1:${upstreamPort} HTTP/1.1\\r\\nHost: 127.0.0.1:${upstreamPort}\\r\\n\\r\\n")`,
      'print(connection.recv(1024).decode().splitlines()[0], flush=True)',
      'print("closed by the other side", connection.recv(1024))',
    ].join('\n');

  async function startHeld(runtime: Runtime, abortSignal?: AbortSignal): Promise<{ outcome: Promise<unknown>; socket: Socket; output: () => string }> {
    let output = '';
    const known = upstreamSockets.length;
    const outcome = runtime
      .runScript(holder(), { allowHosts: [`127.0.0.1:${upstreamPort}`], onStdout: (text) => (output += text), ...(abortSignal === undefined ? {} : { abortSignal }) })
      .then(
        (result) => result,
        (error: unknown) => error,
      );
    let ended = false;
    void outcome.then(() => (ended = true));
    // Stops looking when the run ends too: then it will never connect, and the error says how it ended.
    await waitFor(() => ended || (output.includes('200') && upstreamSockets.length > known), "the script's connection through the proxy", { intervalMs: 50 });
    if (ended) throw new Error(`the run ended before it connected: ${JSON.stringify(await outcome)}`);
    expect(output).toContain('HTTP/1.1 200 Connection Established');
    return { outcome, socket: upstreamSockets.at(-1)!, output: () => output };
  }

  const closed = (socket: Socket): Promise<void> => (socket.closed ? Promise.resolve() : new Promise((resolve) => socket.once('close', () => resolve())));

  it('ends cleanly on abort: the run rejects, its container and the upstream connection are gone', async () => {
    const runtime = scratch.runtime({ poolSize: 0 });
    const controller = new AbortController();
    const held = await startHeld(runtime, controller.signal);
    controller.abort();
    expect(await held.outcome).toBeInstanceOf(AbortedError);
    await closed(held.socket);
    await waitForSessionContainers(runtime);
    await runtime.close();
  });

  it('leaves no upstream connection attempt behind once close resolves', async () => {
    // A listener whose accept queue is full: the kernel drops further SYNs, so the proxy's connect to it
    // stays pending (up to its connect timeout) for as long as nobody aborts it.
    const children: ChildProcess[] = [];
    const clogged = await startUntil('python3', ['-c', 'import signal, socket\ns = socket.socket()\ns.bind(("127.0.0.1", 0))\ns.listen(0)\nprint(s.getsockname()[1], flush=True)\nsignal.pause()'], { env: process.env, children }, (output) => output.includes('\n'));
    const port = Number(clogged.output().trim());
    const filler = createConnection({ host: '127.0.0.1', port });
    filler.on('error', () => undefined);
    const connecting = (): string => execFileSync('ss', ['-Htn', 'state', 'syn-sent', 'dport', `= :${port}`], { encoding: 'utf8' }).trim();
    try {
      const runtime = scratch.runtime({ poolSize: 0 });
      const run = runtime
        .runScript(`import socket\nconnection = socket.create_connection(("127.0.0.1", 3128))\nconnection.sendall(b"CONNECT 127.0.0.1:${port} HTTP/1.1\\r\\n\\r\\n")\nconnection.recv(1024)\n`, { allowHosts: [`127.0.0.1:${port}`] })
        .catch((error: unknown) => error);
      await waitFor(() => connecting() !== '', "the proxy's connection attempt to the clogged listener", { intervalMs: 100 });
      await runtime.close();
      expect(connecting()).toBe('');
      expect(await run).toBeInstanceOf(AbortedError);
    } finally {
      filler.destroy();
      for (const child of children) child.kill();
    }
  });

  it('ends cleanly on close: the run rejects, close resolves with nothing left', async () => {
    const runtime = scratch.runtime({ poolSize: 0 });
    const held = await startHeld(runtime);
    await runtime.close();
    expect(await held.outcome).toBeInstanceOf(AbortedError);
    await closed(held.socket);
    expect(sessionContainers(runtime)).toEqual([]);
    expect(held.output()).not.toContain('closed by the other side');
  });
});
