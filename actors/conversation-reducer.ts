/**
 * The conversation's single writer as a pure function: given the state and one input, it
 * returns the next state and the commands to run (frames to deliver, turns to submit or cancel).
 * It alone assigns `seq`, so every participant sees the same gapless numbering.
 */
import type { ModelMessage } from '../src/agent/model.js';
import { addUsage } from '../src/agent/run-turn.js';
import type { TurnEvent } from '../src/agent/turn-event.js';
import { PROTOCOL_VERSION, type ConversationEventBody } from '../src/protocol/frames.js';
import type {
  ActiveTurn,
  CompletionStatus,
  ConversationCommand,
  ConversationInput,
  ConversationSettings,
  ConversationState,
  PendingTurn,
  ReducerEnvironment,
} from './conversation-state.js';

/** The result of one reduction. */
export interface Reduction {
  state: ConversationState;
  commands: ConversationCommand[];
}

/** A fresh conversation with no participants, no history and seq 0. */
export function createConversationState(
  conversationId: string,
  settings: ConversationSettings,
): ConversationState {
  return {
    conversationId,
    seq: 0,
    participants: [],
    history: [],
    activeTurn: null,
    pendingTurns: [],
    typingUsers: [],
    settings,
  };
}

/**
 * Applies one input to the conversation.
 *
 * @example
 * const { state, commands } = reduceConversation(state, { type: 'user.message', ... }, env);
 */
export function reduceConversation(
  previous: ConversationState,
  input: ConversationInput,
  environment: ReducerEnvironment,
): Reduction {
  const writer = new FrameWriter(previous, environment.now);
  const state = { ...previous };
  switch (input.type) {
    case 'participant.join': {
      state.participants = [...state.participants, input];
      writer.direct(input.connectionId, {
        type: 'welcome',
        protocol_version: PROTOCOL_VERSION,
        connection_id: input.connectionId,
        user_id: input.userId,
        participants: userIds(state.participants),
        active_turn_id: state.activeTurn?.turnId ?? null,
        limits: state.settings.welcomeLimits,
      });
      writer.broadcast(state.participants, {
        type: 'presence',
        status: 'joined',
        user_id: input.userId,
        connection_id: input.connectionId,
        participants: userIds(state.participants),
      });
      break;
    }
    case 'participant.leave': {
      const leaving = state.participants.find((p) => p.connectionId === input.connectionId);
      if (leaving === undefined) break;
      state.participants = state.participants.filter((p) => p !== leaving);
      writer.broadcast(state.participants, {
        type: 'presence',
        status: 'left',
        user_id: leaving.userId,
        connection_id: leaving.connectionId,
        participants: userIds(state.participants),
      });
      break;
    }
    case 'user.message': {
      if (!environment.poolHasRoom) {
        writer.error(input.connectionId, 'busy', 'user_message', {
          message: 'The agent is busy: too many turns are waiting. Try again shortly.',
        });
        break;
      }
      const turn: PendingTurn = {
        turnId: environment.nextId('turn'),
        userMessage: { role: 'user', content: input.content, userId: input.userId },
      };
      writer.commands.push({ type: 'reserve' });
      writer.broadcast(state.participants, {
        type: 'user_message',
        message_id: environment.nextId('message'),
        user_id: input.userId,
        content: input.content,
        turn_id: turn.turnId,
        ...(input.clientMessageId === undefined
          ? {}
          : { client_message_id: input.clientMessageId }),
      });
      if (state.activeTurn !== null && state.settings.overlapPolicy === 'interrupt') {
        endActiveTurn(state, writer, 'interrupted', { cancelledBy: input.userId });
      }
      if (state.activeTurn === null) startTurn(state, writer, turn, environment);
      else state.pendingTurns = [...state.pendingTurns, turn];
      break;
    }
    case 'user.typing': {
      const typing = state.typingUsers.includes(input.userId);
      // Only changes are broadcast: a client repeating "typing" costs no seq.
      if (typing === input.isTyping) break;
      state.typingUsers = input.isTyping
        ? [...state.typingUsers, input.userId]
        : state.typingUsers.filter((user) => user !== input.userId);
      writer.broadcast(state.participants, {
        type: 'typing_indicator',
        actor: 'user',
        user_id: input.userId,
        is_typing: input.isTyping,
      });
      break;
    }
    case 'user.cancel': {
      const pending = state.pendingTurns.find((turn) => turn.turnId === input.turnId);
      if (pending !== undefined) {
        state.pendingTurns = state.pendingTurns.filter((turn) => turn !== pending);
        writer.commands.push({ type: 'release' });
        writer.broadcast(
          state.participants,
          completion(pending, 'cancelled', { by: input.userId }),
        );
        break;
      }
      const active = state.activeTurn;
      if (active === null || (input.turnId !== undefined && input.turnId !== active.turnId)) {
        writer.error(input.connectionId, 'no_active_turn', 'cancel', {
          message:
            input.turnId === undefined
              ? 'There is no running turn to cancel.'
              : `Turn ${input.turnId} is not running or waiting.`,
        });
        break;
      }
      endActiveTurn(state, writer, 'cancelled', { cancelledBy: input.userId });
      startNextTurn(state, writer, environment);
      break;
    }
    case 'turn.started': {
      const active = state.activeTurn;
      if (active?.turnId !== input.turnId || active.phase !== 'waiting') break;
      state.activeTurn = { ...active, phase: 'thinking' };
      writer.broadcast(state.participants, {
        type: 'typing_indicator',
        actor: 'agent',
        turn_id: active.turnId,
        is_typing: true,
      });
      break;
    }
    case 'turn.event': {
      if (state.activeTurn?.turnId !== input.turnId) break; // a late event of an ended turn
      applyTurnEvent(state, writer, state.activeTurn, input.event, environment);
      break;
    }
    case 'turn.ended': {
      // Reached only when a turn's stream ended without its `finish` (a fault): close it.
      if (state.activeTurn?.turnId !== input.turnId) break;
      endActiveTurn(state, writer, 'failed', {
        error: {
          code: 'internal_error',
          message: `The turn ended unexpectedly (${input.outcome}).`,
        },
      });
      startNextTurn(state, writer, environment);
      break;
    }
    case 'conversation.shutdown': {
      for (const pending of state.pendingTurns) {
        writer.commands.push({ type: 'release' });
        writer.broadcast(state.participants, completion(pending, 'interrupted', {}));
      }
      state.pendingTurns = [];
      if (state.activeTurn !== null) endActiveTurn(state, writer, 'interrupted', {});
      break;
    }
  }
  state.seq = writer.seq;
  return { state, commands: writer.commands };
}

function applyTurnEvent(
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

interface EndDetails {
  cancelledBy?: string;
  steps?: number;
  error?: { code: string; message: string };
}

/** Broadcasts the active turn's completion, keeps its (partial) answer, stops its work. */
function endActiveTurn(
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

function startNextTurn(
  state: ConversationState,
  writer: FrameWriter,
  environment: ReducerEnvironment,
): void {
  const [next, ...rest] = state.pendingTurns;
  if (next === undefined || state.activeTurn !== null) return;
  state.pendingTurns = rest;
  startTurn(state, writer, next, environment);
}

function startTurn(
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

function completion(
  turn: PendingTurn,
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

function usageFrame(input: number, output: number) {
  return { input_tokens: input, output_tokens: output, total_tokens: input + output };
}

function userIds(participants: ConversationState['participants']): string[] {
  return [...new Set(participants.map((participant) => participant.userId))].sort();
}

/** Stamps frames with conversation id, seq and timestamp and queues their delivery. */
class FrameWriter {
  seq: number;
  readonly commands: ConversationCommand[] = [];

  constructor(
    private readonly state: ConversationState,
    private readonly now: number,
  ) {
    this.seq = state.seq;
  }

  /** A conversation event: takes the next seq and goes to every participant. */
  broadcast(participants: ConversationState['participants'], body: ConversationEventBody): void {
    this.seq += 1;
    const frame = { ...body, ...this.envelope() };
    this.deliver(
      participants.map((participant) => participant.connectionId),
      frame,
    );
  }

  /** A reply to one connection: repeats the current seq. */
  direct(connectionId: string, body: Record<string, unknown>): void {
    this.deliver([connectionId], { ...body, ...this.envelope() });
  }

  error(
    connectionId: string,
    code: string,
    inReplyTo: string,
    { message }: { message: string },
  ): void {
    this.direct(connectionId, { type: 'error', code, message, in_reply_to: inReplyTo });
  }

  private envelope() {
    return { conversation_id: this.state.conversationId, seq: this.seq, timestamp: this.now };
  }

  private deliver(recipients: string[], frame: Record<string, unknown>): void {
    if (recipients.length === 0) return;
    this.commands.push({ type: 'deliver', recipients, data: JSON.stringify(frame) });
  }
}
