import { describe, expect, it } from 'vitest';
import type { LanguageModel, ModelMessage, ModelStreamPart } from './model.js';
import { createOfflineModel } from './offline-model.js';
import { splitIntoDeltas } from './split-into-deltas.js';

async function collect(
  messages: readonly ModelMessage[],
  signal: AbortSignal = new AbortController().signal,
  model: LanguageModel = createOfflineModel(),
): Promise<ModelStreamPart[]> {
  const parts: ModelStreamPart[] = [];
  for await (const part of model.stream({ messages, tools: [] }, { signal })) parts.push(part);
  return parts;
}

function user(content: string): ModelMessage {
  return { role: 'user', content, userId: 'alice' };
}

function textOf(parts: readonly ModelStreamPart[]): string {
  return parts.map((part) => (part.type === 'text-delta' ? part.delta : '')).join('');
}

/** A conversation where the model asked for `calls` and each tool answered with the given output. */
function afterTools(
  question: string,
  results: readonly { toolName: string; output: unknown; isError?: boolean }[],
): ModelMessage[] {
  const toolCalls = results.map((result, index) => ({
    toolCallId: `call_1_${index}`,
    toolName: result.toolName,
    input: {},
  }));
  return [
    user(question),
    { role: 'assistant', content: '', toolCalls },
    ...results.map((result, index): ModelMessage => ({
      role: 'tool',
      toolCallId: `call_1_${index}`,
      toolName: result.toolName,
      output: result.output,
      isError: result.isError ?? false,
    })),
  ];
}

describe('createOfflineModel', () => {
  it('implements parley.model.v1 as provider offline with the default model id', () => {
    const model = createOfflineModel();
    expect(model.specificationVersion).toBe('parley.model.v1');
    expect(model.provider).toBe('offline');
    expect(model.modelId).toBe('parley-offline-1');
    expect(createOfflineModel({ modelId: 'custom' }).modelId).toBe('custom');
  });

  it('calls the calculator for "What is 5 + 3?" and finishes with tool-calls', async () => {
    expect(await collect([user('What is 5 + 3?')])).toEqual([
      {
        type: 'tool-call',
        toolCallId: 'call_1_0',
        toolName: 'calculator',
        input: { operation: 'evaluate', expression: '5 + 3' },
      },
      { type: 'finish', finishReason: 'tool-calls', usage: { inputTokens: 4, outputTokens: 1 } },
    ]);
  });

  it('answers a calculator result in word deltas that join to the full answer', async () => {
    const parts = await collect(
      afterTools('What is 5 + 3?', [
        { toolName: 'calculator', output: { expression: '5 + 3', result: 8 } },
      ]),
    );
    expect(parts).toEqual([
      { type: 'text-delta', delta: '5' },
      { type: 'text-delta', delta: ' +' },
      { type: 'text-delta', delta: ' 3' },
      { type: 'text-delta', delta: ' =' },
      { type: 'text-delta', delta: ' 8.' },
      { type: 'finish', finishReason: 'stop', usage: { inputTokens: 9, outputTokens: 5 } },
    ]);
    expect(textOf(parts)).toBe('5 + 3 = 8.');
  });

  it('emits one tool call per request when a message asks for two things', async () => {
    const parts = await collect([user("what is 5 + 3 and what's the weather in Paris?")]);
    expect(parts).toEqual([
      {
        type: 'tool-call',
        toolCallId: 'call_1_0',
        toolName: 'calculator',
        input: { operation: 'evaluate', expression: '5 + 3' },
      },
      {
        type: 'tool-call',
        toolCallId: 'call_1_1',
        toolName: 'weather',
        input: { location: 'Paris' },
      },
      { type: 'finish', finishReason: 'tool-calls', usage: { inputTokens: 10, outputTokens: 2 } },
    ]);
  });

  it('numbers tool call ids by the length of the conversation', async () => {
    const messages: ModelMessage[] = [
      { role: 'system', content: 'You are helpful.' },
      user('hi'),
      { role: 'assistant', content: 'Hello!' },
      user('current time in Tokyo'),
    ];
    expect((await collect(messages))[0]).toEqual({
      type: 'tool-call',
      toolCallId: 'call_4_0',
      toolName: 'datetime',
      input: { operation: 'now', timezone: 'Asia/Tokyo' },
    });
  });

  it('summarises every tool result of a step in order and calls no tool again', async () => {
    const parts = await collect(
      afterTools("what is 5 + 3 and what's the weather in Paris?", [
        { toolName: 'calculator', output: { expression: '5 + 3', result: 8 } },
        {
          toolName: 'weather',
          output: {
            location: 'Paris',
            temperature: 18,
            units: 'metric',
            condition: 'Partly cloudy',
            humidity: 60,
            wind_kph: 12,
            source: 'offline',
          },
        },
      ]),
    );
    expect(parts.some((part) => part.type === 'tool-call')).toBe(false);
    expect(textOf(parts)).toBe(
      '5 + 3 = 8. In Paris it is 18°C and partly cloudy, with 60% humidity and wind at 12 km/h.',
    );
    expect(parts.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop' });
  });

  it('answers honestly when a tool reports an error', async () => {
    const parts = await collect(
      afterTools('what is 1 / 0', [
        {
          toolName: 'calculator',
          output: { error: { code: 'tool_failed', message: 'Division by zero' } },
          isError: true,
        },
      ]),
    );
    expect(textOf(parts)).toBe("I couldn't finish the calculation: Division by zero.");
  });

  it('says a tool did not answer in time when it timed out', async () => {
    const parts = await collect(
      afterTools('weather in Paris', [
        {
          toolName: 'weather',
          output: {
            error: { code: 'tool_timeout', message: 'Tool weather timed out after 5000 ms' },
          },
          isError: true,
        },
      ]),
    );
    expect(textOf(parts)).toBe(
      "The weather tool did not answer in time, so I can't tell you that right now.",
    );
  });

  it('answers a greeting in text and finishes with stop', async () => {
    const parts = await collect([user('Hello there')]);
    expect(textOf(parts)).toMatch(/^Hello! .*calculations.*weather/);
    expect(parts.filter((part) => part.type === 'finish')).toEqual([
      {
        type: 'finish',
        finishReason: 'stop',
        usage: { inputTokens: 2, outputTokens: parts.length - 1 },
      },
    ]);
  });

  it('decides on the most recent user message only', async () => {
    const parts = await collect([
      user('What is 5 + 3?'),
      { role: 'assistant', content: '5 + 3 = 8.' },
      user('thanks!'),
    ]);
    expect(parts.some((part) => part.type === 'tool-call')).toBe(false);
    expect(textOf(parts)).toMatch(/^You're welcome!/);
  });

  it('reads the whole conversation: "multiply that by 2" works on the previous result', async () => {
    const parts = await collect([
      user('What is 5 + 3?'),
      { role: 'assistant', content: '5 + 3 = 8.' },
      user('multiply that by 2'),
    ]);
    expect(parts[0]).toEqual({
      type: 'tool-call',
      toolCallId: 'call_3_0',
      toolName: 'calculator',
      input: { operation: 'multiply', a: 8, b: 2 },
    });
  });

  it('remembers the name the user gave earlier in the conversation', async () => {
    const parts = await collect([
      user('my name is Alice'),
      { role: 'assistant', content: 'Nice to meet you, Alice!' },
      user("what's my name?"),
    ]);
    expect(textOf(parts)).toBe('Your name is Alice.');
  });

  it('yields the same parts for the same messages', async () => {
    const messages = [user("what's the weather like in new york tomorrow and tell me about go")];
    const first = await collect(messages);
    const second = await collect(messages, undefined, createOfflineModel());
    expect(second).toEqual(first);
    const text = [user('tell me about websockets')];
    expect(await collect(text)).toEqual(await collect(text));
  });

  it('stops yielding as soon as the signal aborts mid-stream', async () => {
    const controller = new AbortController();
    const parts: ModelStreamPart[] = [];
    const request = { messages: [user('what is an AI agent?')], tools: [] };
    for await (const part of createOfflineModel().stream(request, { signal: controller.signal })) {
      parts.push(part);
      if (parts.length === 3) controller.abort();
    }
    expect(parts).toHaveLength(3);
    expect(parts.every((part) => part.type === 'text-delta')).toBe(true);
  });

  it('yields nothing when the signal is already aborted', async () => {
    expect(await collect([user('What is 5 + 3?')], AbortSignal.abort())).toEqual([]);
    expect(await collect([user('hi')], AbortSignal.abort())).toEqual([]);
  });

  it('stops between tool calls when the signal aborts', async () => {
    const controller = new AbortController();
    const parts: ModelStreamPart[] = [];
    const request = { messages: [user('what is 5 + 3 and what is 7 * 6?')], tools: [] };
    for await (const part of createOfflineModel().stream(request, { signal: controller.signal })) {
      parts.push(part);
      controller.abort();
    }
    expect(parts).toEqual([
      {
        type: 'tool-call',
        toolCallId: 'call_1_0',
        toolName: 'calculator',
        input: { operation: 'evaluate', expression: '5 + 3' },
      },
    ]);
  });
});

describe('splitIntoDeltas', () => {
  it('splits an answer into words that carry their leading whitespace', () => {
    expect(splitIntoDeltas('5 + 3 = 8.')).toEqual(['5', ' +', ' 3', ' =', ' 8.']);
  });

  it.each([
    'Here is what I found for "x":\n1. Title — snippet (https://example.com)',
    '  leading and trailing spaces  ',
    'one',
    'tabs\tand\n\nblank lines\n',
    '',
  ])('joins back to exactly %j', (text) => {
    expect(splitIntoDeltas(text).join('')).toBe(text);
  });

  it('gives no deltas for an empty text and never an empty delta', () => {
    expect(splitIntoDeltas('')).toEqual([]);
    expect(splitIntoDeltas(' a  b ').every((delta) => delta !== '')).toBe(true);
  });
});
