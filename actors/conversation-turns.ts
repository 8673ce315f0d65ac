/**
 * The turn half of the conversation reducer: starting turns, applying a running turn's events,
 * and ending turns (completed, cancelled, interrupted, failed) while keeping the partial answer.
 */
import type { ModelMessage } from '../src/agent/model.js';
import { addUsage } from '../src/agent/run-turn.js';
import type { TurnEvent } from '../src/agent/turn-event.js';
import type {
  ActiveTurn,
  CompletionStatus,
  ConversationState,
  PendingTurn,
  ReducerEnvironment,
} from './conversation-state.js';
import { usageFrame, type FrameWriter } from './frame-writer.js';

export function applyTurnEvent(
  state: ConversationState,
  writer: FrameWriter,
  active: ActiveTurn,
  event: TurnEvent,
  environment: ReducerEnvironment,
): void {
  const base = { turn_id: active.turnId };
  switch (event.type) {
    case 'text-delta':
      state.activeTurn = {
        ...active,
        phase: 'streaming',
        text: active.text + event.delta,
        chunkIndex: active.chunkIndex + 1,
      };
      writer.broadcast(state.participants, {
        type: 'agent_response_chunk',
        ...base,
        message_id: active.agentMessageId,
        index: active.chunkIndex,
        delta: event.delta,
      });
      return;
    case 'tool-call':
      state.activeTurn = {
        ...active,
        phase: 'calling_tool',
        toolsInFlight: active.toolsInFlight + 1,
      };
      writer.broadcast(state.participants, {
        type: 'tool_call',
        ...base,
        tool_call_id: event.toolCallId,
        tool_name: event.toolName,
        arguments: event.input,
      });
      return;
    case 'tool-result': {
      const toolsInFlight = Math.max(0, active.toolsInFlight - 1);
      state.activeTurn = {
        ...active,
        toolsInFlight,
        phase: toolsInFlight === 0 ? 'thinking' : 'calling_tool',
      };
      const { outcome } = event;
      writer.broadcast(state.participants, {
        type: 'tool_result',
        ...base,
        tool_call_id: event.toolCallId,
        tool_name: event.toolName,
        ok: outcome.ok,
        ...(outcome.ok ? { result: outcome.output } : { error: outcome.error }),
        duration_ms: outcome.durationMs,
      });
      return;
    }
    case 'usage':
      state.activeTurn = { ...active, usage: addUsage(active.usage, event.usage) };
      return;
    case 'finish':
      endActiveTurn(state, writer, event.status, {
        steps: event.steps,
        ...(event.error === undefined ? {} : { error: event.error }),
      });
      startNextTurn(state, writer, environment);
      return;
  }
}

export interface EndDetails {
  cancelledBy?: string;
  steps?: number;
  error?: { code: string; message: string };
}

/** Broadcasts the active turn's completion, keeps its (partial) answer, stops its work. */
export function endActiveTurn(
  state: ConversationState,
  writer: FrameWriter,
  status: CompletionStatus,
  details: EndDetails,
): void {
  const active = state.activeTurn;
  if (active === null) return;
  if (status === 'cancelled' || status === 'interrupted') {
    writer.commands.push({ type: 'cancel', turnId: active.turnId });
  }
  writer.broadcast(state.participants, {
    ...completion(active, status, {
      ...(details.cancelledBy === undefined ? {} : { by: details.cancelledBy }),
      ...(details.error === undefined ? {} : { error: details.error }),
    }),
    message_id: active.agentMessageId,
    content: active.text,
    usage: usageFrame(active.usage.inputTokens, active.usage.outputTokens),
    steps: details.steps ?? 0,
  });
  const answer: ModelMessage = { role: 'assistant', content: active.text };
  state.history = [...state.history, active.userMessage, answer].slice(
    -state.settings.historyMessages,
  );
  state.activeTurn = null;
}

export function startNextTurn(
  state: ConversationState,
  writer: FrameWriter,
  environment: ReducerEnvironment,
): void {
  const [next, ...rest] = state.pendingTurns;
  if (next === undefined || state.activeTurn !== null) return;
  state.pendingTurns = rest;
  startTurn(state, writer, next, environment);
}

export function startTurn(
  state: ConversationState,
  writer: FrameWriter,
  turn: PendingTurn,
  environment: ReducerEnvironment,
): void {
  state.activeTurn = {
    ...turn,
    agentMessageId: environment.nextId('message'),
    phase: 'waiting',
    text: '',
    chunkIndex: 0,
    usage: { inputTokens: 0, outputTokens: 0 },
    toolsInFlight: 0,
  };
  writer.commands.push({
    type: 'submit',
    turnId: turn.turnId,
    messages: [...state.history, turn.userMessage],
  });
}

export function completion(
  turn: Pick<PendingTurn, 'turnId'>,
  status: CompletionStatus,
  { by, error }: { by?: string; error?: { code: string; message: string } },
) {
  return {
    type: 'agent_response_complete' as const,
    turn_id: turn.turnId,
    message_id: '',
    content: '',
    status,
    usage: usageFrame(0, 0),
    steps: 0,
    ...(error === undefined ? {} : { error }),
    ...(by === undefined ? {} : { cancelled_by: by }),
  };
}
