import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ModelMessage, ModelStreamPart, ModelToolCall } from '../src/agent/model.js';
import { CANNED_ANSWERS, FALLBACK_ANSWER } from '../src/agent/offline-knowledge.js';
import { createOfflineModel } from '../src/agent/offline-model.js';
import { createDefaultToolRegistry } from '../src/tools/registry.js';

// The table of what newcomers type (lowercase, typos, no question mark, extra words), each with
// the tool calls the offline model must make and the key part of its answer once the real tools
// have run. Thursday 15 January 2026, 12:00 UTC is "now" for every row.
const NOW = Date.UTC(2026, 0, 15, 12, 0);

const rowSchema = z.object({
  say: z.string(),
  before: z.array(z.partialRecord(z.enum(['user', 'assistant']), z.string())).optional(),
  calls: z.array(z.object({ tool: z.string(), input: z.record(z.string(), z.unknown()) })),
  answer: z.union([z.string(), z.array(z.string())]),
});
const rows = z
  .array(rowSchema)
  .parse(
    JSON.parse(readFileSync(new URL('./fixtures/offline-phrasings.json', import.meta.url), 'utf8')),
  );

const model = createOfflineModel();
const registry = createDefaultToolRegistry();
const signal = new AbortController().signal;

async function step(messages: readonly ModelMessage[]): Promise<ModelStreamPart[]> {
  const parts: ModelStreamPart[] = [];
  for await (const part of model.stream({ messages, tools: registry.describe() }, { signal })) {
    parts.push(part);
  }
  return parts;
}

/** Runs one turn as the agent loop does: model, the real tools, model again. */
async function converse(row: z.infer<typeof rowSchema>) {
  const messages: ModelMessage[] = (row.before ?? []).map((entry) =>
    entry.user === undefined
      ? { role: 'assistant', content: entry.assistant ?? '' }
      : { role: 'user', content: entry.user, userId: 'alice' },
  );
  messages.push({ role: 'user', content: row.say, userId: 'alice' });
  const first = await step(messages);
  const calls = first.flatMap((part): ModelToolCall[] =>
    part.type === 'tool-call'
      ? [{ toolCallId: part.toolCallId, toolName: part.toolName, input: part.input }]
      : [],
  );
  const parts =
    calls.length === 0
      ? first
      : await step([
          ...messages,
          { role: 'assistant', content: '', toolCalls: calls },
          ...(await Promise.all(calls.map((call) => runTool(call)))),
        ]);
  const answer = parts.map((part) => (part.type === 'text-delta' ? part.delta : '')).join('');
  return { calls, answer };
}

async function runTool(call: ModelToolCall): Promise<ModelMessage> {
  const base = { role: 'tool', toolCallId: call.toolCallId, toolName: call.toolName } as const;
  try {
    const output = await registry.execute(call.toolName, call.input, { signal, now: () => NOW });
    return { ...base, output, isError: false };
  } catch (error) {
    const { code, message } = error as { code: string; message: string };
    return { ...base, output: { error: { code, message } }, isError: true };
  }
}

describe('the offline model on everyday phrasings', () => {
  it('has at least 150 phrasings', () => {
    expect(rows.length).toBeGreaterThanOrEqual(150);
  });

  it.each(rows.map((row) => [row.say, row] as const))('answers %j', async (_, row) => {
    const { calls, answer } = await converse(row);
    expect(calls.map((call) => call.toolName)).toEqual(row.calls.map((call) => call.tool));
    for (const [index, expected] of row.calls.entries()) {
      expect(calls[index]?.input).toEqual(expected.input);
    }
    for (const part of typeof row.answer === 'string' ? [row.answer] : row.answer) {
      expect(answer).toContain(part);
    }
  });

  it('covers every tool operation, every topic and the fallback', () => {
    const operations = new Set(
      rows.flatMap((row) =>
        row.calls.map((call) => {
          const operation = call.input['operation'];
          return `${call.tool}.${typeof operation === 'string' ? operation : ''}`;
        }),
      ),
    );
    const expected = [
      ...['add', 'subtract', 'multiply', 'divide', 'power', 'mod', 'sqrt', 'evaluate'].map(
        (operation) => `calculator.${operation}`,
      ),
      ...['now', 'convert', 'format', 'parse', 'add', 'diff'].map(
        (operation) => `datetime.${operation}`,
      ),
      'weather.',
      'search.',
    ];
    expect(expected.filter((operation) => !operations.has(operation))).toEqual([]);
    const answers = rows.flatMap((row) =>
      typeof row.answer === 'string' ? [row.answer] : row.answer,
    );
    const opening = (text: string) => text.slice(0, 30);
    const missing = [...CANNED_ANSWERS.map((canned) => canned.answer), FALLBACK_ANSWER].filter(
      (text) =>
        !answers.some((answer) => text.startsWith(answer) || answer.includes(opening(text))),
    );
    expect(missing).toEqual([]);
    const inputs = rows.flatMap((row) => row.calls.map((call) => call.input));
    expect(inputs.some((input) => 'limit' in input)).toBe(true);
    expect(inputs.some((input) => 'days' in input)).toBe(true);
    expect(rows.some((row) => row.before !== undefined)).toBe(true);
  });
});
