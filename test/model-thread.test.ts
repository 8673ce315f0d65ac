import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ModelMessage, ModelRequest } from '../src/agent/model.js';
import { ParleyError } from '../src/errors.js';
import { createModelFromSpec } from '../src/providers/create-model-from-spec.js';
import { ModelThread } from '../src/providers/model-thread.js';
import { collectParts, textOf, WEATHER_TOOL } from './support/model-parts.js';
import { startProviderServer, type ProviderServer } from './support/provider-server.js';

/*
 * Remote models on a worker thread (PARLEY_MODEL_THREAD=worker): a real worker running the real
 * @ai-sdk provider and fetch, against a local server streaming recorded Chat Completions chunks.
 */

const LOCAL_KEY = 'local-thread-key-5be1f0';
const SPEC = 'openai-compatible:llama3.2:1b';

const question: ModelMessage = { role: 'user', content: 'Weather in Paris?', userId: 'alice' };
const request: ModelRequest = { messages: [question], tools: [WEATHER_TOOL] };

let server: ProviderServer;
let thread: ModelThread;
let warnings: { fields: Record<string, unknown>; message: string | undefined }[];

function environment() {
  return { PARLEY_MODEL_BASE_URL: `${server.origin}/v1`, PARLEY_MODEL_API_KEY: LOCAL_KEY };
}

/** The model on the worker, with `maxRetries` retries and no backoff to wait for. */
function threadedModel(maxRetries = 0) {
  const local = createModelFromSpec(SPEC, environment());
  return thread.model(SPEC, local, { maxRetries });
}

beforeEach(async () => {
  server = await startProviderServer();
  warnings = [];
  thread = new ModelThread(environment(), {
    warn: (fields: Record<string, unknown>, message?: string) => {
      warnings.push({ fields, message });
    },
  });
});
afterEach(async () => {
  await thread.close();
  await server.close();
});

describe('a remote model on the model thread', () => {
  it('streams the same parts as the model on the server thread, and sends the same request', async () => {
    server.reply(
      { kind: 'stream', api: 'chat-completions', chunks: 'local-tool-call-name-later' },
      { kind: 'stream', api: 'chat-completions', chunks: 'local-tool-call-name-later' },
    );

    const inWorker = await collectParts(threadedModel(), request);
    const here = await collectParts(createModelFromSpec(SPEC, environment()), request);

    expect(inWorker).toEqual(here);
    expect(inWorker.filter((part) => part.type === 'tool-call')).toEqual([
      {
        type: 'tool-call',
        toolCallId: 'call_namelater',
        toolName: 'weather',
        input: { location: 'Paris' },
      },
    ]);
    const [fromWorker, fromHere] = server.requests;
    expect(fromWorker?.body).toEqual(fromHere?.body);
    expect(fromWorker?.headers.authorization).toBe(`Bearer ${LOCAL_KEY}`);
    expect(thread.activeStreams).toBe(0);
  });

  it('keeps the model name and contract version of the model it stands for', () => {
    const model = threadedModel();
    const local = createModelFromSpec(SPEC, environment());
    expect([model.specificationVersion, model.provider, model.modelId]).toEqual([
      local.specificationVersion,
      local.provider,
      local.modelId,
    ]);
  });

  it('closes the provider connection when the turn aborts mid-answer', async () => {
    server.reply({
      kind: 'stream',
      api: 'chat-completions',
      chunks: 'local-weather-answer',
      stallAfter: 2,
    });
    const controller = new AbortController();
    const parts: string[] = [];

    for await (const part of threadedModel().stream(request, { signal: controller.signal })) {
      parts.push(part.type);
      if (part.type === 'text-delta') controller.abort();
    }

    await server.requests[0]?.closedByClient;
    expect(parts).toContain('text-delta');
    expect(thread.activeStreams).toBe(0);
  });

  it('closes the provider connection when the reader stops early', async () => {
    server.reply({
      kind: 'stream',
      api: 'chat-completions',
      chunks: 'local-weather-answer',
      stallAfter: 2,
    });

    for await (const part of threadedModel().stream(request, {
      signal: new AbortController().signal,
    })) {
      if (part.type === 'text-delta') break;
    }

    await server.requests[0]?.closedByClient;
    expect(thread.activeStreams).toBe(0);
  });

  it('retries a 429 in the worker, tells the caller and the logger, and never shows the key', async () => {
    server.reply(
      {
        kind: 'error',
        status: 429,
        headers: { 'retry-after-ms': '1' },
        body: { error: { message: 'Slow down' } },
      },
      { kind: 'stream', api: 'chat-completions', chunks: 'local-weather-answer' },
    );
    const retries: string[] = [];

    const parts = await collectParts(
      {
        ...threadedModel(1),
        stream: (req, options) =>
          threadedModel(1).stream(req, {
            ...options,
            onRetry: (code) => {
              retries.push(code);
            },
          }),
      },
      request,
    );

    expect(retries).toEqual(['provider_rate_limited']);
    expect(textOf(parts)).toBe('It is sunny in Paris.');
    expect(warnings).toEqual([
      expect.objectContaining({
        message: 'model call failed before its answer began; retrying',
        fields: expect.objectContaining({ code: 'provider_rate_limited', status: 429 }) as unknown,
      }),
    ]);
    expect(JSON.stringify(warnings)).not.toContain(LOCAL_KEY);
  });

  it('ends a failed call with the provider error as a ParleyError, its code and details kept', async () => {
    server.reply({
      kind: 'error',
      status: 503,
      body: { error: { message: `overloaded (key ${LOCAL_KEY})` } },
    });
    const errors: unknown[] = [];

    for await (const part of threadedModel().stream(request, {
      signal: new AbortController().signal,
    })) {
      if (part.type === 'error') errors.push(part.error);
    }

    expect(errors).toHaveLength(1);
    const [error] = errors;
    expect(error).toBeInstanceOf(ParleyError);
    expect(error).toMatchObject({ code: 'provider_unavailable', details: { status: 503 } });
    expect((error as Error).message).not.toContain(LOCAL_KEY);
  });

  it('ends the streams still running with provider_unavailable when the thread closes', async () => {
    server.reply({
      kind: 'stream',
      api: 'chat-completions',
      chunks: 'local-weather-answer',
      stallAfter: 1,
    });
    const stream = threadedModel().stream(request, { signal: new AbortController().signal });
    const reading = (async () => {
      const parts = [];
      for await (const part of stream) parts.push(part);
      return parts;
    })();
    await server.received(1);
    const outcome = expect(reading).rejects.toMatchObject({
      code: 'provider_unavailable',
      message: 'The model thread was closed.',
    });

    await thread.close();

    await outcome;
  });
});
