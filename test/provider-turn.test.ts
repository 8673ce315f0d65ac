import { lastValueFrom, toArray } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ModelMessage } from '../src/agent/model.js';
import {
  runTurn,
  runTurnWithProgress,
  type ToolExecutor,
  type TurnDependencies,
} from '../src/agent/run-turn.js';
import type { TurnEventWithProgress } from '../src/agent/turn-event.js';
import { createModelFromSpec } from '../src/providers/create-model-from-spec.js';
import { WEATHER_TOOL } from './support/model-parts.js';
import { startProviderServer, type ProviderServer } from './support/provider-server.js';

/*
 * A whole agent turn over a real provider package and a local provider server: the model asks
 * for the weather, the tool's result goes back, the answer streams, usage is counted.
 */

const messages: ModelMessage[] = [
  { role: 'system', content: 'You are Parley, a weather assistant.' },
  { role: 'user', content: 'Weather in Paris?', userId: 'alice' },
];
const executeTool: ToolExecutor = (_name, input) =>
  Promise.resolve({
    location: (input as { location: string }).location,
    forecast: 'sunny',
    celsius: 21,
  });

let server: ProviderServer;
beforeEach(async () => {
  server = await startProviderServer();
});
afterEach(async () => {
  await server.close();
});

function dependencies(spec: string, environment: Record<string, string>): TurnDependencies {
  return {
    model: createModelFromSpec(spec, environment, { resilience: { random: () => 0 } }),
    tools: [WEATHER_TOOL],
    executeTool,
    maxSteps: 4,
    toolTimeoutMs: 1_000,
    turnTimeoutMs: 10_000,
    tokenPacingMs: 0,
  };
}

const openai = () =>
  dependencies('openai:gpt-4o-mini', {
    OPENAI_API_KEY: 'sk-test-turn',
    OPENAI_BASE_URL: `${server.origin}/v1`,
  });

describe('a turn over a real provider', () => {
  it('calls the weather tool, feeds its result back, streams the answer and counts usage', async () => {
    server.reply(
      { kind: 'stream', api: 'chat-completions', chunks: 'openai-chat-weather-tool-call' },
      { kind: 'stream', api: 'chat-completions', chunks: 'openai-chat-weather-answer' },
    );

    const events = await lastValueFrom(runTurnWithProgress(messages, openai()).pipe(toArray()));

    const types = events.map((event) => event.type);
    expect(types.slice(0, 4)).toEqual([
      'model-response',
      'tool-input-start',
      'tool-input-delta',
      'tool-input-delta',
    ]);
    expect(events.filter((event) => event.type === 'usage')).toEqual([
      {
        type: 'usage',
        usage: { inputTokens: 92, outputTokens: 16, cachedInputTokens: 64, reasoningTokens: 0 },
      },
      {
        type: 'usage',
        usage: { inputTokens: 131, outputTokens: 9, cachedInputTokens: 0, reasoningTokens: 0 },
      },
    ]);
    expect(events.find((event) => event.type === 'tool-result')).toMatchObject({
      toolCallId: 'call_Wz3kP0weather',
      outcome: { ok: true, output: { location: 'Paris', forecast: 'sunny', celsius: 21 } },
    });
    expect(textOf(events)).toBe('It is sunny in Paris and 21 °C.');
    expect(events.at(-1)).toEqual({
      type: 'finish',
      status: 'completed',
      steps: 2,
      finishReason: 'stop',
      rawFinishReason: 'stop',
    });
    expect(server.requests[1]?.body.messages).toContainEqual({
      role: 'tool',
      tool_call_id: 'call_Wz3kP0weather',
      content: '{"location":"Paris","forecast":"sunny","celsius":21}',
    });
  });

  it('closes the provider connection when the turn is cancelled mid-stream', async () => {
    server.reply({
      kind: 'stream',
      api: 'anthropic-messages',
      chunks: 'anthropic-weather-answer',
      stallAfter: 5,
    });
    const turn = dependencies('anthropic:claude-sonnet-4-5', {
      ANTHROPIC_API_KEY: 'sk-ant-test-turn',
      ANTHROPIC_BASE_URL: `${server.origin}/v1`,
    });
    const seen: string[] = [];
    let subscription: { unsubscribe(): void } | undefined;
    const firstText = new Promise<void>((resolve) => {
      subscription = runTurn(messages, turn).subscribe((event) => {
        if (event.type === 'text-delta') {
          seen.push(event.delta);
          resolve();
        }
      });
    });
    await firstText;

    subscription?.unsubscribe();

    await server.requests[0]?.closedByClient;
    expect(seen[0]).toBe('It');
  });

  it('fails with the provider error and keeps the partial text when the connection breaks mid-answer', async () => {
    server.reply({
      kind: 'stream',
      api: 'chat-completions',
      chunks: 'openai-chat-weather-answer',
      stallAfter: 4,
    });
    const events: TurnEventWithProgress[] = [];

    await new Promise<void>((resolve) => {
      runTurn(messages, openai()).subscribe({
        next: (event) => {
          events.push(event);
          if (textOf(events) === 'It is sunny') server.requests[0]?.resetConnection();
        },
        complete: resolve,
      });
    });

    expect(textOf(events)).toBe('It is sunny');
    expect(events.at(-1)).toEqual({
      type: 'finish',
      status: 'failed',
      steps: 1,
      error: {
        code: 'provider_unavailable',
        message: 'The provider connection failed (UND_ERR_SOCKET).',
      },
    });
    expect(server.requests).toHaveLength(1);
  });
});

function textOf(events: readonly TurnEventWithProgress[]): string {
  return events.map((event) => (event.type === 'text-delta' ? event.delta : '')).join('');
}
