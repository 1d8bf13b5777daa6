// `pycage doctor` against the real daemon, a chat-completions server and a package index on 127.0.0.1.
// Every run names its index (or --no-index): without one, doctor would look PyPI up, and tests send
// nothing outside the machine.
import { afterEach, describe, expect, it } from 'vitest';
import { runCliProcess } from '../../helpers/cli.js';
import { startChatServer, type ChatServer } from '../../helpers/chat-server.js';
import { closedPort, startIndexServer, type IndexServer } from '../../helpers/index-server.js';
import { testImage } from '../runtime/helpers.js';

let server: ChatServer | undefined;
let index: IndexServer | undefined;
afterEach(async () => {
  await server?.close();
  await index?.close();
  server = undefined;
  index = undefined;
});

const modelEnv = (chat: ChatServer, model: string): Record<string, string> => ({
  PYCAGE_PROVIDER: 'openai',
  OPENAI_BASE_URL: chat.openaiBaseUrl,
  OPENAI_API_KEY: 'test-key',
  PYCAGE_MODEL: model,
});

describe('pycage doctor', () => {
  it('gives a verdict for Docker, the image, the key and the model, and exits 0 when all work', async () => {
    server = await startChatServer([{ content: 'unused' }], { models: ['test-model', 'other-model'] });
    index = await startIndexServer({ packages: { pip: ['24.0'] } });
    const result = await runCliProcess(['doctor', '--index-url', index.simpleUrl], { env: modelEnv(server, 'test-model') });
    expect(result.stdout).toMatch(/✓ Docker +Docker \d+/);
    expect(result.stdout).toContain(`✓ Image    image ${testImage} (Python 3.`);
    // The egress proxy tried for real: it refuses the metadata address before connecting.
    expect(result.stdout).toContain('✓ Network  public: the egress proxy answers, and refused 169.254.169.254 (link-local) before connecting');
    expect(result.stdout).toMatch(/✓ API key/);
    expect(result.stdout).toMatch(/✓ Model +http:\/\/127\.0\.0\.1:\d+\/v1 answers and serves test-model/);
    expect(result.stdout).toContain(`✓ Index    ${index.simpleUrl} is reachable and answers the simple API · plain HTTP, trusted for 127.0.0.1`);
    expect(result.exitCode).toBe(0);
    expect(server.requests.some((request) => request.method === 'GET' && request.path.endsWith('/models'))).toBe(true);
  });

  it('fails the model check (exit 4) when the endpoint does not serve the model', async () => {
    server = await startChatServer([{ content: 'unused' }], { models: ['test-model'] });
    const result = await runCliProcess(['doctor', '--json', '--no-index'], { env: modelEnv(server, 'retired-model') });
    expect(result.exitCode).toBe(4);
    const json = JSON.parse(result.stdout);
    expect(json.ok).toBe(false);
    expect(json.checks).toContainEqual(expect.objectContaining({ name: 'Model', verdict: 'fail' }));
    expect(json.checks).toContainEqual(expect.objectContaining({ name: 'Docker', verdict: 'ok' }));
  });

  it('names the missing key variable (exit 4)', async () => {
    const result = await runCliProcess(['doctor', '--no-index']);
    expect(result.exitCode).toBe(4);
    expect(result.stdout).toMatch(/✗ API key +GROQ_API_KEY is not set/);
  });

  it('says Docker is not running (exit 3), and still checks the key', async () => {
    server = await startChatServer([{ content: 'unused' }]);
    const result = await runCliProcess(['doctor', '--no-index'], { env: { ...modelEnv(server, 'test-model'), DOCKER_HOST: 'unix:///nonexistent/docker.sock' } });
    expect(result.exitCode).toBe(3);
    expect(result.stdout).toMatch(/✗ Docker/);
    expect(result.stdout).toMatch(/✓ API key/);
  });

  it('says plainly that a named index is not reachable, and exits 1', async () => {
    server = await startChatServer([{ content: 'unused' }], { models: ['test-model'] });
    const url = `http://127.0.0.1:${await closedPort()}/simple`;
    const result = await runCliProcess(['doctor', '--index-url', url], { env: modelEnv(server, 'test-model') });
    expect(result.stdout).toContain(`✗ Index    ${url} is not reachable (connection refused)`);
    expect(result.stdout).toMatch(/✓ Model/);
    expect(result.exitCode).toBe(1);
  });

  it('notes that --no-index uses no index', async () => {
    const result = await runCliProcess(['doctor', '--no-index']);
    expect(result.stdout).toContain('– Index    not used: --no-index installs from --find-links only');
  });
});
