/**
 * The conversation's single writer as a pure function: given the state and one input, it
 * returns the next state and the commands to run (frames to deliver, turns to submit or cancel).
 * It alone assigns `seq`, so every participant sees the same gapless numbering.
 */
import { PROTOCOL_VERSION } from '../src/protocol/frames.js';
import {
  applyTurnEvent,
  completion,
  endActiveTurn,
  startNextTurn,
  startTurn,
} from './conversation-turns.js';
import type {
  ConversationCommand,
  ConversationInput,
  ConversationSettings,
  ConversationState,
  PendingTurn,
  ReducerEnvironment,
} from './conversation-state.js';
import { FrameWriter, userIds } from './frame-writer.js';

/** The result of one reduction. */
export interface Reduction {
  state: ConversationState;
  commands: ConversationCommand[];
}

/** A fresh conversation with no participants, no history and seq 0. */
export function createConversationState(
  conversationId: string,
  settings: ConversationSettings,
  restored?: Pick<ConversationState, 'seq' | 'history' | 'unfinishedTurns'>,
): ConversationState {
  return {
    conversationId,
    seq: restored?.seq ?? 0,
    participants: [],
    history: restored?.history ?? [],
    activeTurn: null,
    pendingTurns: [],
    typingUsers: [],
    unfinishedTurns: restored?.unfinishedTurns ?? [],
    settings,
  };
}

/** Inputs that come from connections: the log records them, a replay feeds them back. */
const EXTERNAL_INPUTS = new Set<ConversationInput['type']>([
  'participant.join',
  'participant.leave',
  'user.message',
  'user.typing',
  'user.cancel',
]);

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
  if (EXTERNAL_INPUTS.has(input.type)) {
    writer.commands.push({ type: 'record', afterSeq: previous.seq, input });
  }
  switch (input.type) {
    case 'participant.join': {
      state.participants = [
        ...state.participants,
        { connectionId: input.connectionId, userId: input.userId },
      ];
      writer.direct(input.connectionId, {
        type: 'welcome',
        protocol_version: PROTOCOL_VERSION,
        connection_id: input.connectionId,
        user_id: input.userId,
        participants: userIds(state.participants),
        active_turn_id: state.activeTurn?.turnId ?? null,
        ...(input.since === undefined ? {} : { resumed_from: input.since }),
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
      const stillHere = state.participants.some((p) => p.userId === leaving.userId);
      // A socket that drops never sends "stopped typing": say it for the user, or the others
      // would see them typing forever (and a rejoin would be deduplicated away).
      if (!stillHere && state.typingUsers.includes(leaving.userId)) {
        state.typingUsers = state.typingUsers.filter((user) => user !== leaving.userId);
        writer.broadcast(state.participants, {
          type: 'typing_indicator',
          actor: 'user',
          user_id: leaving.userId,
          is_typing: false,
        });
      }
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
    case 'conversation.recover': {
      for (const turn of state.unfinishedTurns) {
        writer.broadcast(state.participants, {
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
