/**
 * A real HTTP server on 127.0.0.1 that speaks the chat-completions protocol, for tests that point
 * groq-sdk or openai at it by base URL. It answers with scripted replies (a completion, streamed or
 * not as the request asks, or an HTTP error) and records every request it gets.
 *
 * groq-sdk posts to `/openai/v1/chat/completions`, openai to `/v1/chat/completions`: any path ending
 * in `/chat/completions` is accepted, and `GET .../models` lists models (for `pycage doctor`).
 */
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { arrivals } from './wait.js';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** The JSON body, parsed; the raw text when it is not JSON; `undefined` when empty. */
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever fields the client under test sent, as it sent them.
  body: any;
}

export type ChatReply =
  | {
      /** The answer text (`message.content`). */
      content: string;
      /** Reasoning sent beside the content, as reasoning models do. */
      reasoning?: string;
      /** Which field carries `reasoning`: Groq and Ollama say `reasoning`, vLLM and DeepSeek `reasoning_content`. @default 'reasoning' */
      reasoningField?: 'reasoning' | 'reasoning_content';
      /** Wait before answering at all (600_000: an answer that never comes while the test runs). */
      delayMs?: number;
      /** When streaming: wait between chunks (to make a stream go quiet). */
      chunkDelayMs?: number;
      /** @default 'stop' */
      finishReason?: string;
    }
  | {
      status: number;
      /** @default an OpenAI-style `{ error: { message, type, code } }` */
      body?: unknown;
      headers?: Record<string, string>;
    };

export interface ChatServer {
  /** `http://127.0.0.1:PORT`: the base URL groq-sdk takes. */
  baseUrl: string;
  /** `http://127.0.0.1:PORT/v1`: the base URL openai takes. */
  openaiBaseUrl: string;
  /** Every request received, in order, chat and models alike. */
  requests: RecordedRequest[];
  /** Resolves once `count` requests have arrived: a test acts when the client is waiting, not after a guessed delay. */
  waitForRequests(count: number): Promise<void>;
  close(): Promise<void>;
}

export interface ChatServerOptions {
  /** Model ids listed by `GET .../models`. @default ['test-model'] */
  models?: string[];
}

/** Replies past the end of an array repeat the last one. */
export async function startChatServer(
  replies: ChatReply[] | ((request: RecordedRequest, index: number) => ChatReply),
  options: ChatServerOptions = {},
): Promise<ChatServer> {
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const arrived = arrivals(() => requests.length);
  let chatCount = 0;

  const wait = (delayMs: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, delayMs);
      timers.add(timer);
    });

  const pickReply = (request: RecordedRequest): ChatReply => {
    const index = chatCount;
    chatCount += 1;
    if (typeof replies === 'function') return replies(request, index);
    const reply = replies[Math.min(index, replies.length - 1)];
    if (reply === undefined) throw new Error('startChatServer needs at least one reply');
    return reply;
  };

  const handle = async (incoming: IncomingMessage, response: ServerResponse): Promise<void> => {
    const request: RecordedRequest = {
      method: incoming.method ?? 'GET',
      path: incoming.url ?? '/',
      headers: { ...incoming.headers },
      body: parseBody(await readBody(incoming)),
    };
    requests.push(request);
    arrived.notify();
    const path = request.path.split('?')[0] ?? '';

    if (request.method === 'GET' && path.endsWith('/models')) {
      const data = (options.models ?? ['test-model']).map((id) => ({ id, object: 'model', created: 0, owned_by: 'pycage-test' }));
      sendJson(response, 200, { object: 'list', data });
      return;
    }
    if (request.method !== 'POST' || !path.endsWith('/chat/completions')) {
      sendJson(response, 404, errorBody(404, `No route for ${request.method} ${path}`));
      return;
    }

    const reply = pickReply(request);
    if ('status' in reply) {
      sendJson(response, reply.status, reply.body ?? errorBody(reply.status), reply.headers);
      return;
    }
    if (reply.delayMs !== undefined) await wait(reply.delayMs);
    if (response.destroyed) return;
    const model = typeof request.body?.model === 'string' ? request.body.model : 'test-model';
    if (request.body?.stream === true) await streamReply(response, reply, model, wait);
    else sendJson(response, 200, completion(reply, model));
  };

  const server = createServer((incoming, response) => {
    handle(incoming, response).catch((error: unknown) => {
      if (!response.headersSent) sendJson(response, 500, errorBody(500, String(error)));
      else response.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;

  return {
    baseUrl,
    openaiBaseUrl: `${baseUrl}/v1`,
    requests,
    waitForRequests: (count) => arrived.reached(count),
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // The SDKs keep connections alive; without this, close() would wait for them to time out.
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

function readBody(incoming: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    incoming.on('error', reject);
  });
}

function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  response.end(text);
}

function errorBody(status: number, message = STATUS_CODES[status] ?? 'Error'): unknown {
  return { error: { message, type: status >= 500 ? 'server_error' : 'invalid_request_error', code: null } };
}

let nextId = 1;

function completion(reply: Extract<ChatReply, { content: string }>, model: string): unknown {
  const message: Record<string, unknown> = { role: 'assistant', content: reply.content };
  if (reply.reasoning !== undefined) message[reply.reasoningField ?? 'reasoning'] = reply.reasoning;
  return {
    id: `chatcmpl-test-${nextId++}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: reply.finishReason ?? 'stop' }],
    usage: { prompt_tokens: 10, completion_tokens: 10, total_tokens: 20 },
  };
}

/** Server-sent events as the real APIs send them: `data: {chunk}` lines, then `data: [DONE]`. */
async function streamReply(
  response: ServerResponse,
  reply: Extract<ChatReply, { content: string }>,
  model: string,
  wait: (delayMs: number) => Promise<void>,
): Promise<void> {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  const id = `chatcmpl-test-${nextId++}`;
  const created = Math.floor(Date.now() / 1000);
  const send = async (delta: Record<string, unknown>, finishReason: string | null = null): Promise<void> => {
    if (response.destroyed) return;
    const chunk = { id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] };
    response.write(`data: ${JSON.stringify(chunk)}\n\n`);
    if (reply.chunkDelayMs !== undefined) await wait(reply.chunkDelayMs);
  };

  await send({ role: 'assistant', content: '' });
  for (const piece of pieces(reply.reasoning ?? '')) await send({ [reply.reasoningField ?? 'reasoning']: piece });
  for (const piece of pieces(reply.content)) await send({ content: piece });
  await send({}, reply.finishReason ?? 'stop');
  if (!response.destroyed) response.end('data: [DONE]\n\n');
}

/** Small uneven pieces, so that words and tags (`<think>`) are split across chunks as they are in real streams. */
function pieces(text: string): string[] {
  const result: string[] = [];
  for (let index = 0, size = 3; index < text.length; index += size, size = size === 3 ? 5 : 3) {
    result.push(text.slice(index, index + size));
  }
  return result;
}
