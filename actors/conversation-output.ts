/**
 * What one of the conversation's named actions produces: the data it changes and the effects it
 * asks for, in order. The machine turns an {@link Output} into one `assign` followed by one named
 * effect action each (`publish`, `recordInput`, …), so `transition()` returns them as data.
 */
import type { CloseCode, ErrorCode } from '../src/errors.js';
import type { ModelMessage } from '../src/agent/model.js';
import type { ApprovalVerdicts } from '../src/agent/run-turn.js';
import type { TurnContinuation } from '../src/agent/turn-event.js';
import type { ConversationEventBody } from '../src/protocol/frames.js';
import type {
  ConversationState,
  JoinAnswer,
  Participant,
  Publication,
  RecordedInput,
} from './conversation-state.js';

/** One effect, as the machine's named effect action of the same `type` takes it. */
export type ConversationEffectAction =
  | { type: 'publish'; params: Publication }
  | { type: 'recordInput'; params: { afterSeq: number; input: RecordedInput } }
  | { type: 'answerJoin'; params: { connectionId: string; answer: JoinAnswer } }
  /** `userId`: whose waiting turns it counts against (`PARLEY_USER_TURN_QUEUE`). */
  | { type: 'reserveTurnSlot'; params: { userId: string } }
  | { type: 'releaseTurnSlot'; params: { userId: string } }
  | { type: 'submitTurn'; params: { turnId: string; messages: ModelMessage[] } }
  | { type: 'cancelTurn'; params: { turnId: string } }
  | { type: 'closeConnection'; params: { connectionId: string; code: CloseCode; reason: string } }
  | {
      type: 'resumeTurn';
      params: { turnId: string; continuation: TurnContinuation; verdicts: ApprovalVerdicts };
    };

/**
 * Collects one action's changes. It alone hands out `seq`: each conversation event takes the
 * next one; a reply to one connection repeats the current one.
 *
 * @example
 * const output = new Output(context);
 * output.broadcast(context.participants, { type: 'presence', ... });
 * return output; // the machine assigns output.changes (with the new seq), then runs output.effects
 */
export class Output {
  seq: number;
  readonly effects: ConversationEffectAction[] = [];
  readonly changes: Partial<ConversationState> = {};

  constructor(context: Pick<ConversationState, 'seq'>) {
    this.seq = context.seq;
  }

  /** A conversation event: takes the next seq and goes to every participant. */
  broadcast(participants: readonly Participant[], body: ConversationEventBody): void {
    this.seq += 1;
    this.effects.push({
      type: 'publish',
      params: {
        seq: this.seq,
        recipients: participants.map((participant) => participant.connectionId),
        body,
      },
    });
  }

  /** A reply to one connection, logged with the conversation: repeats the current seq. */
  direct(connectionId: string, body: Record<string, unknown> & { type: string }): void {
    this.effects.push({
      type: 'publish',
      params: { seq: this.seq, recipients: [connectionId], body, to: connectionId },
    });
  }

  /** An `error` reply to one connection about something it asked. */
  error(
    connectionId: string,
    code: ErrorCode,
    inReplyTo: string,
    message: string,
    details?: Record<string, unknown>,
  ): void {
    this.direct(connectionId, {
      type: 'error',
      code,
      message,
      in_reply_to: inReplyTo,
      ...(details === undefined ? {} : { details }),
    });
  }

  record(afterSeq: number, input: RecordedInput): void {
    this.effects.push({ type: 'recordInput', params: { afterSeq, input } });
  }

  effect(effect: ConversationEffectAction): void {
    this.effects.push(effect);
  }
}

/** The usage object of a completion frame. */
export function usageFrame(
  input: number,
  output: number,
  cachedInput?: number,
  reasoning?: number,
) {
  return {
    input_tokens: input,
    output_tokens: output,
    total_tokens: input + output,
    ...(cachedInput === undefined ? {} : { cached_input_tokens: cachedInput }),
    ...(reasoning === undefined ? {} : { reasoning_tokens: reasoning }),
  };
}

/** Sorted, distinct user ids of the participants. */
export function userIds(participants: readonly Participant[]): string[] {
  return [...new Set(participants.map((participant) => participant.userId))].sort();
}
