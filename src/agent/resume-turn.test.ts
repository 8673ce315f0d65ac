/**
 * A turn that pauses before tool calls that need approval (`approval-needed`), and its
 * continuation (`resumeTurn`) with the participants' answers. Real timers, small limits; each
 * test awaits the turn's own completion.
 */
import { lastValueFrom, toArray, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { LanguageModel, ModelMessage, ModelRequest, ModelStreamPart } from './model.js';
import { resumeTurn, runTurn, type ToolExecutor, type TurnDependencies } from './run-turn.js';
import type { TurnContinuation, TurnEvent } from './turn-event.js';

const usage = { inputTokens: 3, outputTokens: 2 };
const question: ModelMessage = { role: 'user', content: 'Mail the report', userId: 'alice' };
const mail = { toolCallId: 'call_mail', toolName: 'send_email', input: { to: 'board' } };
const weather = { toolCallId: 'call_weather', toolName: 'weather', input: { location: 'Paris' } };

/** A model answering its n-th call with the n-th list of parts; it keeps every request. */
function scriptedModel(responses: readonly (readonly ModelStreamPart[])[]) {
  const requests: ModelRequest[] = [];
  const model: LanguageModel = {
    specificationVersion: 'parley.model.v1',
    provider: 'scripted',
    modelId: 'scripted-1',
    async *stream(request) {
      requests.push(request);
      await Promise.resolve();
      yield* responses[requests.length - 1] ?? [];
    },
  };
  return { model, requests };
}

/** A tool executor that records what ran. */
function recordingTools() {
  const ran: string[] = [];
  const executeTool: ToolExecutor = (name) => {
    ran.push(name);
    return Promise.resolve({ ok: name });
  };
  return { ran, executeTool };
}

function dependencies(
  model: LanguageModel,
  executeTool: ToolExecutor,
  overrides: Partial<TurnDependencies> = {},
): TurnDependencies {
  return {
    model,
    tools: [],
    executeTool,
    maxSteps: 8,
    toolTimeoutMs: 1_000,
    turnTimeoutMs: 5_000,
    tokenPacingMs: 0,
    needsApproval: (call) => call.toolName === 'send_email',
    now: () => 1_000,
    ...overrides,
  };
}

function collect(turn$: Observable<TurnEvent>): Promise<TurnEvent[]> {
  return lastValueFrom(turn$.pipe(toArray()));
}

/** The continuation of the first model call below: it called the mail and the weather tools. */
async function pausedTurn(model: LanguageModel, executeTool: ToolExecutor) {
  const events = await collect(runTurn([question], dependencies(model, executeTool)));
  const last = events.at(-1);
  if (last?.type !== 'approval-needed') throw new Error('the turn did not pause');
  return { events, continuation: last.continuation };
}

const pausingStep: ModelStreamPart[] = [
  { type: 'text-delta', delta: 'On it. ' },
  { type: 'tool-call', ...mail },
  { type: 'tool-call', ...weather },
  { type: 'finish', finishReason: 'tool-calls', usage },
];

describe('a turn with a call that needs approval', () => {
  it('ends with approval-needed after the calls are announced, and runs none of the step’s calls', async () => {
    const { model } = scriptedModel([pausingStep]);
    const { ran, executeTool } = recordingTools();

    const { events, continuation } = await pausedTurn(model, executeTool);

    expect(events.map((event) => event.type)).toEqual([
      'text-delta',
      'tool-call',
      'tool-call',
      'usage',
      'approval-needed',
    ]);
    expect(events.at(-1)).toMatchObject({ at: 1_000 });
    expect(ran).toEqual([]);
    expect(continuation).toEqual<TurnContinuation>({
      messages: [question, { role: 'assistant', content: 'On it. ', toolCalls: [mail, weather] }],
      toolCalls: [mail, weather],
      approvalNeeded: ['call_mail'],
      steps: 1,
    });
  });

  it('goes on after an approval: runs the step’s calls, then the next model call, counting steps on', async () => {
    const { model, requests } = scriptedModel([
      pausingStep,
      [
        { type: 'text-delta', delta: 'Sent.' },
        { type: 'finish', finishReason: 'stop', usage },
      ],
    ]);
    const { ran, executeTool } = recordingTools();
    const { continuation } = await pausedTurn(model, executeTool);

    const events = await collect(
      resumeTurn(continuation, { call_mail: { approved: true } }, dependencies(model, executeTool)),
    );

    expect(ran.sort()).toEqual(['send_email', 'weather']);
    expect(events.map((event) => event.type)).toEqual([
      'tool-result',
      'tool-result',
      'text-delta',
      'usage',
      'finish',
    ]);
    expect(events.at(-1)).toEqual({ type: 'finish', status: 'completed', steps: 2 });
    expect(requests[1]?.messages.slice(2)).toEqual([
      { ...toolMessage(mail), output: { ok: 'send_email' }, isError: false },
      { ...toolMessage(weather), output: { ok: 'weather' }, isError: false },
    ]);
  });

  it('tells the model a denied call did not run, with the reason, and runs the others', async () => {
    const { model, requests } = scriptedModel([
      pausingStep,
      [
        { type: 'text-delta', delta: 'I did not send it.' },
        { type: 'finish', finishReason: 'stop', usage },
      ],
    ]);
    const { ran, executeTool } = recordingTools();
    const { continuation } = await pausedTurn(model, executeTool);

    const events = await collect(
      resumeTurn(
        continuation,
        { call_mail: { approved: false, reason: 'bob denied this call: not yet.' } },
        dependencies(model, executeTool),
      ),
    );

    expect(ran).toEqual(['weather']);
    const denial = { code: 'tool_denied', message: 'bob denied this call: not yet.' };
    expect(events[0]).toEqual({
      type: 'tool-result',
      ...mail,
      outcome: { ok: false, error: denial, durationMs: 0 },
    });
    expect(requests[1]?.messages[2]).toEqual({
      ...toolMessage(mail),
      output: { error: denial },
      isError: true,
    });
  });

  it('never runs a call that needed approval without one, even when its verdict is missing', async () => {
    const { model } = scriptedModel([
      pausingStep,
      [{ type: 'finish', finishReason: 'stop', usage }],
    ]);
    const { ran, executeTool } = recordingTools();
    const { continuation } = await pausedTurn(model, executeTool);

    // `constructor` is an inherited key of every object: it must not pass for an answer.
    const call = { ...mail, toolCallId: 'constructor' };
    const events = await collect(
      resumeTurn(
        { ...continuation, toolCalls: [call], approvalNeeded: ['constructor'] },
        {},
        dependencies(model, executeTool),
      ),
    );

    expect(ran).toEqual([]);
    expect(events[0]).toMatchObject({
      type: 'tool-result',
      outcome: { ok: false, error: { code: 'tool_denied' } },
    });
  });

  it('stops at the step cap before asking for approval', async () => {
    const { model } = scriptedModel([pausingStep]);
    const { executeTool } = recordingTools();

    const events = await collect(
      runTurn([question], dependencies(model, executeTool, { maxSteps: 1 })),
    );

    expect(events.at(-1)).toMatchObject({ type: 'finish', status: 'step_limit' });
  });
});

function toolMessage(call: { toolCallId: string; toolName: string }) {
  return { role: 'tool', toolCallId: call.toolCallId, toolName: call.toolName };
}
