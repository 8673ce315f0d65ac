import { describe, expect, it } from 'vitest';
import type { ModelMessage } from '../agent/model.js';
import { toSpecificationPrompt, toSpecificationTools } from './to-specification-prompt.js';

describe('toSpecificationPrompt', () => {
  it('maps system, user, assistant text with tool calls, and tool results', () => {
    const messages: ModelMessage[] = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Weather in Paris and Oslo?', userId: 'alice' },
      {
        role: 'assistant',
        content: 'Checking both.',
        toolCalls: [
          { toolCallId: 'c1', toolName: 'weather', input: { location: 'Paris' } },
          { toolCallId: 'c2', toolName: 'weather', input: { location: 'Oslo' } },
        ],
      },
      {
        role: 'tool',
        toolCallId: 'c1',
        toolName: 'weather',
        output: { celsius: 21 },
        isError: false,
      },
      {
        role: 'tool',
        toolCallId: 'c2',
        toolName: 'weather',
        output: { error: { code: 'tool_timeout', message: 'late' } },
        isError: true,
      },
    ];

    expect(toSpecificationPrompt(messages)).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Oslo?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Checking both.' },
          {
            type: 'tool-call',
            toolCallId: 'c1',
            toolName: 'weather',
            input: { location: 'Paris' },
          },
          { type: 'tool-call', toolCallId: 'c2', toolName: 'weather', input: { location: 'Oslo' } },
        ],
      },
      {
        role: 'tool',
        content: [
          {
            type: 'tool-result',
            toolCallId: 'c1',
            toolName: 'weather',
            output: { type: 'json', value: { celsius: 21 } },
          },
          {
            type: 'tool-result',
            toolCallId: 'c2',
            toolName: 'weather',
            output: {
              type: 'error-json',
              value: { error: { code: 'tool_timeout', message: 'late' } },
            },
          },
        ],
      },
    ]);
  });

  it('sends a string result as text and a value JSON cannot carry as its JSON form', () => {
    const prompt = toSpecificationPrompt([
      {
        role: 'tool',
        toolCallId: 'a',
        toolName: 'search',
        output: 'Paris is in France.',
        isError: false,
      },
      { role: 'tool', toolCallId: 'b', toolName: 'datetime', output: new Date(0), isError: false },
      { role: 'tool', toolCallId: 'c', toolName: 'noop', output: undefined, isError: false },
    ]);
    expect(prompt[0]?.content).toEqual([
      {
        type: 'tool-result',
        toolCallId: 'a',
        toolName: 'search',
        output: { type: 'text', value: 'Paris is in France.' },
      },
      {
        type: 'tool-result',
        toolCallId: 'b',
        toolName: 'datetime',
        output: { type: 'json', value: '1970-01-01T00:00:00.000Z' },
      },
      {
        type: 'tool-result',
        toolCallId: 'c',
        toolName: 'noop',
        output: { type: 'json', value: null },
      },
    ]);
  });

  it('leaves out an assistant message with neither text nor tool calls (a turn cancelled before its first token)', () => {
    expect(
      toSpecificationPrompt([
        { role: 'user', content: 'Hi', userId: 'a' },
        { role: 'assistant', content: '' },
        { role: 'user', content: 'Hello?', userId: 'a' },
      ]),
    ).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Hi' }] },
      { role: 'user', content: [{ type: 'text', text: 'Hello?' }] },
    ]);
  });
});

describe('toSpecificationTools', () => {
  it('passes each tool as a function tool with its JSON Schema unchanged', () => {
    const inputSchema = {
      type: 'object',
      properties: { expression: { type: 'string', maxLength: 200 } },
      required: ['expression'],
      additionalProperties: false,
    };
    const [tool] = toSpecificationTools([
      { name: 'calculator', description: 'Maths.', inputSchema },
    ]);
    expect(tool).toEqual({
      type: 'function',
      name: 'calculator',
      description: 'Maths.',
      inputSchema,
    });
    expect(tool?.inputSchema).toBe(inputSchema);
  });
});
