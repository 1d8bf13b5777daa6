// pycage as a library, imported the way users import it (the package's own `exports`, i.e. the built
// dist/index.js): the seed cookbook's flow in a few lines, against a chat server on 127.0.0.1.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as pycage from 'pycage';
import { startChatServer, type ChatServer } from '../helpers/chat-server.js';
import { buildWheel } from '../helpers/wheels.js';

const fence = '```';
let server: ChatServer;
let wheelhouse: string;

beforeAll(async () => {
  wheelhouse = await mkdtemp(path.join(tmpdir(), 'pycage-library-'));
  await buildWheel(wheelhouse, { name: 'githubish', version: '0.3.0', files: { 'githubish/__init__.py': 'def user(name):\n    return {"login": name, "id": 91981716}\n' } });
  server = await startChatServer([
    { content: `${fence}python\nimport json\nimport githubish\n\nprint(json.dumps(githubish.user("synacktraa"), indent=4))\n${fence}` },
  ]);
});

afterAll(async () => {
  await server?.close();
  await rm(wheelhouse, { recursive: true, force: true });
});

describe('the public API', () => {
  it('exports what the design names', () => {
    for (const name of ['createRuntime', 'generateCode', 'extractCode', 'inferRequirements', 'runAgent', 'createSession', 'createProvider', 'resolveModelConfig', 'prune', 'checkDocker', 'PycageError']) {
      expect(typeof (pycage as Record<string, unknown>)[name], name).toBe('function');
    }
    // The package gate, for callers that infer requirements themselves.
    for (const name of ['gatePackages', 'checkRequirements', 'PolicyError']) {
      expect(typeof (pycage as Record<string, unknown>)[name], name).toBe('function');
    }
  });

  it('does what the seed cookbook does: generate code, infer and pin its packages, run it isolated', async () => {
    const runtime = pycage.createRuntime({ isolate: true, image: process.env.PYCAGE_TEST_IMAGE!, findLinks: wheelhouse, noIndex: true });
    try {
      const provider = pycage.createProvider(
        pycage.resolveModelConfig({ provider: 'openai', baseUrl: server.openaiBaseUrl, apiKey: 'test-key', model: 'test-model', env: {} }),
      );
      const generated = await pycage.generateCode({ request: 'fetch the GitHub user synacktraa and print the JSON', provider });
      const inferred = await pycage.inferRequirements(generated.code, { findLinks: wheelhouse, noIndex: true, pythonVersion: '3.11' });
      expect(inferred.requirements).toEqual(['githubish==0.3.0']);

      const result = await runtime.runScript(generated.code, { requirements: inferred.requirements });
      expect(result.exitCode).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual({ login: 'synacktraa', id: 91981716 });
      expect(result.requirements).toEqual(['githubish==0.3.0']);
    } finally {
      await runtime[Symbol.asyncDispose]();
    }
  });
});
