import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ModelMessage, ModelRequest } from '../src/agent/model.js';
import { createModelFromSpec } from '../src/providers/create-model-from-spec.js';
import { collectParts, textOf, WEATHER_TOOL } from './support/model-parts.js';
import { startProviderServer, type ProviderServer } from './support/provider-server.js';

/*
 * Each API through its real @ai-sdk package and the real fetch, against a local server that
 * streams recorded responses byte for byte in that API's wire format.
 */

const OPENAI_KEY = 'sk-test-openai-4f1c9e';
const ANTHROPIC_KEY = 'sk-ant-test-7d2b0a';
const LOCAL_KEY = 'local-test-key-93ab';

const system: ModelMessage = { role: 'system', content: 'You are Parley, a weather assistant.' };
const question: ModelMessage = { role: 'user', content: 'Weather in Paris?', userId: 'alice' };

function afterTool(toolCallId: string): ModelMessage[] {
  return [
    system,
    question,
    {
      role: 'assistant',
      content: 'Let me check.',
      toolCalls: [{ toolCallId, toolName: 'weather', input: { location: 'Paris' } }],
    },
    {
      role: 'tool',
      toolCallId,
      toolName: 'weather',
      output: { forecast: 'sunny', celsius: 21 },
      isError: false,
    },
  ];
}

const firstStep: ModelRequest = { messages: [system, question], tools: [WEATHER_TOOL] };

let server: ProviderServer;
beforeEach(async () => {
  server = await startProviderServer();
});
afterEach(async () => {
  await server.close();
});

describe('openai: with Chat Completions', () => {
  const model = () =>
    createModelFromSpec('openai:gpt-4o-mini', {
      OPENAI_API_KEY: OPENAI_KEY,
      OPENAI_BASE_URL: `${server.origin}/v1`,
    });

  it('streams a tool call as its arguments are written, then finishes with usage and cached tokens', async () => {
    server.reply({
      kind: 'stream',
      api: 'chat-completions',
      chunks: 'openai-chat-weather-tool-call',
    });

    const parts = await collectParts(model(), firstStep);

    const id = 'call_Wz3kP0weather';
    expect(parts).toEqual([
      {
        type: 'response-metadata',
        responseId: 'chatcmpl-BpWeather0001',
        modelId: 'gpt-4o-mini-2024-07-18',
      },
      { type: 'tool-input-start', toolCallId: id, toolName: 'weather' },
      ...['{"', 'location', '":"', 'Paris', '"}'].map((delta) => ({
        type: 'tool-input-delta',
        toolCallId: id,
        delta,
      })),
      { type: 'tool-input-end', toolCallId: id },
      { type: 'tool-call', toolCallId: id, toolName: 'weather', input: { location: 'Paris' } },
      {
        type: 'finish',
        finishReason: 'tool-calls',
        rawFinishReason: 'tool_calls',
        usage: { inputTokens: 92, outputTokens: 16, cachedInputTokens: 64, reasoningTokens: 0 },
      },
    ]);
  });

  it('sends the model, stream: true with include_usage, the system prompt, the tool schema unchanged and the key', async () => {
    server.reply({
      kind: 'stream',
      api: 'chat-completions',
      chunks: 'openai-chat-weather-tool-call',
    });

    await collectParts(model(), firstStep);

    const [request] = server.requests;
    expect(request?.path).toBe('/v1/chat/completions');
    expect(request?.headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);
    expect(request?.body).toMatchObject({
      model: 'gpt-4o-mini',
      stream: true,
      stream_options: { include_usage: true },
      messages: [
        { role: 'system', content: 'You are Parley, a weather assistant.' },
        { role: 'user', content: 'Weather in Paris?' },
      ],
      tools: [
        {
          type: 'function',
          function: {
            name: 'weather',
            description: 'Current weather for a city.',
            parameters: WEATHER_TOOL.inputSchema,
          },
        },
      ],
      tool_choice: 'auto',
    });
  });

  it('sends the assistant tool call and its result back, and streams the answer', async () => {
    server.reply({ kind: 'stream', api: 'chat-completions', chunks: 'openai-chat-weather-answer' });

    const parts = await collectParts(model(), {
      messages: afterTool('call_Wz3kP0weather'),
      tools: [WEATHER_TOOL],
    });

    expect(server.requests[0]?.body.messages).toEqual([
      { role: 'system', content: 'You are Parley, a weather assistant.' },
      { role: 'user', content: 'Weather in Paris?' },
      {
        role: 'assistant',
        content: 'Let me check.',
        tool_calls: [
          {
            id: 'call_Wz3kP0weather',
            type: 'function',
            function: { name: 'weather', arguments: '{"location":"Paris"}' },
          },
        ],
      },
      {
        role: 'tool',
        tool_call_id: 'call_Wz3kP0weather',
        content: '{"forecast":"sunny","celsius":21}',
      },
    ]);
    expect(textOf(parts)).toBe('It is sunny in Paris and 21 °C.');
    expect(parts.at(-1)).toEqual({
      type: 'finish',
      finishReason: 'stop',
      rawFinishReason: 'stop',
      usage: { inputTokens: 131, outputTokens: 9, cachedInputTokens: 0, reasoningTokens: 0 },
    });
  });

  it('reports an answer cut at the output limit as length, with the raw reason', async () => {
    server.reply({ kind: 'stream', api: 'chat-completions', chunks: 'openai-chat-length' });

    const parts = await collectParts(model(), firstStep);

    expect(parts.at(-1)).toMatchObject({ finishReason: 'length', rawFinishReason: 'length' });
  });
});

describe('openai: with the Responses API (PARLEY_OPENAI_API=responses)', () => {
  const model = () =>
    createModelFromSpec('openai:gpt-4o-mini', {
      OPENAI_API_KEY: OPENAI_KEY,
      OPENAI_BASE_URL: `${server.origin}/v1`,
      PARLEY_OPENAI_API: 'responses',
    });

  it('streams a function call from Responses API events', async () => {
    server.reply({
      kind: 'stream',
      api: 'responses',
      chunks: 'openai-responses-weather-tool-call',
    });

    const parts = await collectParts(model(), firstStep);

    expect(server.requests[0]?.path).toBe('/v1/responses');
    expect(server.requests[0]?.body).toMatchObject({
      model: 'gpt-4o-mini',
      stream: true,
      tools: [{ type: 'function', name: 'weather', parameters: WEATHER_TOOL.inputSchema }],
    });
    expect(parts.filter((part) => part.type === 'tool-input-delta')).toHaveLength(5);
    expect(parts.find((part) => part.type === 'tool-call')).toEqual({
      type: 'tool-call',
      toolCallId: 'call_Rsp9weather',
      toolName: 'weather',
      input: { location: 'Paris' },
    });
    expect(parts.at(-1)).toMatchObject({
      type: 'finish',
      finishReason: 'tool-calls',
      usage: { inputTokens: 88, outputTokens: 17 },
    });
  });

  it('sends the function call and its output back as input items, and streams the answer', async () => {
    server.reply({ kind: 'stream', api: 'responses', chunks: 'openai-responses-weather-answer' });

    const parts = await collectParts(model(), {
      messages: afterTool('call_Rsp9weather'),
      tools: [WEATHER_TOOL],
    });

    expect(server.requests[0]?.body.input).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          type: 'function_call',
          call_id: 'call_Rsp9weather',
          name: 'weather',
          arguments: '{"location":"Paris"}',
        }),
        expect.objectContaining({
          type: 'function_call_output',
          call_id: 'call_Rsp9weather',
          output: '{"forecast":"sunny","celsius":21}',
        }),
      ]),
    );
    expect(textOf(parts)).toBe('It is sunny in Paris and 21 °C.');
    expect(parts.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop' });
  });
});

describe('anthropic:', () => {
  const model = () =>
    createModelFromSpec('anthropic:claude-sonnet-4-5', {
      ANTHROPIC_API_KEY: ANTHROPIC_KEY,
      ANTHROPIC_BASE_URL: `${server.origin}/v1`,
    });

  it('streams text, then a tool_use block as input_json_delta arguments, and cache reads in usage', async () => {
    server.reply({
      kind: 'stream',
      api: 'anthropic-messages',
      chunks: 'anthropic-weather-tool-call',
    });

    const parts = await collectParts(model(), firstStep);

    const id = 'toolu_01WeatherParis9k';
    expect(parts).toEqual([
      {
        type: 'response-metadata',
        responseId: 'msg_01WeatherToolCall7xYz',
        modelId: 'claude-sonnet-4-5-20250929',
      },
      { type: 'text-delta', delta: 'Let me check' },
      { type: 'text-delta', delta: ' the weather.' },
      { type: 'tool-input-start', toolCallId: id, toolName: 'weather' },
      { type: 'tool-input-delta', toolCallId: id, delta: '{"location": ' },
      { type: 'tool-input-delta', toolCallId: id, delta: '"Paris"}' },
      { type: 'tool-input-end', toolCallId: id },
      { type: 'tool-call', toolCallId: id, toolName: 'weather', input: { location: 'Paris' } },
      {
        type: 'finish',
        finishReason: 'tool-calls',
        rawFinishReason: 'tool_use',
        // The package counts cache reads into the input total (412 new + 384 read).
        usage: { inputTokens: 796, outputTokens: 58, cachedInputTokens: 384 },
      },
    ]);
  });

  it('sends the system prompt, the tool schema as input_schema, stream: true and the key as x-api-key', async () => {
    server.reply({
      kind: 'stream',
      api: 'anthropic-messages',
      chunks: 'anthropic-weather-tool-call',
    });

    await collectParts(model(), firstStep);

    const [request] = server.requests;
    expect(request?.path).toBe('/v1/messages');
    expect(request?.headers['x-api-key']).toBe(ANTHROPIC_KEY);
    expect(request?.headers['anthropic-version']).toBe('2023-06-01');
    expect(request?.body).toMatchObject({
      model: 'claude-sonnet-4-5',
      stream: true,
      system: [{ type: 'text', text: 'You are Parley, a weather assistant.' }],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }] }],
      tools: [
        {
          name: 'weather',
          description: 'Current weather for a city.',
          input_schema: WEATHER_TOOL.inputSchema,
        },
      ],
    });
  });

  it('sends the tool_use and its tool_result back, and streams the answer', async () => {
    server.reply({ kind: 'stream', api: 'anthropic-messages', chunks: 'anthropic-weather-answer' });

    const parts = await collectParts(model(), {
      messages: afterTool('toolu_01WeatherParis9k'),
      tools: [WEATHER_TOOL],
    });

    expect(server.requests[0]?.body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Let me check.' },
          {
            type: 'tool_use',
            id: 'toolu_01WeatherParis9k',
            name: 'weather',
            input: { location: 'Paris' },
          },
        ],
      },
      {
        role: 'user',
        content: [
          {
            type: 'tool_result',
            tool_use_id: 'toolu_01WeatherParis9k',
            content: '{"forecast":"sunny","celsius":21}',
          },
        ],
      },
    ]);
    expect(textOf(parts)).toBe('It is sunny in Paris and 21 °C.');
    expect(parts.at(-1)).toMatchObject({ finishReason: 'stop', rawFinishReason: 'end_turn' });
  });
});

describe('openai-compatible: (Ollama, vLLM, llama.cpp, LM Studio)', () => {
  const model = (environment: Record<string, string> = {}) =>
    createModelFromSpec('openai-compatible:llama3.2:1b', {
      PARLEY_MODEL_BASE_URL: `${server.origin}/v1`,
      ...environment,
    });

  it('asks for usage, sends the whole model id after the first colon, and no key unless one is set', async () => {
    server.reply({ kind: 'stream', api: 'chat-completions', chunks: 'local-weather-answer' });

    const parts = await collectParts(model(), firstStep);

    const [request] = server.requests;
    expect(request?.path).toBe('/v1/chat/completions');
    expect(request?.headers.authorization).toBeUndefined();
    expect(request?.body).toMatchObject({
      model: 'llama3.2:1b',
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(textOf(parts)).toBe('It is sunny in Paris.');
    expect(parts.at(-1)).toMatchObject({ usage: { inputTokens: 190, outputTokens: 6 } });
  });

  it('sends PARLEY_MODEL_API_KEY as a bearer token when it is set', async () => {
    server.reply({ kind: 'stream', api: 'chat-completions', chunks: 'local-weather-answer' });

    await collectParts(model({ PARLEY_MODEL_API_KEY: LOCAL_KEY }), firstStep);

    expect(server.requests[0]?.headers.authorization).toBe(`Bearer ${LOCAL_KEY}`);
  });

  it.each([
    ['the whole tool call in one chunk (Ollama)', 'local-tool-call-in-one-chunk', 'call_ol41abcd'],
    ['tool-call deltas without an index', 'local-tool-call-without-index', 'call_noindex1'],
    ['a first delta without the function name', 'local-tool-call-name-later', 'call_namelater'],
  ])('reads %s as one complete tool call', async (_quirk, fixture, toolCallId) => {
    server.reply({ kind: 'stream', api: 'chat-completions', chunks: fixture });

    const parts = await collectParts(model(), firstStep);

    expect(parts.filter((part) => part.type === 'tool-call')).toEqual([
      { type: 'tool-call', toolCallId, toolName: 'weather', input: { location: 'Paris' } },
    ]);
    expect(parts.at(-1)).toMatchObject({ type: 'finish', finishReason: 'tool-calls' });
  });

  it('ends a stream that stops without a finish reason with provider_protocol_error, after its text', async () => {
    server.reply({
      kind: 'stream',
      api: 'chat-completions',
      chunks: 'local-answer-without-finish-reason',
    });

    const parts = await collectParts(model(), firstStep);

    expect(textOf(parts)).toBe('It is sunny.');
    expect(parts.at(-1)).toEqual({
      type: 'error',
      code: 'provider_protocol_error',
      message:
        "The provider's stream broke its format: Response stream ended without a finish reason.",
    });
  });
});
