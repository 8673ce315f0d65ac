/**
 * A model provider on 127.0.0.1 for tests: it streams recorded responses in each API's own wire
 * format, records what it was sent, and fails on cue (429, 500, a reset, a stall). Parley's
 * provider layer talks to it through the real `@ai-sdk/*` packages and the real `fetch`.
 *
 * Wire formats, as each API documents them:
 * - OpenAI Chat Completions (and OpenAI-compatible servers): `data: {chunk}\n\n` per chunk, then
 *   `data: [DONE]\n\n`;
 * - OpenAI Responses and Anthropic Messages: `event: {type}\ndata: {event}\n\n` per event, the
 *   event name being the JSON's own `type`.
 * Fixtures live in test/fixtures/providers/*.chunks.txt, one chunk (its JSON) per line, the way
 * the AI SDK keeps its own.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The streaming APIs the server speaks. */
export type ProviderApi = 'chat-completions' | 'responses' | 'anthropic-messages';

/** What the server does with one request. */
export type ScriptedReply =
  | {
      kind: 'stream';
      api: ProviderApi;
      /** A fixture name in test/fixtures/providers (without `.chunks.txt`), or the chunks. */
      chunks: string | readonly string[];
      headers?: Record<string, string>;
      /**
       * Writes this many chunks, then holds the stream open until the client goes away (or the
       * test calls `resetConnection`).
       */
      stallAfter?: number;
      /** Leaves out Chat Completions' closing `data: [DONE]`. */
      omitDone?: boolean;
    }
  | { kind: 'error'; status: number; headers?: Record<string, string>; body: unknown }
  /** Accepts the request and never answers: no status, no byte (until `resetConnection`). */
  | { kind: 'silence' }
  /** Destroys the socket before any answer (a connection reset before the first byte). */
  | { kind: 'reset' };

/** One request the server received. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The JSON body. */
  body: Record<string, unknown>;
  /** Resolves when the client closes the connection before the answer ended. */
  closedByClient: Promise<void>;
  /** Destroys the connection now: a reset mid-answer, at the moment the test chooses. */
  resetConnection(): void;
}

/** A running provider server. */
export interface ProviderServer extends AsyncDisposable {
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string;
  /** Every request, in order. */
  readonly requests: RecordedRequest[];
  /** Queues replies for the next requests, in order; an unscripted request gets a 500. */
  reply(...replies: ScriptedReply[]): void;
  /** Resolves once `count` requests have arrived. */
  received(count: number): Promise<void>;
  close(): Promise<void>;
}

const FIXTURES = new URL('../fixtures/providers/', import.meta.url);

/**
 * The chunks of a recorded response: one JSON chunk per non-empty line of
 * test/fixtures/providers/<name>.chunks.txt.
 */
export function readChunks(name: string): string[] {
  return readFileSync(new URL(`${name}.chunks.txt`, FIXTURES), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '');
}

/** Encodes one chunk the way `api` puts it on the wire. */
export function encodeChunk(api: ProviderApi, chunk: string): string {
  if (api === 'chat-completions') return `data: ${chunk}\n\n`;
  const { type } = JSON.parse(chunk) as { type: string };
  return `event: ${type}\ndata: ${chunk}\n\n`;
}

/**
 * Starts a provider server on 127.0.0.1, port 0.
 *
 * @example
 * await using provider = await startProviderServer();
 * provider.reply({ kind: 'stream', api: 'chat-completions', chunks: 'openai-chat-answer' });
 */
export async function startProviderServer(): Promise<ProviderServer> {
  const requests: RecordedRequest[] = [];
  const replies: ScriptedReply[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];

  const server = createServer((request, response) => {
    const parts: Buffer[] = [];
    request.on('data', (part: Buffer) => parts.push(part));
    request.on('end', () => {
      let closedByClient!: () => void;
      const recorded: RecordedRequest = {
        method: request.method ?? '',
        path: request.url ?? '',
        headers: request.headers,
        body: parseBody(Buffer.concat(parts).toString('utf8')),
        closedByClient: new Promise((resolve) => (closedByClient = resolve)),
        resetConnection: () => {
          response.socket?.destroy();
        },
      };
      response.on('close', () => {
        if (!response.writableEnded) closedByClient();
      });
      requests.push(recorded);
      for (const waiter of waiters.filter((w) => requests.length >= w.count)) waiter.resolve();
      answer(response, replies.shift());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const close = async (): Promise<void> => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
    });
  };
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    reply: (...more) => replies.push(...more),
    received: (count) =>
      requests.length >= count
        ? Promise.resolve()
        : new Promise((resolve) => waiters.push({ count, resolve })),
    close,
    [Symbol.asyncDispose]: close,
  };
}

function parseBody(text: string): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { unparsed: text };
  }
}

function answer(response: ServerResponse, reply: ScriptedReply | undefined): void {
  if (reply === undefined) {
    sendJson(response, 500, {}, { error: { message: 'provider-server: no scripted reply' } });
    return;
  }
  switch (reply.kind) {
    case 'error':
      sendJson(response, reply.status, reply.headers ?? {}, reply.body);
      return;
    case 'silence':
      return;
    case 'reset':
      response.socket?.destroy();
      return;
    case 'stream':
      stream(response, reply);
      return;
  }
}

function sendJson(
  response: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: unknown,
): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

function stream(response: ServerResponse, reply: Extract<ScriptedReply, { kind: 'stream' }>): void {
  const chunks = typeof reply.chunks === 'string' ? readChunks(reply.chunks) : reply.chunks;
  response.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    ...reply.headers,
  });
  // Each chunk is its own write, so the client can see them arrive one by one.
  for (const [index, chunk] of chunks.entries()) {
    if (index === reply.stallAfter) return;
    response.write(encodeChunk(reply.api, chunk));
  }
  if (reply.stallAfter !== undefined && reply.stallAfter >= chunks.length) return;
  if (reply.api === 'chat-completions' && reply.omitDone !== true)
    response.write('data: [DONE]\n\n');
  response.end();
}
