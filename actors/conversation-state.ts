/**
 * Over 300 lines because it is the conversation's types in one place: context, events, recorded inputs and the effects port.
 *
 * The conversation actor's data, the events it takes, and the effects it asks for.
 *
 * The machine (conversation.machine.ts) decides with named guards over this data and its events;
 * its named actions (conversation-actions.ts) compute the next data and the effects as action
 * parameters, so XState's pure `transition(machine, snapshot, event)` returns every effect as data
 * and the actor runs them through {@link ConversationEffects}.
 */
import type { ErrorCode } from '../src/errors.js';
import type { ModelFinishReason, ModelMessage, ModelUsage } from '../src/agent/model.js';
import type { ApprovalVerdicts } from '../src/agent/run-turn.js';
import type { TurnContinuation } from '../src/agent/turn-event.js';
import type { ToolCallOutcome } from '../streams/run-tool-call.js';
import type { CloseCode } from '../src/errors.js';
import type { ConversationEventBody, TurnStatus, WelcomeFrame } from '../src/protocol/frames.js';
import type { Member, MemberChange, MembershipAction, Role } from './membership.js';

/** One connected participant. */
export interface Participant {
  connectionId: string;
  userId: string;
  /**
   * The member role the participant joined with, which follows membership changes (a removed
   * member is disconnected). Absent when access does not come from a role: `open` mode, or a
   * grant by JWT claim, admin or the application's `authorize` hook.
   */
  role?: Role;
  /**
   * Reads but may not post, whatever its role: the application's `authorize` hook refused
   * `post` at the upgrade. Unlike `role`, it holds for the connection's life.
   */
  readOnly?: true;
}

/** A turn accepted but not yet handed to the worker pool (another turn is running). */
export interface PendingTurn {
  turnId: string;
  /** The user message that started the turn, as the model will see it. */
  userMessage: Extract<ModelMessage, { role: 'user' }>;
}

/** The turn submitted to the worker pool (waiting for a slot or running). */
export interface ActiveTurn extends PendingTurn {
  agentMessageId: string;
  text: string;
  chunkIndex: number;
  usage: ModelUsage;
  toolsInFlight: number;
  /** Present while the turn waits for participants to approve some of its tool calls. */
  approval?: PendingApproval;
}

/** How one call that needed approval was decided. */
export interface ApprovalDecision {
  approved: boolean;
  /** The user who answered; absent when nobody did before the deadline. */
  by?: string;
  reason?: string;
  timedOut?: true;
}

/** One tool call of a paused turn that waits for a participant's approval. */
export interface ApprovalRequest {
  toolCallId: string;
  toolName: string;
  input: unknown;
  /** Set by the first valid answer (or the deadline). */
  decision?: ApprovalDecision;
}

/** A turn paused until participants answer its calls that need approval (`awaiting_approval`). */
export interface PendingApproval {
  /** What the turn goes on from once every request is decided. */
  continuation: TurnContinuation;
  requests: ApprovalRequest[];
  /** Epoch ms: a request still open then counts as denied. */
  deadline: number;
  /**
   * How long the deadline's timer waits once the conversation is in `awaiting_approval`: the
   * whole timeout, or what a restart left of it (the deadline keeps counting while it is down).
   */
  waitMs: number;
}

/** Limits and settings of one conversation. */
export interface ConversationSettings {
  /** @default 100 */
  maxParticipants: number;
  /** Model context kept in memory. @default 200 */
  historyMessages: number;
  /** @default 'queue' */
  overlapPolicy: 'queue' | 'interrupt';
  /** The agent that answers, as `welcome` names it. */
  agent?: { id: string; model: string };
  /** Sent in `welcome` so clients know the limits. */
  welcomeLimits: WelcomeFrame['limits'];
  /** How long a tool call waits for a participant's approval before it counts as denied. @default 300_000 */
  approvalTimeoutMs: number;
}

/** How many of a conversation's last user messages a resent `client_message_id` is checked against. */
export const RECENT_MESSAGES = 32;

/** One of a conversation's recent user messages: its seq, its sender and its client's id. */
export interface RecentMessage {
  seq: number;
  userId: string;
  clientMessageId?: string;
}

/** A turn found without its completion when a conversation is restored from its log. */
export interface UnfinishedTurn {
  turnId: string;
  /** The agent message id of its chunks, if any were sent. */
  agentMessageId: string | null;
  /** The text streamed before the stop. */
  text: string;
}

/** What a conversation reads back from its log when it existed before this actor. */
export type RestoredConversation = Pick<
  ConversationState,
  'seq' | 'history' | 'unfinishedTurns'
> & {
  /** The member list of its last `membership` frame; none when it has no members. */
  members?: Member[];
  /** Its last user messages, as a live conversation keeps them (`RECENT_MESSAGES`). */
  recentMessages?: RecentMessage[];
  /** The turn that was waiting for approvals when the process stopped: it waits on. */
  awaitingApproval?: ActiveTurn & { approval: PendingApproval };
};

/**
 * What a hibernated conversation keeps in memory (the root holds it): the part of its data the log
 * cannot give back. Its history is read back from the log when it wakes; a conversation
 * hibernates only with no turn running, queued or waiting, so nothing else is lost. The ids go on
 * from the same seed and counts, so a wake leaves no trace in the log and a replay (which never
 * hibernates) makes the same frames.
 */
export type HibernatedConversation = Pick<
  ConversationState,
  | 'conversationId'
  | 'seq'
  | 'idSeed'
  | 'turnsNamed'
  | 'messagesNamed'
  | 'participants'
  | 'typingUsers'
>;

/** The conversation's data: everything its single writer decides on. */
export interface ConversationState {
  conversationId: string;
  /** The last seq given out; the next event gets seq + 1. */
  seq: number;
  /** Seed of the conversation's ids (recorded in its log): `turn_<seed>_1`, `message_<seed>_1` … */
  idSeed: string;
  /** Ids given out so far, per prefix. */
  turnsNamed: number;
  messagesNamed: number;
  participants: Participant[];
  /** Who belongs to the conversation, from its `membership` events. */
  members: Member[];
  history: ModelMessage[];
  /**
   * The last {@link RECENT_MESSAGES} user messages (oldest first), for idempotent resends: a
   * `client_message_id` a user sends again within them is answered `duplicate_message`.
   */
  recentMessages: RecentMessage[];
  activeTurn: ActiveTurn | null;
  pendingTurns: PendingTurn[];
  typingUsers: string[];
  /** Turns that were running or waiting when the process stopped (restored from the log). */
  unfinishedTurns: UnfinishedTurn[];
  settings: ConversationSettings;
}

/**
 * A conversation frame to log and then send: an event (the next `seq`, to every participant) or a
 * reply to one connection (`to`; it repeats the current seq). The envelope (`conversation_id`,
 * `seq`, `timestamp`) is added by one function when it is sent (src/engine/stamp-frame.ts).
 */
export interface Publication {
  seq: number;
  recipients: string[];
  body: (ConversationEventBody | (Record<string, unknown> & { type: string })) & {
    type: string;
  };
  to?: string;
}

/** What the conversation answers a join with. */
export type JoinAnswer =
  | { type: 'conversation.joined' }
  | {
      type: 'conversation.rejected';
      code: 'conversation_full' | 'membership_revoked';
      message: string;
    };

/**
 * The effects a conversation asks for, injected so tests and replays control them. Each is one
 * named action of the machine; `transition()` returns them as data.
 */
export interface ConversationEffects {
  /** Logs a frame, then (once the log has it) sends it to its recipients. */
  publish(publication: Publication): void;
  /** Logs an input with the seq it arrived after (a replay delivers it at the same point). */
  recordInput(afterSeq: number, input: RecordedInput): void;
  /**
   * Whether the worker pool has a waiting place for one more turn. The world outside the
   * conversation decides this; the log records a refusal with the message, and a replay answers
   * from the recording.
   */
  hasTurnRoom(userId?: string): boolean;
  /** Takes a waiting place in the worker pool for an accepted message's turn, counted to its user. */
  reserveTurnSlot(userId: string): void;
  /** Gives back a waiting place whose turn will never run (cancelled or interrupted while queued). */
  releaseTurnSlot(userId: string): void;
  /** Runs the turn on the worker pool; its events come back through `send` as `turn.*` events. */
  submitTurn(turnId: string, messages: ModelMessage[], send: (event: TurnActorEvent) => void): void;
  /** Stops a waiting or running turn (its model request and tools are aborted). */
  cancelTurn(turnId: string): void;
  /**
   * Runs a turn that paused for approvals on from its continuation, as a new job of the worker
   * pool (it takes a waiting place even when the queue is full: the turn was admitted); its events
   * come back through `send`, starting with `turn.resumed`.
   */
  resumeTurn(
    turnId: string,
    continuation: TurnContinuation,
    verdicts: ApprovalVerdicts,
    send: (event: TurnActorEvent) => void,
  ): void;
  /** Closes one connection's socket once the frames published before are sent. */
  closeConnection(connectionId: string, code: CloseCode, reason: string): void;
}

/** What a running turn tells its conversation, one flat event per thing that happened. */
export type TurnActorEvent =
  /** A worker picked the turn up; `queued` when it had to wait for one (the pool was busy). */
  | { type: 'turn.started'; turnId: string; queued?: true }
  | { type: 'turn.text_delta'; turnId: string; delta: string }
  | { type: 'turn.tool_call'; turnId: string; toolCallId: string; toolName: string; input: unknown }
  | {
      type: 'turn.tool_result';
      turnId: string;
      toolCallId: string;
      toolName: string;
      outcome: ToolCallOutcome;
    }
  | { type: 'turn.usage'; turnId: string; usage: ModelUsage }
  /** A piece of a tool call's arguments as the model writes them (before its `turn.tool_call`). */
  | {
      type: 'turn.tool_input_delta';
      turnId: string;
      toolCallId: string;
      toolName: string;
      delta: string;
    }
  /** A piece of the model's reasoning (only for agents that show it). */
  | { type: 'turn.reasoning_delta'; turnId: string; delta: string }
  | {
      type: 'turn.finished';
      turnId: string;
      status: 'completed' | 'step_limit' | 'failed' | 'timed_out' | 'budget_exceeded';
      steps: number;
      error?: { code: ErrorCode; message: string };
      /** Why the last model call stopped, when the provider gave its own reason. */
      finishReason?: ModelFinishReason;
      rawFinishReason?: string;
    }
  /** The turn's stream ended without its `finish` (a fault, not a model error). */
  | { type: 'turn.failed'; turnId: string; reason: string }
  /** The turn's work stopped until participants approve some of its calls (`at`: epoch ms). */
  | { type: 'turn.awaiting_approval'; turnId: string; continuation: TurnContinuation; at: number }
  /** A worker picked up the continuation of a turn that waited for approvals (job `jobId`). */
  | { type: 'turn.resumed'; turnId: string; jobId: string; queued?: true };

/** Everything a connection can ask of a conversation; the log records each as an input. */
export type ConversationInput =
  | {
      type: 'participant.join';
      connectionId: string;
      userId: string;
      since?: number;
      /** The member role the connection was admitted with (see {@link Participant.role}). */
      role?: Role;
      /** See {@link Participant.readOnly}. */
      readOnly?: true;
    }
  /** Members added, changed or removed (`by`: the user who asked, or `admin`). */
  | { type: 'membership.change'; by: string; action: MembershipAction; changes: MemberChange[] }
  | { type: 'participant.leave'; connectionId: string }
  | {
      type: 'user.message';
      connectionId: string;
      userId: string;
      content: string;
      clientMessageId?: string;
      /**
       * Only in the log: `false` when the worker pool had no waiting place for the message's
       * turn (the conversation answered `busy`), so a replay decides the same.
       */
      admitted?: false;
    }
  | { type: 'user.typing'; connectionId: string; userId: string; isTyping: boolean }
  | { type: 'user.cancel'; connectionId: string; userId: string; turnId?: string }
  | {
      type: 'user.tool_approval';
      connectionId: string;
      userId: string;
      toolCallId: string;
      decision: 'approve' | 'deny';
      reason?: string;
    };

/**
 * What the log records as inputs: everything from connections, and the start of a turn that had
 * to wait for a worker (when is decided by the world outside: other conversations' turns).
 */
export type RecordedInput =
  | ConversationInput
  | { type: 'turn.started'; turnId: string }
  /** A paused turn's continuation that had to wait for a worker, as `turn.started` for a turn. */
  | { type: 'turn.resumed'; turnId: string; jobId: string };

/** Every event of the conversation actor. */
export type ConversationEvent =
  | ConversationInput
  | TurnActorEvent
  | { type: 'conversation.shutdown' }
  /** The conversation was deleted: its participants are closed with 4404 and it stops. */
  | { type: 'conversation.delete' }
  /** Raised on start by a conversation restored with a turn that waits for approvals. */
  | { type: 'approval.restored' }
  /** Raised on start by a conversation woken from hibernation with participants. */
  | { type: 'conversation.woken' };

/** How a turn ended, as the completion frame says it. */
export type CompletionStatus = TurnStatus;
