// The Docker daemon going away under a run, tried without stopping the shared daemon: the runtime
// talks to the real daemon through a unix-socket proxy the test owns, and cutting the proxy (every
// connection closed, the socket gone) is what a stopped daemon looks like from the runtime's side.
// The containers are real, so the test also sees that nothing outlives the cut connection.
import { existsSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerUnavailableError, type Runtime } from '../../../src/runtime/index.js';
import { createScratch, waitForSessionContainers, type Scratch } from './helpers.js';

const dockerHost = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
const daemonSocket = dockerHost.startsWith('unix://') ? dockerHost.slice('unix://'.length) : undefined;
const proxyPath = path.join(tmpdir(), `pycage-daemon-proxy-${randomBytes(4).toString('hex')}.sock`);

/** Forwards every connection to the daemon's socket; `cut()` closes them all and removes the socket. */
class DaemonProxy {
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();

  async listen(): Promise<void> {
    // Half-open connections pass through as they are: an exec's stdin ends while its output flows.
    const server = createServer({ allowHalfOpen: true }, (client) => {
      const upstream = createConnection({ path: daemonSocket!, allowHalfOpen: true });
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on('close', () => this.#sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(proxyPath, resolve));
    this.#server = server;
  }

  async cut(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
  }
}

let scratch: Scratch;
const proxy = new DaemonProxy();

beforeAll(async () => {
  scratch = await createScratch('daemon-gone');
  await proxy.listen();
});

afterAll(async () => {
  await proxy.cut();
  await scratch?.dispose();
});

describe.skipIf(daemonSocket === undefined)('the Docker daemon going away', () => {
  it('fails the run in flight with a DockerUnavailableError saying so, leaves nothing, and recovers', async () => {
    const runtime: Runtime = scratch.runtime({ docker: { socketPath: proxyPath }, poolSize: 1 });
    await runtime.start();
    let running!: () => void;
    const started = new Promise<void>((resolve) => (running = resolve));
    const inFlight = runtime
      .runScript('import time\nprint("running", flush=True)\ntime.sleep(60)\n', {
        onStdout: (text) => {
          if (text.includes('running')) running();
        },
      })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    await started;
    // The daemon sees its lifelines close, as when the daemon itself goes away: checked through the
    // real socket below.
    await proxy.cut();
    expect(existsSync(proxyPath)).toBe(false);

    const error = await inFlight;
    expect(error).toBeInstanceOf(DockerUnavailableError);
    expect((error as DockerUnavailableError).exitCode).toBe(3);
    expect((error as DockerUnavailableError).message).toMatch(/^The Docker daemon at unix:\/\/.*pycage-daemon-proxy-.* stopped during the run/);
    expect((error as DockerUnavailableError).cause).toBeInstanceOf(DockerUnavailableError);
    await waitForSessionContainers(runtime);

    // A run started while it is down fails at once, with the ordinary "cannot reach" message.
    const down = await runtime.runScript('print(1)\n').catch((caught: unknown) => caught);
    expect(down).toBeInstanceOf(DockerUnavailableError);
    expect((down as Error).message).toMatch(/^Cannot reach the Docker daemon/);

    // Back again: the same runtime runs scripts, and closes clean.
    await proxy.listen();
    const after = await runtime.runScript('print("after")\n');
    expect(after.stdout).toBe('after\n');
    expect(after.exitCode).toBe(0);
    await runtime.close();
    await waitForSessionContainers(runtime);
  });
});
