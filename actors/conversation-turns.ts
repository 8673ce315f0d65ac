/**
 * The turn half of the conversation's actions: starting turns, and ending them (completed,
 * cancelled, interrupted, failed) while keeping the partial answer in the history. Each works on a
 * copy of the conversation's data and records its frames and effects in an {@link Output}.
 */
import type { ErrorCode } from '../src/errors.js';
import type { ModelFinishReason, ModelMessage } from '../src/agent/model.js';
import type { CompletionStatus, ConversationState, PendingTurn } from './conversation-state.js';
import { usageFrame, type Output } from './conversation-output.js';

/** What the completion frame of an ended turn says besides its status. */
export interface EndDetails {
  cancelledBy?: string;
  steps?: number;
  error?: { code: ErrorCode; message: string };
  finishReason?: ModelFinishReason;
  rawFinishReason?: string;
}

/** The next id with a prefix, from the conversation's seed and its own counters. */
export function nextId(state: ConversationState, prefix: 'turn' | 'message'): string {
  if (prefix === 'turn') {
    state.turnsNamed += 1;
    return `turn_${state.idSeed}_${state.turnsNamed}`;
  }
  state.messagesNamed += 1;
  return `message_${state.idSeed}_${state.messagesNamed}`;
}

/** Broadcasts the active turn's completion, keeps its (partial) answer, stops its work. */
export function endActiveTurn(
  state: ConversationState,
  output: Output,
  status: CompletionStatus,
  details: EndDetails,
): void {
  const active = state.activeTurn;
  if (active === null) return;
  if (status === 'cancelled' || status === 'interrupted') {
    output.effect({ type: 'cancelTurn', params: { turnId: active.turnId } });
  }
  output.broadcast(state.participants, {
    ...completion(active, status, {
      ...(details.cancelledBy === undefined ? {} : { by: details.cancelledBy }),
      ...(details.error === undefined ? {} : { error: details.error }),
    }),
    message_id: active.agentMessageId,
    content: active.text,
    usage: usageFrame(
      active.usage.inputTokens,
      active.usage.outputTokens,
      active.usage.cachedInputTokens,
      active.usage.reasoningTokens,
    ),
    steps: details.steps ?? 0,
    // Only a provider's own reason is worth a field: v1 models (the offline one) never give one.
    ...(details.rawFinishReason === undefined
      ? {}
      : {
          finish_reason: details.finishReason ?? 'other',
          raw_finish_reason: details.rawFinishReason,
        }),
  });
  const answer: ModelMessage = { role: 'assistant', content: active.text };
  state.history = [...state.history, active.userMessage, answer].slice(
    -state.settings.historyMessages,
  );
  state.activeTurn = null;
}

/** Makes a turn the active one and submits it to the worker pool with the history so far. */
export function startTurn(state: ConversationState, output: Output, turn: PendingTurn): void {
  state.activeTurn = {
    ...turn,
    agentMessageId: nextId(state, 'message'),
    text: '',
    chunkIndex: 0,
    usage: { inputTokens: 0, outputTokens: 0 },
    toolsInFlight: 0,
  };
  output.effect({
    type: 'submitTurn',
    params: { turnId: turn.turnId, messages: [...state.history, turn.userMessage] },
  });
}

/** The completion frame of a turn that never streamed (cancelled while waiting, interrupted). */
export function completion(
  turn: Pick<PendingTurn, 'turnId'>,
  status: CompletionStatus,
  { by, error }: { by?: string; error?: { code: ErrorCode; message: string } },
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
