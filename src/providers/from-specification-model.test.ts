import { describe, expect, it } from 'vitest';
import type { ModelRequest, ModelStreamPart } from '../agent/model.js';
import { ParleyError } from '../errors.js';
import { fromSpecificationModel } from './from-specification-model.js';
import type {
  SpecificationCallOptions,
  SpecificationLanguageModel,
} from './specification-model.js';

const usage = {
  inputTokens: { total: 30, noCache: 10, cacheRead: 20, cacheWrite: 0 },
  outputTokens: { total: 12, text: 4, reasoning: 8 },
};

interface HandBuiltModel extends SpecificationLanguageModel {
  readonly calls: SpecificationCallOptions[];
  /** Whether the consumer cancelled the stream. */
  readonly cancelled: () => boolean;
}

/** A specification model built by hand: it streams `parts` and records each call. */
function handBuilt(version: 'v3' | 'v4', parts: readonly unknown[]): HandBuiltModel {
  const calls: SpecificationCallOptions[] = [];
  let cancelled = false;
  return {
    specificationVersion: version,
    provider: `hand-built.${version}`,
    modelId: `${version}-model`,
    calls,
    cancelled: () => cancelled,
    doStream(options) {
      calls.push(options);
      let next = 0;
      const stream = new ReadableStream<unknown>({
        pull(controller) {
          if (next < parts.length) controller.enqueue(parts[next++]);
          else controller.close();
        },
        cancel() {
          cancelled = true;
        },
      });
      return Promise.resolve({ stream });
    },
  };
}

const request: ModelRequest = {
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Weather in Paris?', userId: 'alice' },
  ],
  tools: [{ name: 'weather', description: 'Weather.', inputSchema: { type: 'object' } }],
};

async function collect(
  model: ReturnType<typeof fromSpecificationModel>,
  signal = new AbortController().signal,
  input: ModelRequest = request,
): Promise<ModelStreamPart[]> {
  const parts: ModelStreamPart[] = [];
  for await (const part of model.stream(input, { signal })) parts.push(part);
  return parts;
}

describe('fromSpecificationModel', () => {
  it('adapts a V4 model: its new parts are ignored and interrupted becomes other with the raw reason', async () => {
    const v4 = handBuilt('v4', [
      { type: 'stream-start', warnings: [] },
      { type: 'response-metadata', id: 'r-1', modelId: 'v4-model-2026', timestamp: new Date(0) },
      { type: 'ping' },
      { type: 'reasoning-start', id: 'r' },
      { type: 'reasoning-delta', id: 'r', delta: 'Paris, so weather.' },
      { type: 'reasoning-file', mediaType: 'image/png', data: { type: 'data', data: 'iVBO' } },
      { type: 'reasoning-end', id: 'r' },
      { type: 'custom', kind: 'acme.note' },
      { type: 'text-start', id: 't' },
      { type: 'text-delta', id: 't', delta: 'Checking.' },
      { type: 'text-end', id: 't', citations: [] },
      {
        type: 'file',
        mediaType: 'image/png',
        data: { type: 'url', url: 'https://example.com/a.png' },
      },
      { type: 'tool-input-start', id: 'c1', toolName: 'weather' },
      { type: 'tool-input-delta', id: 'c1', delta: '{"location":"Paris"}' },
      { type: 'tool-input-end', id: 'c1' },
      { type: 'tool-call', toolCallId: 'c1', toolName: 'weather', input: '{"location":"Paris"}' },
      { type: 'finish', usage, finishReason: { unified: 'interrupted', raw: 'pause_turn' } },
    ]);

    const parts = await collect(fromSpecificationModel(v4));

    expect(parts).toEqual([
      { type: 'response-metadata', responseId: 'r-1', modelId: 'v4-model-2026' },
      { type: 'reasoning-delta', delta: 'Paris, so weather.' },
      { type: 'text-delta', delta: 'Checking.' },
      { type: 'tool-input-start', toolCallId: 'c1', toolName: 'weather' },
      { type: 'tool-input-delta', toolCallId: 'c1', delta: '{"location":"Paris"}' },
      { type: 'tool-input-end', toolCallId: 'c1' },
      { type: 'tool-call', toolCallId: 'c1', toolName: 'weather', input: { location: 'Paris' } },
      {
        type: 'finish',
        finishReason: 'other',
        rawFinishReason: 'pause_turn',
        usage: { inputTokens: 30, outputTokens: 12, cachedInputTokens: 20, reasoningTokens: 8 },
      },
    ]);
  });

  it("sends the prompt, the tools with toolChoice auto, the settings and the caller's abort signal", async () => {
    const v3 = handBuilt('v3', []);
    const controller = new AbortController();

    await collect(
      fromSpecificationModel(v3, { temperature: 0.2, maxOutputTokens: 256 }),
      controller.signal,
    );

    expect(v3.calls).toEqual([
      {
        prompt: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }] },
        ],
        tools: [
          {
            type: 'function',
            name: 'weather',
            description: 'Weather.',
            inputSchema: { type: 'object' },
          },
        ],
        toolChoice: { type: 'auto' },
        temperature: 0.2,
        maxOutputTokens: 256,
        abortSignal: controller.signal,
      },
    ]);
  });

  it('sends neither tools nor toolChoice when the agent has no tools', async () => {
    const v3 = handBuilt('v3', []);

    await collect(fromSpecificationModel(v3), undefined, { ...request, tools: [] });

    expect(v3.calls[0]).not.toHaveProperty('tools');
    expect(v3.calls[0]).not.toHaveProperty('toolChoice');
  });

  it('leaves out the tool calls and results the provider executed itself', async () => {
    const v3 = handBuilt('v3', [
      { type: 'tool-input-start', id: 'w', toolName: 'web_search', providerExecuted: true },
      {
        type: 'tool-call',
        toolCallId: 'w',
        toolName: 'web_search',
        input: '{}',
        providerExecuted: true,
      },
      { type: 'tool-result', toolCallId: 'w', toolName: 'web_search', result: { hits: 3 } },
      { type: 'text-delta', id: 't', delta: 'Found it.' },
    ]);

    expect(await collect(fromSpecificationModel(v3))).toEqual([
      { type: 'text-delta', delta: 'Found it.' },
    ]);
  });

  it('ends at a streamed error with one provider error part, and cancels the rest of the stream', async () => {
    const v3 = handBuilt('v3', [
      { type: 'text-delta', id: 't', delta: 'It is' },
      { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
      { type: 'text-delta', id: 't', delta: ' never read' },
    ]);

    const parts = await collect(fromSpecificationModel(v3));

    expect(parts).toHaveLength(2);
    expect(parts[1]).toEqual({
      type: 'error',
      error: new ParleyError('provider_unavailable', 'The provider failed: Overloaded', {
        details: { retryable: true },
      }),
    });
    expect(v3.cancelled()).toBe(true);
  });

  it('refuses a model of another specification version with a TypeError', () => {
    const v2 = {
      ...handBuilt('v3', []),
      specificationVersion: 'v2',
    } as unknown as SpecificationLanguageModel;
    expect(() => fromSpecificationModel(v2)).toThrow(
      new TypeError(
        'Expected an AI SDK language model of specification "v3" or "v4" with doStream, got specificationVersion "v2".',
      ),
    );
  });
});
