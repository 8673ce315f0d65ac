/**
 * The conversation's data and the commands its reducer asks the runtime to carry out.
 *
 * The reducer (conversation-reducer.ts) is pure: it returns the next state and a list of
 * commands as data. The machine executes them in one action, so every effect of the single
 * writer is visible, ordered and replayable.
 */
import type { ModelMessage, ModelUsage } from '../src/agent/model.js';
import type { TurnEvent } from '../src/agent/turn-event.js';
import type { TurnStatus, WelcomeFrame } from '../src/protocol/frames.js';

/** One connected participant. */
export interface Participant {
  connectionId: string;
  userId: string;
}

/** A turn accepted but not yet handed to the worker pool (another turn is running). */
export interface PendingTurn {
  turnId: string;
  /** The user message that started the turn, as the model will see it. */
  userMessage: Extract<ModelMessage, { role: 'user' }>;
}

/** What the agent is doing in the active turn. */
export type TurnPhase = 'waiting' | 'thinking' | 'calling_tool' | 'streaming';

/** The turn submitted to the worker pool (waiting for a slot or running). */
export interface ActiveTurn extends PendingTurn {
  agentMessageId: string;
  phase: TurnPhase;
  text: string;
  chunkIndex: number;
  usage: ModelUsage;
  toolsInFlight: number;
}

/** Limits and settings of one conversation. */
export interface ConversationSettings {
  /** @default 100 */
  maxParticipants: number;
  /** Model context kept in memory. @default 200 */
  historyMessages: number;
  /** @default 'queue' */
  overlapPolicy: 'queue' | 'interrupt';
  /** Sent in `welcome` so clients know the limits. */
  welcomeLimits: WelcomeFrame['limits'];
}

/** The conversation's state: everything its single writer decides on. */
export interface ConversationState {
  conversationId: string;
  /** The last seq given out; the next event gets seq + 1. */
  seq: number;
  participants: Participant[];
  history: ModelMessage[];
  activeTurn: ActiveTurn | null;
  pendingTurns: PendingTurn[];
  typingUsers: string[];
  /** Turns that were running or waiting when the process stopped (restored from the log). */
  unfinishedTurns: UnfinishedTurn[];
  settings: ConversationSettings;
}

/** A turn found without its completion when a conversation is restored from its log. */
export interface UnfinishedTurn {
  turnId: string;
  /** The agent message id of its chunks, if any were sent. */
  agentMessageId: string | null;
  /** The text streamed before the stop. */
  text: string;
}

/** An effect the reducer asks for; the machine runs them in order. */
export type ConversationCommand =
  | {
      type: 'deliver';
      recipients: string[];
      /** The frame serialized once, sent as is to every recipient. */
      data: string;
      frame: Record<string, unknown> & { type: string };
      seq: number;
      /** Set for a reply to one connection (it repeats the current seq). */
      to?: string;
    }
  /** Record an input from a connection in the log, with the seq it arrived after. */
  | { type: 'record'; afterSeq: number; input: ConversationInput }
  | { type: 'reserve' }
  | { type: 'release' }
  | { type: 'submit'; turnId: string; messages: ModelMessage[] }
  | { type: 'cancel'; turnId: string };

/** Everything that can happen to a conversation, from connections and from its turns. */
export type ConversationInput =
  | { type: 'participant.join'; connectionId: string; userId: string; since?: number }
  | { type: 'participant.leave'; connectionId: string }
  | {
      type: 'user.message';
      connectionId: string;
      userId: string;
      content: string;
      clientMessageId?: string;
    }
  | { type: 'user.typing'; connectionId: string; userId: string; isTyping: boolean }
  | { type: 'user.cancel'; connectionId: string; userId: string; turnId?: string }
  | { type: 'turn.started'; turnId: string }
  | { type: 'turn.event'; turnId: string; event: TurnEvent }
  | { type: 'turn.ended'; turnId: string; outcome: 'completed' | 'cancelled' | 'failed' }
  | { type: 'conversation.shutdown' }
  /** First input of a conversation restored from its log: closes the turns a restart cut off. */
  | { type: 'conversation.recover' };

/** What the reducer needs from outside: time and ids (injected, so replays match). */
export interface ReducerEnvironment {
  now: number;
  nextId: (prefix: 'turn' | 'message') => string;
  /** Whether the worker pool has room for one more waiting turn. */
  poolHasRoom: boolean;
}

/** How a turn ended, as the completion frame says it. */
export type CompletionStatus = TurnStatus;
