// Both providers, through their real SDKs, against a real chat-completions server on 127.0.0.1:
// what each request carries, what each kind of failure turns into, streaming, and reasoning models.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AbortedError, ExitCode } from '../../../src/errors.js';
import type { LogEntry } from '../../../src/logger.js';
import { NoCodeBlockError } from '../../../src/extract/index.js';
import {
  createProvider,
  loadInstruction,
  ModelAuthenticationError,
  ModelConnectionError,
  ModelNotFoundError,
  ModelRateLimitError,
  ModelRequestError,
  ModelServerError,
  ModelTimeoutError,
  MissingApiKeyError,
  providerFromEnvironment,
  resolveModelConfig,
  type ModelConfigInput,
  type ProviderName,
} from '../../../src/generator/index.js';
import { generateCode } from '../../../src/agent/index.js';
import { startChatServer, type ChatReply, type ChatServer } from '../../helpers/chat-server.js';
import { waitFor } from '../../helpers/wait.js';

const fence = '```';
const pythonAnswer = `Here is the script:\n\n${fence}python\nprint("hello from pycage")\n${fence}\n`;

const providers: { name: ProviderName; baseUrl: (server: ChatServer) => string; path: string; keyVariable: string }[] = [
  { name: 'groq', baseUrl: (server) => server.baseUrl, path: '/openai/v1/chat/completions', keyVariable: 'GROQ_API_KEY' },
  { name: 'openai', baseUrl: (server) => server.openaiBaseUrl, path: '/v1/chat/completions', keyVariable: 'OPENAI_API_KEY' },
];

let server: ChatServer | undefined;
const logs: LogEntry[] = [];

afterEach(async () => {
  await server?.close();
  server = undefined;
  logs.length = 0;
  vi.restoreAllMocks();
});

async function serve(replies: ChatReply[] | Parameters<typeof startChatServer>[0]): Promise<ChatServer> {
  server = await startChatServer(replies);
  return server;
}

describe.each(providers)('$name provider against a chat-completions server', ({ name, baseUrl, path, keyVariable }) => {
  function providerFor(url: string, overrides: Partial<ModelConfigInput> = {}) {
    const config = resolveModelConfig({ provider: name, model: 'test-model', apiKey: 'test-key', baseUrl: url, maxRetries: 1, env: {}, ...overrides });
    return createProvider(config, { logger: (entry) => logs.push(entry) });
  }

  it("sends the instruction as the system message, the model id and the user's words", async () => {
    const chat = await serve([{ content: pythonAnswer }]);
    const instruction = await loadInstruction();
    const result = await generateCode({ request: 'say hello', provider: providerFor(baseUrl(chat)) });

    expect(result.code).toBe('print("hello from pycage")\n');
    expect(result.rule).toBe('python-block');
    expect(chat.requests).toHaveLength(1);
    const [request] = chat.requests;
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe(path);
    expect(request?.headers.authorization).toBe('Bearer test-key');
    expect(request?.body.model).toBe('test-model');
    expect(request?.body.messages).toEqual([
      { role: 'system', content: instruction },
      { role: 'user', content: 'say hello' },
    ]);
    expect(request?.body.stream).toBeFalsy();
  });

  it('reports the tokens an answer cost through onUsage, and still returns the text', async () => {
    const chat = await serve([{ content: pythonAnswer }]);
    const counted: unknown[] = [];
    const text = await providerFor(baseUrl(chat)).generate({ messages: [{ role: 'user', content: 'say hello' }], onUsage: (usage) => counted.push(usage) });
    expect(text).toContain('print("hello from pycage")');
    // The chat server counts 10 prompt and 10 completion tokens per answer.
    expect(counted).toEqual([{ promptTokens: 10, completionTokens: 10, totalTokens: 20 }]);
  });

  it('lists the models the endpoint serves, with the key', async () => {
    server = await startChatServer([{ content: pythonAnswer }], { models: ['model-a', 'test-model'] });
    const models = await providerFor(baseUrl(server)).listModels();
    expect(models).toEqual(['model-a', 'test-model']);
    expect(server.requests[0]?.method).toBe('GET');
    expect(server.requests[0]?.path).toMatch(/\/models$/);
    expect(server.requests[0]?.headers.authorization).toBe('Bearer test-key');
  });

  it('streams when given onText, and the pieces make up the answer', async () => {
    const chat = await serve([{ content: pythonAnswer }]);
    const deltas: string[] = [];
    const answer = await providerFor(baseUrl(chat)).generate({
      messages: [{ role: 'user', content: 'say hello' }],
      onText: (delta) => deltas.push(delta),
    });
    expect(chat.requests[0]?.body.stream).toBe(true);
    expect(deltas.length).toBeGreaterThan(3);
    expect(deltas.join('')).toBe(pythonAnswer);
    expect(answer).toBe(pythonAnswer);
  });

  it('turns 401 into ModelAuthenticationError naming the key variable, without retrying', async () => {
    const chat = await serve([{ status: 401, body: { error: { message: 'Invalid API Key', type: 'invalid_request_error', code: 'invalid_api_key' } } }]);
    const error = await providerFor(baseUrl(chat)).generate({ messages: [{ role: 'user', content: 'x' }] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ModelAuthenticationError);
    expect((error as ModelAuthenticationError).message).toContain(keyVariable);
    expect((error as ModelAuthenticationError).message).toContain('Invalid API Key');
    expect((error as ModelAuthenticationError).variable).toBe(keyVariable);
    expect((error as ModelAuthenticationError).status).toBe(401);
    expect((error as ModelAuthenticationError).exitCode).toBe(ExitCode.model);
    expect(chat.requests).toHaveLength(1);
  });

  it('retries 429 with the SDK backoff, then gives ModelRateLimitError', async () => {
    const chat = await serve([{ status: 429, headers: { 'retry-after': '0' }, body: { error: { message: 'Rate limit reached for model', type: 'tokens', code: 'rate_limit_exceeded' } } }]);
    const error = await providerFor(baseUrl(chat), { maxRetries: 2 })
      .generate({ messages: [{ role: 'user', content: 'x' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ModelRateLimitError);
    expect((error as ModelRateLimitError).isRetryable).toBe(true);
    expect((error as ModelRateLimitError).retryAfterMs).toBe(0);
    expect((error as ModelRateLimitError).message).toContain('after 2 retries');
    expect(chat.requests).toHaveLength(3);
  });

  it('does not sleep through a long retry-after (a daily quota): fails at once, saying how long to wait', async () => {
    const chat = await serve([{ status: 429, headers: { 'retry-after': '3600' } }]);
    const error = await providerFor(baseUrl(chat), { maxRetries: 2 })
      .generate({ messages: [{ role: 'user', content: 'x' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ModelRateLimitError);
    expect((error as ModelRateLimitError).retryAfterMs).toBe(3_600_000);
    expect((error as ModelRateLimitError).hint).toContain('1h');
    expect(chat.requests).toHaveLength(1);
  });

  it('succeeds when a 429 clears up within the retries', async () => {
    const chat = await serve([{ status: 429, headers: { 'retry-after': '0' } }, { content: pythonAnswer }]);
    const answer = await providerFor(baseUrl(chat)).generate({ messages: [{ role: 'user', content: 'x' }] });
    expect(answer).toContain('hello from pycage');
    expect(chat.requests).toHaveLength(2);
  });

  it('retries 500, then gives ModelServerError', async () => {
    const chat = await serve([{ status: 500, headers: { 'retry-after-ms': '1' } }]);
    const error = await providerFor(baseUrl(chat)).generate({ messages: [{ role: 'user', content: 'x' }] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ModelServerError);
    expect((error as ModelServerError).status).toBe(500);
    expect(chat.requests).toHaveLength(2);
  });

  it('turns 404 into ModelNotFoundError naming the model', async () => {
    const chat = await serve([{ status: 404, body: { error: { message: 'The model `test-model` does not exist', type: 'invalid_request_error', code: 'model_not_found' } } }]);
    const error = await providerFor(baseUrl(chat)).generate({ messages: [{ role: 'user', content: 'x' }] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ModelNotFoundError);
    expect((error as ModelNotFoundError).model).toBe('test-model');
    expect((error as ModelNotFoundError).message).toContain('"test-model"');
  });

  it("treats Groq's model_decommissioned (400) as an unknown model", async () => {
    const chat = await serve([{ status: 400, body: { error: { message: 'The model `llama-3.3-70b-versatile` has been decommissioned', type: 'invalid_request_error', code: 'model_decommissioned' } } }]);
    const error = await providerFor(baseUrl(chat)).generate({ messages: [{ role: 'user', content: 'x' }] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ModelNotFoundError);
    expect((error as ModelNotFoundError).message).toContain('decommissioned');
  });

  it('turns another 4xx into ModelRequestError carrying the server message', async () => {
    const chat = await serve([{ status: 400, body: { error: { message: "'messages' must contain at least one message", type: 'invalid_request_error', code: null } } }]);
    const error = await providerFor(baseUrl(chat)).generate({ messages: [{ role: 'user', content: 'x' }] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ModelRequestError);
    expect((error as ModelRequestError).message).toContain('must contain at least one message');
  });

  it('names the URL when the connection is refused', async () => {
    const closed = await startChatServer([{ content: '' }]);
    const url = baseUrl(closed);
    await closed.close();
    const error = await providerFor(url, { maxRetries: 0 }).generate({ messages: [{ role: 'user', content: 'x' }] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ModelConnectionError);
    expect((error as ModelConnectionError).message).toContain(url);
    expect((error as ModelConnectionError).message).toContain('connection refused');
    expect((error as ModelConnectionError).url).toBe(url);
  });

  // In these the server never answers (or stops mid-stream) while the test runs: only the provider's
  // timeout or the abort can end the call, so nothing races a timer, and the test's own timeout is
  // the guard should they not.
  it('gives ModelTimeoutError when the answer takes longer than timeoutMs', async () => {
    const chat = await serve([{ content: pythonAnswer, delayMs: 600_000 }]);
    const error = await providerFor(baseUrl(chat), { timeoutMs: 150, maxRetries: 0 })
      .generate({ messages: [{ role: 'user', content: 'x' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ModelTimeoutError);
    expect((error as ModelTimeoutError).timeoutMs).toBe(150);
  });

  it('gives ModelTimeoutError when a stream goes quiet for longer than timeoutMs', async () => {
    const chat = await serve([{ content: pythonAnswer, chunkDelayMs: 600_000 }]);
    const error = await providerFor(baseUrl(chat), { timeoutMs: 200, maxRetries: 0 })
      .generate({ messages: [{ role: 'user', content: 'x' }], onText: () => {} })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ModelTimeoutError);
    expect((error as ModelTimeoutError).message).toContain('stopped sending');
  });

  it('aborts a request in flight with AbortedError', async () => {
    const chat = await serve([{ content: pythonAnswer, delayMs: 600_000 }]);
    const controller = new AbortController();
    const generating = providerFor(baseUrl(chat))
      .generate({ messages: [{ role: 'user', content: 'x' }], abortSignal: controller.signal })
      .catch((caught: unknown) => caught);
    // Aborted once the request is at the server, so it is really in flight.
    await chat.waitForRequests(1);
    controller.abort();
    expect(await generating).toBeInstanceOf(AbortedError);
  });

  it('aborts while the SDK waits to retry a 429, without waiting out retry-after', async () => {
    // Waiting out the 15 s would run past the test's own timeout.
    const chat = await serve([{ status: 429, headers: { 'retry-after': '15' } }]);
    const controller = new AbortController();
    const generating = providerFor(baseUrl(chat), { maxRetries: 2 })
      .generate({ messages: [{ role: 'user', content: 'x' }], abortSignal: controller.signal })
      .catch((caught: unknown) => caught);
    // Aborted once the SDK has said it will retry (its log line, which pycage's logger receives): it is
    // then waiting out retry-after.
    await waitFor(() => logs.some((entry) => /retrying/i.test(entry.message)), "the SDK's retry after the 429", { intervalMs: 10 });
    controller.abort();
    expect(await generating).toBeInstanceOf(AbortedError);
    expect(chat.requests).toHaveLength(1);
  });

  it('never takes a reasoning field for the answer', async () => {
    const reasoning = `The user wants a greeting. Draft:\n${fence}python\nprint("draft from reasoning")\n${fence}`;
    for (const reasoningField of ['reasoning', 'reasoning_content'] as const) {
      for (const stream of [false, true]) {
        const chat = await startChatServer([{ content: pythonAnswer, reasoning, reasoningField }]);
        const result = await generateCode({
          request: 'say hello',
          provider: providerFor(baseUrl(chat)),
          ...(stream ? { onText: () => {} } : {}),
        });
        await chat.close();
        expect(result.code, `${reasoningField}, stream ${stream}`).toBe('print("hello from pycage")\n');
        expect(result.answer).not.toContain('draft');
      }
    }
  });

  it('fails with NoCodeBlockError, not the reasoning, when only the reasoning holds code', async () => {
    const chat = await serve([{ content: '', reasoning: `${fence}python\nprint("only in reasoning")\n${fence}`, finishReason: 'length' }]);
    const error = await generateCode({ request: 'x', provider: providerFor(baseUrl(chat)) }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NoCodeBlockError);
    expect((error as NoCodeBlockError).answer).toBe('');
    expect(logs.some((entry) => entry.level === 'warn' && entry.message.includes('empty answer'))).toBe(true);
  });

  it('strips <think> sections from the answer, streamed or not', async () => {
    const content = `<think>\nMaybe:\n${fence}python\nprint("draft in think")\n${fence}\n</think>\n\n${pythonAnswer}`;
    for (const stream of [false, true]) {
      const chat = await startChatServer([{ content }]);
      const deltas: string[] = [];
      const result = await generateCode({
        request: 'x',
        provider: providerFor(baseUrl(chat)),
        ...(stream ? { onText: (delta: string) => deltas.push(delta) } : {}),
      });
      await chat.close();
      expect(result.code).toBe('print("hello from pycage")\n');
      expect(result.answer).toBe(pythonAnswer);
      if (stream) expect(deltas.join('')).toBe(pythonAnswer);
    }
  });

  it('logs through the given sink and never writes to the console', async () => {
    const consoleMethods = (['log', 'info', 'warn', 'error', 'debug'] as const).map((method) => vi.spyOn(console, method));
    const chat = await serve([{ status: 500, headers: { 'retry-after-ms': '1' } }, { content: pythonAnswer }]);
    await providerFor(baseUrl(chat)).generate({ messages: [{ role: 'user', content: 'x' }] });
    for (const spy of consoleMethods) expect(spy).not.toHaveBeenCalled();
    expect(logs.some((entry) => entry.component === 'Generator' && entry.message.includes('answered'))).toBe(true);
    expect(logs.some((entry) => entry.message.includes('retrying'))).toBe(true);
  });
});

describe('openai provider with a local server and no key', () => {
  it('sends a placeholder key instead of failing', async () => {
    const chat = await serve([{ content: pythonAnswer }]);
    const config = resolveModelConfig({ provider: 'openai', model: 'llama3.2', env: { OPENAI_BASE_URL: chat.openaiBaseUrl } });
    const answer = await createProvider(config).generate({ messages: [{ role: 'user', content: 'x' }] });
    expect(answer).toContain('hello from pycage');
    expect(chat.requests[0]?.headers.authorization).toMatch(/^Bearer \S+/);
  });

  it('says the server wants a key when it answers 401', async () => {
    const chat = await serve([{ status: 401 }]);
    const config = resolveModelConfig({ provider: 'openai', model: 'm', maxRetries: 0, env: { OPENAI_BASE_URL: chat.openaiBaseUrl } });
    const error = await createProvider(config).generate({ messages: [{ role: 'user', content: 'x' }] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ModelAuthenticationError);
    expect((error as Error).message).toContain('OPENAI_API_KEY is not set');
  });
});

describe('providerFromEnvironment', () => {
  it('makes the provider the environment names in one call, and logs through the logger given', async () => {
    const chat = await serve([{ content: pythonAnswer }]);
    const logs: LogEntry[] = [];
    const provider = providerFromEnvironment({
      env: { PYCAGE_PROVIDER: 'openai', PYCAGE_MODEL: 'env-model', OPENAI_API_KEY: 'env-key', OPENAI_BASE_URL: chat.openaiBaseUrl },
      logger: (entry) => logs.push(entry),
    });
    expect([provider.name, provider.model]).toEqual(['openai', 'env-model']);
    expect(await provider.generate({ messages: [{ role: 'user', content: 'x' }] })).toContain('hello from pycage');
    expect(chat.requests[0]?.headers.authorization).toBe('Bearer env-key');
    expect(logs.some((entry) => entry.component === 'Generator')).toBe(true);
  });

  it('names the missing key variable, and a misspelled option', () => {
    expect(() => providerFromEnvironment({ env: {} })).toThrow(MissingApiKeyError);
    expect(() => providerFromEnvironment({ env: {} })).toThrow('GROQ_API_KEY');
    expect(() => providerFromEnvironment({ env: {}, apikey: 'k' } as never)).toThrow(/apikey.*apiKey/);
  });
});

describe('chat server helper', () => {
  it('lists models on GET .../models', async () => {
    const chat = await serve([{ content: '' }]);
    const response = await fetch(`${chat.openaiBaseUrl}/models`);
    const body = (await response.json()) as { data: { id: string }[] };
    expect(body.data.map((model) => model.id)).toEqual(['test-model']);
    expect(chat.requests[0]?.path).toBe('/v1/models');
  });
});
