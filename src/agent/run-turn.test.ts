import { lastValueFrom, tap, toArray, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ParleyError } from '../errors.js';
import type {
  LanguageModel,
  ModelMessage,
  ModelRequest,
  ModelStreamPart,
  ModelToolDescription,
} from './model.js';
import {
  addUsage,
  runTurn,
  runTurnWithProgress,
  type ToolExecutor,
  type TurnDependencies,
} from './run-turn.js';
import type { TurnEvent } from './turn-event.js';

/*
 * The model is an async generator, so these tests run on real timers with small limits and await
 * the turn's own completion (or an event such as "the model started"); nothing sleeps.
 */

/** One scripted model call: its parts, or a generator for calls that need the signal. */
type ScriptedResponse =
  readonly ModelStreamPart[] | ((signal: AbortSignal) => AsyncGenerator<ModelStreamPart>);

interface ScriptedModel extends LanguageModel {
  /** Every request the turn made, in order. */
  readonly requests: ModelRequest[];
  /** The signal of each call, in order. */
  readonly signals: AbortSignal[];
}

/** A model that answers its n-th call with the n-th scripted response. */
function scriptedModel(responses: readonly ScriptedResponse[]): ScriptedModel {
  const requests: ModelRequest[] = [];
  const signals: AbortSignal[] = [];
  return {
    specificationVersion: 'parley.model.v1',
    provider: 'scripted',
    modelId: 'scripted-1',
    requests,
    signals,
    async *stream(request, { signal }) {
      requests.push(request);
      signals.push(signal);
      const response = responses[requests.length - 1];
      if (response === undefined)
        throw new Error(`No scripted response for call ${requests.length}.`);
      if (typeof response === 'function') yield* response(signal);
      else yield* response;
    },
  };
}

const question: ModelMessage = { role: 'user', content: 'Weather in Paris?', userId: 'alice' };

const weatherTool: ModelToolDescription = {
  name: 'weather',
  description: 'Current weather for a city.',
  inputSchema: { type: 'object', properties: { location: { type: 'string' } } },
};

const usage = { inputTokens: 12, outputTokens: 7 };

function text(delta: string): ModelStreamPart {
  return { type: 'text-delta', delta };
}

function callWeather(toolCallId: string, location: string): ModelStreamPart {
  return { type: 'tool-call', toolCallId, toolName: 'weather', input: { location } };
}

function finish(finishReason: 'stop' | 'tool-calls'): ModelStreamPart {
  return { type: 'finish', finishReason, usage };
}

const noTools: ToolExecutor = () => Promise.reject(new Error('This test calls no tool.'));

function dependencies(
  model: LanguageModel,
  overrides: Partial<Omit<TurnDependencies, 'model'>> = {},
): TurnDependencies {
  return {
    model,
    tools: [weatherTool],
    executeTool: noTools,
    maxSteps: 8,
    toolTimeoutMs: 1_000,
    turnTimeoutMs: 5_000,
    tokenPacingMs: 0,
    ...overrides,
  };
}

function collect<T>(turn$: Observable<T>): Promise<T[]> {
  return lastValueFrom(turn$.pipe(toArray()));
}

/** A promise and the function that resolves it, to await "it happened" instead of sleeping. */
function signalled(): { promise: Promise<void>; fire(): void } {
  let fire: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => {
    fire = resolve;
  });
  return { promise, fire };
}

const never = new Promise<never>(() => undefined);

describe('runTurn', () => {
  it('streams a text-only answer as text deltas, then usage, then finish completed after one step', async () => {
    const model = scriptedModel([[text('It is '), text('sunny.'), finish('stop')]]);

    const events = await collect(runTurn([question], dependencies(model)));

    expect(events).toEqual([
      { type: 'text-delta', delta: 'It is ' },
      { type: 'text-delta', delta: 'sunny.' },
      { type: 'usage', usage },
      { type: 'finish', status: 'completed', steps: 1 },
    ]);
    expect(model.requests).toEqual([{ messages: [question], tools: [weatherTool] }]);
  });

  it('drops empty text deltas', async () => {
    const model = scriptedModel([[text(''), text('Hi'), text(''), finish('stop')]]);

    const events = await collect(runTurn([question], dependencies(model)));

    expect(events.filter((event) => event.type === 'text-delta')).toEqual([
      { type: 'text-delta', delta: 'Hi' },
    ]);
  });

  it('runs a requested tool and gives the next step the assistant call and the tool result', async () => {
    const model = scriptedModel([
      [text('Let me check. '), callWeather('call_1', 'Paris'), finish('tool-calls')],
      [text('Sunny, 21 °C.'), finish('stop')],
    ]);
    const toolCalls: { name: string; input: unknown }[] = [];
    const executeTool: ToolExecutor = (name, input) => {
      toolCalls.push({ name, input });
      return Promise.resolve({ forecast: 'sunny', celsius: 21 });
    };

    const events = await collect(runTurn([question], dependencies(model, { executeTool })));

    const call = { toolCallId: 'call_1', toolName: 'weather', input: { location: 'Paris' } };
    expect(events).toEqual([
      { type: 'text-delta', delta: 'Let me check. ' },
      { type: 'tool-call', ...call },
      { type: 'usage', usage },
      {
        type: 'tool-result',
        ...call,
        outcome: {
          ok: true,
          output: { forecast: 'sunny', celsius: 21 },
          durationMs: expect.any(Number) as number,
        },
      },
      { type: 'text-delta', delta: 'Sunny, 21 °C.' },
      { type: 'usage', usage },
      { type: 'finish', status: 'completed', steps: 2 },
    ]);
    expect(toolCalls).toEqual([{ name: 'weather', input: { location: 'Paris' } }]);
    expect(model.requests[1]?.messages).toEqual([
      question,
      { role: 'assistant', content: 'Let me check. ', toolCalls: [call] },
      {
        role: 'tool',
        toolCallId: 'call_1',
        toolName: 'weather',
        output: { forecast: 'sunny', celsius: 21 },
        isError: false,
      },
    ]);
  });

  it('finishes with step_limit when the model still calls a tool at the step cap', async () => {
    const model = scriptedModel(
      Array.from({ length: 5 }, (_, index) => [
        callWeather(`call_${index + 1}`, 'Paris'),
        finish('tool-calls'),
      ]),
    );
    let toolRuns = 0;
    const executeTool: ToolExecutor = () => {
      toolRuns += 1;
      return Promise.resolve({ forecast: 'sunny' });
    };

    const events = await collect(
      runTurn([question], dependencies(model, { executeTool, maxSteps: 2 })),
    );

    expect(events.map((event) => event.type)).toEqual([
      'tool-call',
      'usage',
      'tool-result',
      'tool-call',
      'usage',
      'finish',
    ]);
    expect(events.at(-1)).toEqual({ type: 'finish', status: 'step_limit', steps: 2 });
    expect(model.requests).toHaveLength(2);
    expect(toolRuns).toBe(1);
  });

  it('finishes failed with model_failed when the model streams an error part, and aborts the model', async () => {
    const model = scriptedModel([
      [text('It is '), { type: 'error', error: new Error('Upstream answered 529 Overloaded.') }],
    ]);

    const events = await collect(runTurn([question], dependencies(model)));

    expect(events).toEqual([
      { type: 'text-delta', delta: 'It is ' },
      {
        type: 'finish',
        status: 'failed',
        steps: 1,
        error: { code: 'model_failed', message: 'Upstream answered 529 Overloaded.' },
      },
    ]);
    expect(model.signals[0]?.aborted).toBe(true);
  });

  it('finishes failed with model_failed when the model throws', async () => {
    const model = scriptedModel([
      // eslint-disable-next-line @typescript-eslint/require-await -- a generator that fails mid-stream
      async function* () {
        yield text('It is ');
        throw new Error('socket hang up');
      },
    ]);

    const events = await collect(runTurn([question], dependencies(model)));

    expect(events).toEqual([
      { type: 'text-delta', delta: 'It is ' },
      {
        type: 'finish',
        status: 'failed',
        steps: 1,
        error: { code: 'model_failed', message: 'socket hang up' },
      },
    ]);
  });

  it('keeps the code of a ParleyError the model fails with', async () => {
    const model = scriptedModel([
      [{ type: 'error', error: new ParleyError('internal_error', 'Provider misconfigured.') }],
    ]);

    const events = await collect(runTurn([question], dependencies(model)));

    expect(events).toEqual([
      {
        type: 'finish',
        status: 'failed',
        steps: 1,
        error: { code: 'internal_error', message: 'Provider misconfigured.' },
      },
    ]);
  });

  it('reports a tool that outlives toolTimeoutMs as tool_timeout, aborts it and goes on to the next step', async () => {
    const model = scriptedModel([
      [callWeather('call_1', 'Paris'), finish('tool-calls')],
      [text('The weather service is slow today.'), finish('stop')],
    ]);
    let toolSignal: AbortSignal | undefined;
    const executeTool: ToolExecutor = (_name, _input, signal) => {
      toolSignal = signal;
      return never;
    };

    const events = await collect(
      runTurn([question], dependencies(model, { executeTool, toolTimeoutMs: 20 })),
    );

    const timedOut = { code: 'tool_timeout', message: 'The tool did not finish within 20 ms.' };
    expect(events.find((event) => event.type === 'tool-result')).toEqual({
      type: 'tool-result',
      toolCallId: 'call_1',
      toolName: 'weather',
      input: { location: 'Paris' },
      outcome: { ok: false, error: timedOut, durationMs: expect.any(Number) as number },
    });
    expect(toolSignal?.aborted).toBe(true);
    expect(model.requests[1]?.messages.at(-1)).toEqual({
      role: 'tool',
      toolCallId: 'call_1',
      toolName: 'weather',
      output: { error: timedOut },
      isError: true,
    });
    expect(events.at(-1)).toEqual({ type: 'finish', status: 'completed', steps: 2 });
  });

  it('finishes timed_out at turnTimeoutMs and aborts the model request', async () => {
    const model = scriptedModel([
      async function* () {
        yield text('Thinking');
        await never;
      },
    ]);

    const events = await collect(runTurn([question], dependencies(model, { turnTimeoutMs: 30 })));

    expect(events).toEqual([
      { type: 'text-delta', delta: 'Thinking' },
      {
        type: 'finish',
        status: 'timed_out',
        steps: 1,
        error: { code: 'turn_timeout', message: 'The turn did not finish within 30 ms.' },
      },
    ]);
    expect(model.signals[0]?.aborted).toBe(true);
  });

  it('aborts the model request when the turn is unsubscribed', async () => {
    const modelStarted = signalled();
    const model = scriptedModel([
      async function* () {
        modelStarted.fire();
        yield text('Thinking');
        await never;
      },
    ]);
    const events: TurnEvent[] = [];
    const subscription = runTurn([question], dependencies(model)).subscribe((event) => {
      events.push(event);
    });
    await modelStarted.promise;
    expect(model.signals[0]?.aborted).toBe(false);

    subscription.unsubscribe();

    expect(model.signals[0]?.aborted).toBe(true);
    expect(events.some((event) => event.type === 'finish')).toBe(false);
  });

  it('aborts a running tool when the turn is unsubscribed', async () => {
    const model = scriptedModel([[callWeather('call_1', 'Paris'), finish('tool-calls')]]);
    const toolStarted = signalled();
    let toolSignal: AbortSignal | undefined;
    const executeTool: ToolExecutor = (_name, _input, signal) => {
      toolSignal = signal;
      toolStarted.fire();
      return never;
    };
    const subscription = runTurn([question], dependencies(model, { executeTool })).subscribe();
    await toolStarted.promise;
    expect(toolSignal?.aborted).toBe(false);

    subscription.unsubscribe();

    expect(toolSignal?.aborted).toBe(true);
  });

  it('runs the tool calls of one step in parallel and passes their results on in call order', async () => {
    const model = scriptedModel([
      [callWeather('call_paris', 'Paris'), callWeather('call_oslo', 'Oslo'), finish('tool-calls')],
      [text('Paris is sunny, Oslo is rainy.'), finish('stop')],
    ]);
    const osloReported = signalled();
    const started: string[] = [];
    // Paris answers only once Oslo's result is out: one after the other, Paris would time out.
    const executeTool: ToolExecutor = async (_name, input) => {
      const { location } = input as { location: string };
      started.push(location);
      if (location === 'Oslo') return { forecast: 'rainy' };
      await osloReported.promise;
      return { forecast: 'sunny' };
    };

    const events = await collect(
      runTurn([question], dependencies(model, { executeTool })).pipe(
        tap((event) => {
          if (event.type === 'tool-result' && event.toolCallId === 'call_oslo') osloReported.fire();
        }),
      ),
    );

    expect(started).toEqual(['Paris', 'Oslo']);
    expect(
      events.flatMap((event) =>
        event.type === 'tool-result' ? [{ id: event.toolCallId, ok: event.outcome.ok }] : [],
      ),
    ).toEqual([
      { id: 'call_oslo', ok: true },
      { id: 'call_paris', ok: true },
    ]);
    expect(model.requests[1]?.messages.slice(2)).toEqual([
      {
        role: 'tool',
        toolCallId: 'call_paris',
        toolName: 'weather',
        output: { forecast: 'sunny' },
        isError: false,
      },
      {
        role: 'tool',
        toolCallId: 'call_oslo',
        toolName: 'weather',
        output: { forecast: 'rainy' },
        isError: false,
      },
    ]);
    expect(events.at(-1)).toEqual({ type: 'finish', status: 'completed', steps: 2 });
  });

  // Regression: the step counter lived outside the subscription, so a second subscription to the
  // same turn (a retry) went on counting from where the first stopped.
  it('counts steps afresh for each subscription', async () => {
    const answer = [text('Hi'), finish('stop')] as const;
    const model = scriptedModel([answer, answer]);
    const turn$ = runTurn([question], dependencies(model));

    const first = await collect(turn$);
    const second = await collect(turn$);

    expect(first.at(-1)).toEqual({ type: 'finish', status: 'completed', steps: 1 });
    expect(second.at(-1)).toEqual({ type: 'finish', status: 'completed', steps: 1 });
  });
});

describe('runTurn with a parley.model.v2 model', () => {
  const v2Usage = { inputTokens: 40, outputTokens: 12, cachedInputTokens: 32, reasoningTokens: 5 };

  /** A v2 model: reasoning, metadata, streamed tool input, then the complete call. */
  function v2Model(): ScriptedModel {
    const model = scriptedModel([
      [
        { type: 'response-metadata', responseId: 'chatcmpl-1', modelId: 'gpt-4o-mini-2024-07-18' },
        { type: 'reasoning-delta', delta: 'The user wants weather.' },
        { type: 'reasoning-delta', delta: '' },
        { type: 'tool-input-start', toolCallId: 'call_1', toolName: 'weather' },
        { type: 'tool-input-delta', toolCallId: 'call_1', delta: '{"location":' },
        { type: 'tool-input-delta', toolCallId: 'call_1', delta: '"Paris"}' },
        { type: 'tool-input-end', toolCallId: 'call_1' },
        callWeather('call_1', 'Paris'),
        {
          type: 'finish',
          finishReason: 'tool-calls',
          rawFinishReason: 'tool_calls',
          usage: v2Usage,
        },
      ],
      [text('Sunny'), { type: 'finish', finishReason: 'length', rawFinishReason: 'length', usage }],
    ]);
    return { ...model, specificationVersion: 'parley.model.v2' };
  }

  const executeTool: ToolExecutor = () => Promise.resolve({ forecast: 'sunny' });

  it('reports tool input, reasoning and the response of each step as progress events, in model order', async () => {
    const events = await collect(
      runTurnWithProgress([question], dependencies(v2Model(), { executeTool })),
    );

    expect(events.slice(0, 8)).toEqual([
      {
        type: 'model-response',
        step: 1,
        responseId: 'chatcmpl-1',
        modelId: 'gpt-4o-mini-2024-07-18',
      },
      { type: 'reasoning-delta', delta: 'The user wants weather.' },
      { type: 'tool-input-start', toolCallId: 'call_1', toolName: 'weather' },
      {
        type: 'tool-input-delta',
        toolCallId: 'call_1',
        toolName: 'weather',
        delta: '{"location":',
      },
      { type: 'tool-input-delta', toolCallId: 'call_1', toolName: 'weather', delta: '"Paris"}' },
      { type: 'tool-input-end', toolCallId: 'call_1' },
      {
        type: 'tool-call',
        toolCallId: 'call_1',
        toolName: 'weather',
        input: { location: 'Paris' },
      },
      { type: 'usage', usage: v2Usage },
    ]);
  });

  it("emits no progress events from runTurn, and ends with the last call's finish reason and raw reason", async () => {
    const events = await collect(runTurn([question], dependencies(v2Model(), { executeTool })));

    expect(events.map((event) => event.type)).toEqual([
      'tool-call',
      'usage',
      'tool-result',
      'text-delta',
      'usage',
      'finish',
    ]);
    expect(events.at(-1)).toEqual({
      type: 'finish',
      status: 'completed',
      steps: 2,
      finishReason: 'length',
      rawFinishReason: 'length',
    });
  });

  it('keeps the code of a provider error part', async () => {
    const model = scriptedModel([
      [
        text('Partial'),
        {
          type: 'error',
          error: new ParleyError('provider_unavailable', 'The provider closed the connection.'),
        },
      ],
    ]);

    const events = await collect(runTurnWithProgress([question], dependencies(model)));

    expect(events.at(-1)).toEqual({
      type: 'finish',
      status: 'failed',
      steps: 1,
      error: { code: 'provider_unavailable', message: 'The provider closed the connection.' },
    });
  });
});

describe('addUsage', () => {
  it('sums input and output tokens and adds no counter neither side reports', () => {
    expect(
      addUsage({ inputTokens: 1, outputTokens: 2 }, { inputTokens: 3, outputTokens: 4 }),
    ).toEqual({ inputTokens: 4, outputTokens: 6 });
  });

  it('sums cached and reasoning tokens when either side reports them', () => {
    expect(
      addUsage(
        { inputTokens: 10, outputTokens: 5, cachedInputTokens: 8 },
        { inputTokens: 10, outputTokens: 5, reasoningTokens: 3 },
      ),
    ).toEqual({ inputTokens: 20, outputTokens: 10, cachedInputTokens: 8, reasoningTokens: 3 });
  });
});
