/**
 * The external bench model: a process of its own that streams answers over HTTP in the OpenAI
 * Chat Completions wire format (`POST /v1/chat/completions` with `stream: true`), at a fixed rate
 * per answer, and stamps each token with the wall-clock instant its chunk is written. Because the
 * stamp is taken outside the server under test, a client's "stamp → arrival" includes every wait
 * in that server, a saturated event loop too.
 *
 * Environment: `BENCH_SSE_TOKENS` (per answer, default 200), `BENCH_SSE_TOKENS_PER_SECOND`
 * (default 100), `BENCH_SSE_DELTA_CHARS` (default 24), `BENCH_SSE_FIRST_TOKEN_DELAY_MS` (default 0).
 *
 * One timer drives every open stream (a stream per timer would cost a timer per token): each tick
 * writes the chunks that are due, so the model's own lateness shows in `maxLagMs`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { preciseNow } from '../support/clock.js';
import { numberFromEnvironment } from '../support/ipc.js';
import { DONE_EVENT, sseEvent, type ChatCompletionChunk } from '../support/sse.js';
import { serveControl } from './server-control.js';

const settings = {
  tokens: numberFromEnvironment('BENCH_SSE_TOKENS', 200),
  tokensPerSecond: numberFromEnvironment('BENCH_SSE_TOKENS_PER_SECOND', 100),
  deltaChars: numberFromEnvironment('BENCH_SSE_DELTA_CHARS', 24),
  firstTokenDelayMs: numberFromEnvironment('BENCH_SSE_FIRST_TOKEN_DELAY_MS', 0),
};
const interval = 1000 / settings.tokensPerSecond;

interface Stream {
  id: string;
  response: ServerResponse;
  includeUsage: boolean;
  emitted: number;
  /** When the next token is due (precise wall-clock ms). */
  nextDue: number;
}

const streams = new Set<Stream>();
const counters = { started: 0, completed: 0, aborted: 0, chunks: 0, maxActive: 0, maxLagMs: 0 };
let timer: NodeJS.Timeout | undefined;
let nextId = 0;

function chunk(
  stream: Stream,
  delta: ChatCompletionChunk['choices'][number]['delta'],
  finish: 'stop' | null,
): ChatCompletionChunk {
  return {
    id: stream.id,
    object: 'chat.completion.chunk',
    created: Math.floor(Date.now() / 1000),
    model: 'bench-sse',
    choices: [{ index: 0, delta, finish_reason: finish }],
  };
}

function finish(stream: Stream): void {
  const { response } = stream;
  response.write(sseEvent(chunk(stream, {}, 'stop')));
  if (stream.includeUsage) {
    const tokens = settings.tokens;
    response.write(
      sseEvent({
        ...chunk(stream, {}, null),
        choices: [],
        usage: { prompt_tokens: 1, completion_tokens: tokens, total_tokens: tokens + 1 },
      }),
    );
  }
  response.end(DONE_EVENT);
  streams.delete(stream);
  counters.completed += 1;
}

function tick(): void {
  timer = undefined;
  const now = preciseNow();
  for (const stream of streams) {
    if (stream.nextDue > now) continue;
    counters.maxLagMs = Math.max(counters.maxLagMs, now - stream.nextDue);
    // Every token that is due leaves now, each in its own chunk, each stamped as it is written.
    while (stream.nextDue <= now && stream.emitted < settings.tokens) {
      const content = `@${preciseNow().toFixed(3)}`.padEnd(settings.deltaChars, '.');
      stream.response.write(sseEvent(chunk(stream, { content }, null)));
      stream.emitted += 1;
      stream.nextDue += interval;
      counters.chunks += 1;
    }
    if (stream.emitted >= settings.tokens) finish(stream);
  }
  schedule();
}

function schedule(): void {
  if (timer !== undefined || streams.size === 0) return;
  let earliest = Number.POSITIVE_INFINITY;
  for (const stream of streams) earliest = Math.min(earliest, stream.nextDue);
  timer = setTimeout(tick, Math.max(0, earliest - preciseNow()));
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (text: string) => (body += text));
    request.on('end', () => {
      resolve(body);
    });
    request.on('error', reject);
  });
}

async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = (request.url ?? '').split('?')[0];
  if (
    request.method !== 'POST' ||
    (path !== '/v1/chat/completions' && path !== '/chat/completions')
  ) {
    response.writeHead(404, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify({ error: { message: 'not found', type: 'invalid_request_error' } }),
    );
    return;
  }
  const body = JSON.parse(await readBody(request)) as {
    stream?: boolean;
    stream_options?: { include_usage?: boolean };
  };
  if (body.stream !== true) {
    response.writeHead(400, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ error: { message: 'this bench model only streams' } }));
    return;
  }
  response.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  nextId += 1;
  const stream: Stream = {
    id: `chatcmpl-bench${nextId}`,
    response,
    includeUsage: body.stream_options?.include_usage === true,
    emitted: 0,
    nextDue: preciseNow() + settings.firstTokenDelayMs,
  };
  response.write(sseEvent(chunk(stream, { role: 'assistant', content: '' }, null)));
  response.on('close', () => {
    if (streams.delete(stream)) counters.aborted += 1;
  });
  streams.add(stream);
  counters.started += 1;
  counters.maxActive = Math.max(counters.maxActive, streams.size);
  schedule();
}

const server = createServer((request, response) => {
  handle(request, response).catch((error: unknown) => {
    response.writeHead(500);
    response.end(String(error));
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  serveControl(port, {
    stats: () => {
      const stats = { ...counters, active: streams.size, settings };
      counters.maxActive = streams.size;
      counters.maxLagMs = 0;
      return stats;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const stream of streams) stream.response.destroy();
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  });
});
