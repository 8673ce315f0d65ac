/**
 * Over 300 lines because it holds every named action of the conversation statechart, one short function each, so the machine file reads as the diagram.
 *
 * The conversation machine's named actions, as functions of (a copy of) its data and the event:
 * each changes the copy and records its frames and effects in an {@link Output}. The machine
 * (conversation.machine.ts) chooses which run, by event and guard; these say what each does.
 */
import { PROTOCOL_VERSION } from '../src/protocol/frames.js';
import type {
  ConversationEvent,
  ConversationInput,
  ConversationState,
  PendingTurn,
} from './conversation-state.js';
import { RECENT_MESSAGES } from './conversation-state.js';
import { addUsage } from '../src/agent/add-usage.js';
import { userIds, usageFrame, type Output } from './conversation-output.js';
import { completion, endActiveTurn, nextId, startTurn } from './conversation-turns.js';
import { roleOf } from './membership.js';

/** A named action: changes `state` (a copy of the context) and adds to `output`. */
export type ConversationAction<
  TEvent extends ConversationEvent['type'] = ConversationEvent['type'],
> = (
  state: ConversationState,
  event: Extract<ConversationEvent, { type: TEvent }>,
  output: Output,
) => void;

const record = (
  state: Pick<ConversationState, 'seq'>,
  input: ConversationInput,
  output: Output,
) => {
  output.record(state.seq, input);
};

export const addParticipant: ConversationAction<'participant.join'> = (state, event, output) => {
  record(state, event, output);
  // `concat` makes an array of the exact length; a spread or `push` would reserve 16 more slots
  // (0.13 KiB) in every conversation's list.
  // A role is the members list's now, not the one the socket was admitted with: a connection
  // moved to another instance's engine (cluster) may carry a role changed since.
  const role =
    event.role === undefined ? undefined : (roleOf(state.members, event.userId) ?? event.role);
  state.participants = state.participants.concat([
    {
      connectionId: event.connectionId,
      userId: event.userId,
      ...(role === undefined ? {} : { role }),
      ...(event.readOnly === undefined ? {} : { readOnly: event.readOnly }),
    },
  ]);
  output.direct(event.connectionId, {
    type: 'welcome',
    protocol_version: PROTOCOL_VERSION,
    connection_id: event.connectionId,
    user_id: event.userId,
    participants: userIds(state.participants),
    active_turn_id: state.activeTurn?.turnId ?? null,
    ...(event.since === undefined ? {} : { resumed_from: event.since }),
    ...(state.settings.agent === undefined ? {} : { agent: state.settings.agent }),
    limits: state.settings.welcomeLimits,
  });
  output.broadcast(state.participants, {
    type: 'presence',
    status: 'joined',
    user_id: event.userId,
    connection_id: event.connectionId,
    participants: userIds(state.participants),
  });
  output.effect({
    type: 'answerJoin',
    params: { connectionId: event.connectionId, answer: { type: 'conversation.joined' } },
  });
};

/** Answers a join with a refusal: the connection closes with the code's close code. */
const refuseJoin = (
  output: Output,
  connectionId: string,
  code: 'conversation_full' | 'membership_revoked',
  message: string,
) => {
  output.effect({
    type: 'answerJoin',
    params: { connectionId, answer: { type: 'conversation.rejected', code, message } },
  });
};

/** A join with a role by a user the members list no longer has (removed while the socket moved). */
export const rejectRevoked: ConversationAction<'participant.join'> = (_state, event, output) => {
  refuseJoin(
    output,
    event.connectionId,
    'membership_revoked',
    'You are no longer a member of this conversation.',
  );
};

export const rejectParticipant: ConversationAction<'participant.join'> = (
  _state,
  event,
  output,
) => {
  refuseJoin(
    output,
    event.connectionId,
    'conversation_full',
    'The conversation has the maximum number of participants.',
  );
};

/**
 * What a leave reads and changes, which a hibernated conversation keeps too: its shard takes a
 * leave without waking it (`conversation-shard.machine.ts`), with this same action.
 */
export type LeaveState = Pick<ConversationState, 'seq' | 'participants' | 'typingUsers'>;

export const removeParticipant = (
  state: LeaveState,
  event: Extract<ConversationEvent, { type: 'participant.leave' }>,
  output: Output,
): void => {
  record(state, event, output);
  const leaving = state.participants.find((p) => p.connectionId === event.connectionId);
  if (leaving === undefined) return;
  state.participants = state.participants.filter((p) => p !== leaving);
  const stillHere = state.participants.some((p) => p.userId === leaving.userId);
  // A socket that drops never sends "stopped typing": say it for the user, or the others would
  // see them typing forever (and a rejoin would be deduplicated away).
  if (!stillHere && state.typingUsers.includes(leaving.userId)) {
    state.typingUsers = state.typingUsers.filter((user) => user !== leaving.userId);
    output.broadcast(state.participants, {
      type: 'typing_indicator',
      actor: 'user',
      user_id: leaving.userId,
      is_typing: false,
    });
  }
  output.broadcast(state.participants, {
    type: 'presence',
    status: 'left',
    user_id: leaving.userId,
    connection_id: leaving.connectionId,
    participants: userIds(state.participants),
  });
};

export const changeTyping: ConversationAction<'user.typing'> = (state, event, output) => {
  record(state, event, output);
  // Only changes are broadcast: a client repeating "typing" costs no seq.
  if (state.typingUsers.includes(event.userId) === event.isTyping) return;
  state.typingUsers = event.isTyping
    ? [...state.typingUsers, event.userId]
    : state.typingUsers.filter((user) => user !== event.userId);
  output.broadcast(state.participants, {
    type: 'typing_indicator',
    actor: 'user',
    user_id: event.userId,
    is_typing: event.isTyping,
  });
};

export const refuseBusy: ConversationAction<'user.message'> = (state, event, output) => {
  // The pool's refusal is the world outside deciding: the log keeps it with the message.
  record(state, { ...event, admitted: false }, output);
  output.error(
    event.connectionId,
    'busy',
    'user_message',
    'The agent is busy: too many turns are waiting. Try again shortly.',
  );
};

/** Broadcasts the message and queues its turn; `startNextTurn` or a running turn's end runs it. */
export const acceptMessage: ConversationAction<'user.message'> = (state, event, output) => {
  record(state, event, output);
  output.effect({ type: 'reserveTurnSlot', params: { userId: event.userId } });
  const turn: PendingTurn = {
    turnId: nextId(state, 'turn'),
    userMessage: { role: 'user', content: event.content, userId: event.userId },
  };
  output.broadcast(state.participants, {
    type: 'user_message',
    message_id: nextId(state, 'message'),
    user_id: event.userId,
    content: event.content,
    turn_id: turn.turnId,
    ...(event.clientMessageId === undefined ? {} : { client_message_id: event.clientMessageId }),
  });
  state.pendingTurns = [...state.pendingTurns, turn];
  state.recentMessages = state.recentMessages.slice(1 - RECENT_MESSAGES).concat([
    {
      seq: output.seq,
      userId: event.userId,
      ...(event.clientMessageId === undefined ? {} : { clientMessageId: event.clientMessageId }),
    },
  ]);
};

/**
 * A message its sender sent already (same `client_message_id` among the recent messages), resent
 * because the sender could not tell whether it was taken: answered with where it was, not taken
 * twice.
 */
export const refuseDuplicate: ConversationAction<'user.message'> = (state, event, output) => {
  record(state, event, output);
  const original = findRecentMessage(state, event);
  output.error(
    event.connectionId,
    'duplicate_message',
    'user_message',
    `Message ${event.clientMessageId ?? ''} was taken already, at seq ${original?.seq ?? 0}; it is not taken twice.`,
    { client_message_id: event.clientMessageId, seq: original?.seq },
  );
};

/** The recent message this one repeats: same user, same `client_message_id`. */
export function findRecentMessage(
  state: Pick<ConversationState, 'recentMessages'>,
  event: { userId: string; clientMessageId?: string },
) {
  if (event.clientMessageId === undefined) return undefined;
  return state.recentMessages.find(
    (message) =>
      message.clientMessageId === event.clientMessageId && message.userId === event.userId,
  );
}

export const interruptActiveTurn: ConversationAction<'user.message'> = (state, event, output) => {
  endActiveTurn(state, output, 'interrupted', { cancelledBy: event.userId });
};

export const startNextTurn: ConversationAction = (state, _event, output) => {
  const [next, ...rest] = state.pendingTurns;
  if (next === undefined || state.activeTurn !== null) return;
  state.pendingTurns = rest;
  startTurn(state, output, next);
};

export const refuseCancel: ConversationAction<'user.cancel'> = (state, event, output) => {
  record(state, event, output);
  output.error(
    event.connectionId,
    'no_active_turn',
    'cancel',
    event.turnId === undefined
      ? 'There is no running turn to cancel.'
      : `Turn ${event.turnId} is not running or waiting.`,
  );
};

export const cancelPendingTurn: ConversationAction<'user.cancel'> = (state, event, output) => {
  record(state, event, output);
  const pending = state.pendingTurns.find((turn) => turn.turnId === event.turnId);
  if (pending === undefined) return;
  state.pendingTurns = state.pendingTurns.filter((turn) => turn !== pending);
  output.effect({ type: 'releaseTurnSlot', params: { userId: pending.userMessage.userId } });
  output.broadcast(state.participants, completion(pending, 'cancelled', { by: event.userId }));
};

export const cancelActiveTurn: ConversationAction<'user.cancel'> = (state, event, output) => {
  record(state, event, output);
  endActiveTurn(state, output, 'cancelled', { cancelledBy: event.userId });
};

export const announceAgentTyping: ConversationAction<'turn.started'> = (state, event, output) => {
  const active = state.activeTurn;
  if (active === null) return;
  // When a queued turn gets a worker depends on other conversations: the log keeps it.
  if (event.queued === true)
    output.record(state.seq, { type: 'turn.started', turnId: event.turnId });
  output.broadcast(state.participants, {
    type: 'typing_indicator',
    actor: 'agent',
    turn_id: active.turnId,
    is_typing: true,
  });
};

export const announceToolCall: ConversationAction<'turn.tool_call'> = (state, event, output) => {
  const active = state.activeTurn;
  if (active === null) return;
  state.activeTurn = { ...active, toolsInFlight: active.toolsInFlight + 1 };
  output.broadcast(state.participants, {
    type: 'tool_call',
    turn_id: active.turnId,
    tool_call_id: event.toolCallId,
    tool_name: event.toolName,
    arguments: event.input,
  });
};

export const reportToolResult: ConversationAction<'turn.tool_result'> = (state, event, output) => {
  const active = state.activeTurn;
  if (active === null) return;
  state.activeTurn = { ...active, toolsInFlight: Math.max(0, active.toolsInFlight - 1) };
  const { outcome } = event;
  output.broadcast(state.participants, {
    type: 'tool_result',
    turn_id: active.turnId,
    tool_call_id: event.toolCallId,
    tool_name: event.toolName,
    ok: outcome.ok,
    ...(outcome.ok ? { result: outcome.output } : { error: outcome.error }),
    duration_ms: outcome.durationMs,
  });
};

/** Participants see a tool call's arguments while the model writes them. */
export const streamToolInput: ConversationAction<'turn.tool_input_delta'> = (
  state,
  event,
  output,
) => {
  output.broadcast(state.participants, {
    type: 'tool_call_delta',
    turn_id: event.turnId,
    tool_call_id: event.toolCallId,
    tool_name: event.toolName,
    delta: event.delta,
  });
};

/** Participants see the model's reasoning as it streams (agents with `showReasoning`). */
export const streamReasoning: ConversationAction<'turn.reasoning_delta'> = (
  state,
  event,
  output,
) => {
  output.broadcast(state.participants, {
    type: 'agent_reasoning_chunk',
    turn_id: event.turnId,
    delta: event.delta,
  });
};

export const sumUsage: ConversationAction<'turn.usage'> = (state, event) => {
  const active = state.activeTurn;
  if (active === null) return;
  state.activeTurn = {
    ...active,
    usage: addUsage(active.usage, event.usage),
  };
};

export const completeTurn: ConversationAction<'turn.finished'> = (state, event, output) => {
  endActiveTurn(state, output, event.status, {
    steps: event.steps,
    ...(event.error === undefined ? {} : { error: event.error }),
    ...(event.finishReason === undefined ? {} : { finishReason: event.finishReason }),
    ...(event.rawFinishReason === undefined ? {} : { rawFinishReason: event.rawFinishReason }),
  });
};

export const failTurn: ConversationAction<'turn.failed'> = (state, event, output) => {
  endActiveTurn(state, output, 'failed', {
    error: { code: 'internal_error', message: `The turn ended unexpectedly (${event.reason}).` },
  });
};

export const interruptAllTurns: ConversationAction = (state, _event, output) => {
  for (const pending of state.pendingTurns) {
    output.effect({ type: 'releaseTurnSlot', params: { userId: pending.userMessage.userId } });
    output.broadcast(state.participants, completion(pending, 'interrupted', {}));
  }
  state.pendingTurns = [];
  endActiveTurn(state, output, 'interrupted', {});
};

/** A restored conversation closes the turns the previous process left running. */
export const interruptUnfinishedTurns: ConversationAction = (state, _event, output) => {
  for (const turn of state.unfinishedTurns) {
    output.broadcast(state.participants, {
      ...completion({ turnId: turn.turnId }, 'interrupted', {
        error: {
          code: 'server_shutdown',
          message: 'The server stopped while this turn was running.',
        },
      }),
      message_id: turn.agentMessageId ?? '',
      content: turn.text,
    });
  }
  state.unfinishedTurns = [];
};

/** The chunk frame of one text delta (the hot path: one per token, built without a copy). */
export function chunkBody(turnId: string, messageId: string, index: number, delta: string) {
  return {
    type: 'agent_response_chunk' as const,
    turn_id: turnId,
    message_id: messageId,
    index,
    delta,
  };
}

export { usageFrame };
