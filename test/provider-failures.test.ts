import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ModelRequest } from '../src/agent/model.js';
import { createLogger } from '../src/logger.js';
import {
  createModelFromSpec,
  type CreateModelOptions,
} from '../src/providers/create-model-from-spec.js';
import type { ResilienceOptions } from '../src/providers/resilient-model.js';
import { collectParts, comparable, textOf, type ComparablePart } from './support/model-parts.js';
import { startProviderServer, type ProviderServer } from './support/provider-server.js';

/*
 * Failures of a real provider, scripted on a local server and met through the real packages:
 * retries only before the answer begins, deadlines, resets, aborts, and keys kept out of sight.
 * Deadlines here are short real timers; the tests await the outcome, never a sleep.
 */

const KEY = 'sk-test-secret-0b7e5d21c4';
const request: ModelRequest = {
  messages: [{ role: 'user', content: 'Weather in Paris?', userId: 'alice' }],
  tools: [],
};
/** No waiting between retries unless a test asks for it. */
const fast: ResilienceOptions = {
  random: () => 0,
  firstByteTimeoutMs: 2_000,
  idleTimeoutMs: 2_000,
};

let server: ProviderServer;
beforeEach(async () => {
  server = await startProviderServer();
});
afterEach(async () => {
  await server.close();
});

function openai(resilience: ResilienceOptions = {}, origin = server.origin) {
  const options: CreateModelOptions = { resilience: { ...fast, ...resilience } };
  return createModelFromSpec(
    'openai:gpt-4o-mini',
    { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: `${origin}/v1` },
    options,
  );
}

const answer = {
  kind: 'stream',
  api: 'chat-completions',
  chunks: 'openai-chat-weather-answer',
} as const;
const rateLimited = (headers: Record<string, string>) =>
  ({
    kind: 'error',
    status: 429,
    headers,
    body: {
      error: {
        message: 'Rate limit reached for gpt-4o-mini on requests per min (RPM): Limit 3, Used 3.',
        type: 'requests',
        param: null,
        code: 'rate_limit_exceeded',
      },
    },
  }) as const;
const serverError = {
  kind: 'error',
  status: 500,
  body: {
    error: {
      message: 'The server had an error while processing your request.',
      type: 'server_error',
    },
  },
} as const;

/** A logger at trace whose lines the test can read. */
function capturedLogger() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { logger: createLogger('trace', destination), lines };
}

describe('retries before the answer begins', () => {
  it('waits as a 429 asks (retry-after-ms), then streams the answer of the retry', async () => {
    server.reply(rateLimited({ 'retry-after-ms': '30' }), answer);
    const { logger, lines } = capturedLogger();

    const parts = await collectParts(openai({ logger }), request);

    expect(server.requests).toHaveLength(2);
    expect(textOf(parts)).toBe('It is sunny in Paris and 21 °C.');
    expect(parts.filter((part) => part.type === 'response-metadata')).toHaveLength(1);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({
      level: 40,
      code: 'provider_rate_limited',
      status: 429,
      attempt: 1,
      delay_ms: 30,
      msg: 'model call failed before its answer began; retrying',
    });
  });

  it('gives up with provider_rate_limited when retry-after asks for longer than maxRetryAfterMs', async () => {
    server.reply(rateLimited({ 'retry-after': '120' }));

    const parts = await collectParts(openai(), request);

    expect(server.requests).toHaveLength(1);
    expect(parts).toEqual([
      {
        type: 'error',
        code: 'provider_rate_limited',
        message:
          'The provider is rate limiting (HTTP 429): Rate limit reached for gpt-4o-mini on requests per min (RPM): Limit 3, Used 3.',
      },
    ]);
  });

  it('retries a 500 before the first byte, then streams the answer', async () => {
    server.reply(serverError, answer);

    const parts = await collectParts(openai(), request);

    expect(server.requests).toHaveLength(2);
    expect(parts.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop' });
  });

  it('stops after maxRetries and reports provider_unavailable', async () => {
    server.reply(serverError, serverError, serverError, answer);

    const parts = await collectParts(openai({ maxRetries: 2 }), request);

    expect(server.requests).toHaveLength(3);
    expect(parts).toEqual([
      {
        type: 'error',
        code: 'provider_unavailable',
        message:
          'The provider failed (HTTP 500): The server had an error while processing your request.',
      },
    ]);
  });

  it('retries an error streamed before any text, dropping what the failed attempt said about itself', async () => {
    const opening = {
      id: 'chatcmpl-failed-attempt',
      object: 'chat.completion.chunk',
      created: 1767225600,
      model: 'llama3.2:1b',
      choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }],
    };
    const overloaded = {
      error: {
        message: 'The server is overloaded.',
        type: 'server_error',
        param: null,
        code: null,
      },
    };
    server.reply(
      {
        kind: 'stream',
        api: 'chat-completions',
        chunks: [JSON.stringify(opening), JSON.stringify(overloaded)],
      },
      { kind: 'stream', api: 'chat-completions', chunks: 'local-weather-answer' },
    );
    const model = createModelFromSpec(
      'openai-compatible:llama3.2:1b',
      { PARLEY_MODEL_BASE_URL: `${server.origin}/v1` },
      { resilience: fast },
    );

    const parts = await collectParts(model, request);

    expect(server.requests).toHaveLength(2);
    expect(parts.filter((part) => part.type === 'response-metadata')).toEqual([
      { type: 'response-metadata', responseId: 'chatcmpl-105', modelId: 'llama3.2:1b' },
    ]);
    expect(textOf(parts)).toBe('It is sunny in Paris.');
  });

  it('retries a connection reset before the first byte', async () => {
    server.reply({ kind: 'reset' }, answer);

    const parts = await collectParts(openai(), request);

    expect(server.requests).toHaveLength(2);
    expect(textOf(parts)).toBe('It is sunny in Paris and 21 °C.');
  });

  it('retries a refused connection, then reports provider_unavailable naming the cause', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) =>
      closed.close(() => {
        resolve();
      }),
    );
    const { logger, lines } = capturedLogger();

    const parts = await collectParts(
      openai({ maxRetries: 1, logger }, `http://127.0.0.1:${port}`),
      request,
    );

    expect(parts).toEqual([
      {
        type: 'error',
        code: 'provider_unavailable',
        message: 'The provider could not be reached (ECONNREFUSED).',
      },
    ]);
    expect(lines).toHaveLength(1);
  });

  it('does not retry a request the provider rejects (HTTP 400), and shows its message', async () => {
    server.reply({
      kind: 'error',
      status: 404,
      body: {
        error: {
          message: 'The model `gpt-9` does not exist or you do not have access to it.',
          type: 'invalid_request_error',
          param: null,
          code: 'model_not_found',
        },
      },
    });

    const parts = await collectParts(openai(), request);

    expect(server.requests).toHaveLength(1);
    expect(parts).toEqual([
      {
        type: 'error',
        code: 'provider_rejected',
        message:
          'The provider rejected the request (HTTP 404): The model `gpt-9` does not exist or you do not have access to it.',
      },
    ]);
  });
});

describe('failures once the answer has begun', () => {
  it('ends with provider_unavailable after the partial text when the connection resets mid-answer, without retrying', async () => {
    server.reply({ ...answer, stallAfter: 4 }, answer);
    const parts: ComparablePart[] = [];

    // The reset comes once the client has shown the text, as a real one would mid-answer.
    for await (const part of openai().stream(request, { signal: new AbortController().signal })) {
      parts.push(comparable(part));
      if (textOf(parts) === 'It is sunny') server.requests[0]?.resetConnection();
    }

    expect(server.requests).toHaveLength(1);
    expect(textOf(parts)).toBe('It is sunny');
    expect(parts.at(-1)).toEqual({
      type: 'error',
      code: 'provider_unavailable',
      message: 'The provider connection failed (UND_ERR_SOCKET).',
    });
  });

  it('ends with provider_timeout at the idle deadline when the stream stalls, and closes the connection', async () => {
    server.reply({ ...answer, stallAfter: 4 });

    const parts = await collectParts(openai({ idleTimeoutMs: 150 }), request);

    expect(textOf(parts)).toBe('It is sunny');
    expect(parts.at(-1)).toEqual({
      type: 'error',
      code: 'provider_timeout',
      message: 'The provider went silent for 150 ms mid-answer (idle deadline).',
    });
    await server.requests[0]?.closedByClient;
  });

  it('ends with provider_timeout at the first-byte deadline when the provider never answers, and closes the connection', async () => {
    server.reply({ kind: 'silence' });

    const parts = await collectParts(openai({ firstByteTimeoutMs: 150 }), request);

    expect(parts).toEqual([
      {
        type: 'error',
        code: 'provider_timeout',
        message: 'The provider sent nothing within 150 ms (first-byte deadline).',
      },
    ]);
    await server.requests[0]?.closedByClient;
    expect(server.requests).toHaveLength(1);
  });
});

describe('abort', () => {
  it('closes the HTTP request when the signal aborts mid-answer', async () => {
    server.reply({ ...answer, stallAfter: 3 });
    const controller = new AbortController();
    const parts: string[] = [];

    for await (const part of openai().stream(request, { signal: controller.signal })) {
      if (part.type === 'text-delta' && part.delta !== '') {
        parts.push(part.delta);
        controller.abort();
      }
    }

    expect(parts).toEqual(['It']);
    await server.requests[0]?.closedByClient;
  });

  it('sends nothing when the signal has aborted before the call', async () => {
    const controller = new AbortController();
    controller.abort();

    const parts = await collectParts(openai(), request, controller.signal);

    expect(parts).toEqual([]);
    expect(server.requests).toHaveLength(0);
  });

  it('closes the HTTP request when the consumer stops reading', async () => {
    server.reply({ ...answer, stallAfter: 3 });

    for await (const part of openai().stream(request, { signal: new AbortController().signal })) {
      if (part.type === 'text-delta') break;
    }

    await server.requests[0]?.closedByClient;
  });
});

describe('the API key', () => {
  it('appears in no error message, even when the provider echoes it, and the message names the variable', async () => {
    server.reply({
      kind: 'error',
      status: 401,
      body: {
        error: {
          message: `Incorrect API key provided: ${KEY}. You can find your API key at https://platform.openai.com/account/api-keys.`,
          type: 'invalid_request_error',
          param: null,
          code: 'invalid_api_key',
        },
      },
    });

    const parts = await collectParts(openai(), request);

    expect(server.requests[0]?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(parts).toEqual([
      {
        type: 'error',
        code: 'provider_rejected',
        message: 'The provider refused the credentials (HTTP 401); check OPENAI_API_KEY.',
      },
    ]);
  });

  it('is replaced in any other provider message, and never reaches a log line at trace', async () => {
    const echo = {
      kind: 'error',
      status: 503,
      body: { error: { message: `Upstream refused key ${KEY}`, type: 'server_error' } },
    } as const;
    server.reply(echo, echo);
    const { logger, lines } = capturedLogger();

    const parts = await collectParts(openai({ maxRetries: 1, logger }), request);

    expect(parts).toEqual([
      {
        type: 'error',
        code: 'provider_unavailable',
        message: 'The provider failed (HTTP 503): Upstream refused key [redacted]',
      },
    ]);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toContain(KEY);
    expect(JSON.stringify(parts)).not.toContain(KEY);
  });
});
