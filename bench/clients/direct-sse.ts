/**
 * The plain client of the provider benchmark: it reads the external bench model's SSE streams
 * directly, with no chat server in between, so its token latency is the floor any server adds to.
 * Each of `streams` slots asks for an answer, reads it to `[DONE]`, and asks again (a closed loop,
 * like the chat drivers).
 */
import { Agent, request as httpRequest } from 'node:http';
import { preciseNow } from '../support/clock.js';
import { chunkContent, SseDataParser, stampOf, type ChatCompletionChunk } from '../support/sse.js';

/** Where the direct reader reports what it reads. */
export interface DirectSseEvents {
  /** A token arrived; `stamp` is when the model wrote it. */
  token(stamp: number, now: number): void;
  /** An answer ended: its token count and first/last token arrival. */
  answer(tokens: number, firstAt: number, lastAt: number): void;
  error(code: string): void;
}

/** A running set of direct streams. */
export interface DirectSseLoad {
  /** Lets each stream finish its answer and not ask again. */
  stop(): void;
  /** Drops every connection. */
  close(): void;
  readonly active: number;
}

const BODY = JSON.stringify({
  model: 'bench-sse',
  messages: [{ role: 'user', content: 'Stream an answer, please.' }],
  stream: true,
  stream_options: { include_usage: true },
});

/**
 * Starts `streams` closed-loop readers of `http://127.0.0.1:<port>/v1/chat/completions`, the first
 * answers spread over `staggerMs`.
 *
 * @example
 * const load = startDirectSse({ port, streams: 100, staggerMs: 100 }, events);
 */
export function startDirectSse(
  { port, streams, staggerMs }: { port: number; streams: number; staggerMs: number },
  events: DirectSseEvents,
): DirectSseLoad {
  const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
  let running = true;
  let active = 0;
  const ask = () => {
    if (!running) return;
    active += 1;
    const parser = new SseDataParser();
    let tokens = 0;
    let firstAt = 0;
    let lastAt = 0;
    const outgoing = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path: '/v1/chat/completions',
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY) },
      },
      (response) => {
        response.setEncoding('utf8');
        response.on('data', (text: string) => {
          const now = preciseNow();
          for (const data of parser.push(text)) {
            if (data === '[DONE]') continue;
            const stamp = stampOf(chunkContent(JSON.parse(data) as ChatCompletionChunk));
            if (stamp === 0) continue;
            tokens += 1;
            if (firstAt === 0) firstAt = now;
            lastAt = now;
            events.token(stamp, now);
          }
        });
        response.on('end', () => {
          active -= 1;
          events.answer(tokens, firstAt, lastAt);
          ask();
        });
      },
    );
    outgoing.on('error', (error: Error & { code?: string }) => {
      active -= 1;
      events.error(`sse_${error.code ?? error.message}`);
    });
    outgoing.end(BODY);
  };
  for (let slot = 0; slot < streams; slot += 1) {
    setTimeout(ask, (slot * staggerMs) / Math.max(1, streams));
  }
  return {
    stop: () => {
      running = false;
    },
    close: () => {
      running = false;
      agent.destroy();
    },
    get active() {
      return active;
    },
  };
}
