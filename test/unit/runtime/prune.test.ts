// prune() removes everything pycage made on an engine, and nothing else. It cannot be tried on the
// shared daemon (it would remove other people's pycage containers), so it runs against a small fake
// Docker engine here: a real HTTP server on a unix socket that answers the few endpoints prune uses,
// applying label filters the way Docker does.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { prune } from '../../../src/runtime/index.js';

interface Item {
  id: string;
  labels: Record<string, string>;
}

let server: Server;
let socketPath: string;
let requests: string[];
let engine: { containers: Item[]; volumes: Item[]; images: Item[] };

function matches(item: Item, filters: string | null): boolean {
  if (filters === null) return true;
  const labels = (JSON.parse(filters) as { label?: string[] }).label ?? [];
  return labels.every((filter) => {
    const [key, value] = filter.split('=') as [string, string | undefined];
    return value === undefined ? key in item.labels : item.labels[key] === value;
  });
}

beforeEach(async () => {
  socketPath = path.join(tmpdir(), `pycage-fake-engine-${randomBytes(4).toString('hex')}.sock`);
  requests = [];
  const pycage = { pycage: 'true', 'pycage.session': 'abc' };
  engine = {
    containers: [
      { id: 'c-pycage-1', labels: pycage },
      { id: 'c-pycage-2', labels: { pycage: 'true' } },
      { id: 'c-other', labels: { app: 'web' } },
      { id: 'c-not-quite', labels: { pycage: 'false' } },
    ],
    volumes: [
      { id: 'pycage-envs', labels: { pycage: 'true' } },
      { id: 'postgres-data', labels: {} },
    ],
    images: [
      { id: 'sha256:pycagepython', labels: { pycage: 'true' } },
      { id: 'sha256:pycageoffline', labels: {} },
    ],
  };
  server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://engine');
    requests.push(`${request.method} ${url.pathname}${url.search}`);
    const send = (status: number, body?: unknown): void => {
      response.writeHead(status, { 'Content-Type': 'application/json' });
      response.end(body === undefined ? '' : JSON.stringify(body));
    };
    const filters = url.searchParams.get('filters');
    const remove = (list: Item[], id: string): void => {
      const index = list.findIndex((item) => item.id === id);
      if (index === -1) {
        send(404, { message: `No such object: ${id}` });
        return;
      }
      list.splice(index, 1);
      send(request.method === 'DELETE' && url.pathname.startsWith('/images/') ? 200 : 204, url.pathname.startsWith('/images/') ? [{ Deleted: id }] : undefined);
    };
    const [, kind, id] = url.pathname.split('/');
    if (request.method === 'GET' && url.pathname === '/containers/json') {
      return send(200, engine.containers.filter((item) => matches(item, filters)).map((item) => ({ Id: item.id, Labels: item.labels })));
    }
    if (request.method === 'GET' && url.pathname === '/volumes') {
      return send(200, { Volumes: engine.volumes.filter((item) => matches(item, filters)).map((item) => ({ Name: item.id, Labels: item.labels })), Warnings: [] });
    }
    if (request.method === 'GET' && url.pathname === '/images/json') {
      return send(200, engine.images.filter((item) => matches(item, filters)).map((item) => ({ Id: item.id, Labels: item.labels })));
    }
    if (request.method === 'DELETE' && kind === 'containers') return remove(engine.containers, id!);
    if (request.method === 'DELETE' && kind === 'volumes') return remove(engine.volumes, id!);
    if (request.method === 'DELETE' && kind === 'images') return remove(engine.images, decodeURIComponent(id!));
    send(404, { message: 'not in this fake' });
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
});

afterEach(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe('prune', () => {
  it('removes the containers, volumes and images labelled pycage=true, and only those', async () => {
    const removed = await prune({ docker: { socketPath } });
    expect(removed).toEqual({ containers: 2, volumes: 1, images: 1 });
    expect(engine.containers.map((item) => item.id)).toEqual(['c-other', 'c-not-quite']);
    expect(engine.volumes.map((item) => item.id)).toEqual(['postgres-data']);
    expect(engine.images.map((item) => item.id)).toEqual(['sha256:pycageoffline']);
    // Containers first (force: running ones too), so the volume is no longer in use when it goes.
    const deletes = requests.filter((line) => line.startsWith('DELETE'));
    expect(deletes.slice(0, 2).every((line) => line.startsWith('DELETE /containers/') && line.includes('force=true'))).toBe(true);
    expect(requests.filter((line) => line.startsWith('GET')).every((line) => decodeURIComponent(line).includes('"label":["pycage=true"]'))).toBe(true);
  });

  it('counts nothing when something vanished meanwhile', async () => {
    engine.containers = [];
    engine.images = [];
    const removed = await prune({ docker: { socketPath } });
    expect(removed).toEqual({ containers: 0, volumes: 1, images: 0 });
  });
});
