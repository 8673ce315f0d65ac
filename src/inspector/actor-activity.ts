/**
 * What a person debugging looks for first in the actor list: which conversations are doing
 * something, who is connected, and what the agent is writing right now. Shared by the engine
 * (the order of `list` pages) and the inspector page (the order of its tree), so both sort alike.
 */
import type { ConversationState } from '../../actors/conversation-state.js';
import type { ActorSummary, ConversationActivity } from './inspector-protocol.js';

/** How busy a conversation is: a turn runs, someone is connected, or nobody is there. */
export type ActivityRank = 0 | 1 | 2;

/**
 * A conversation's rank: 0 while a turn runs, 1 while someone is connected, 2 when idle
 * (idle ones fold away in the inspector). Other actors rank 0: they always show.
 *
 * @example
 * activityRank({ kind: 'conversation', activity: { participants: 0, turn_phase: null, … } }) // 2
 */
export function activityRank(summary: Pick<ActorSummary, 'kind' | 'activity'>): ActivityRank {
  if (summary.kind !== 'conversation') return 0;
  const activity = summary.activity;
  if (activity === null) return 2;
  if (activity.turn_phase !== null) return 0;
  return activity.participants > 0 ? 1 : 2;
}

/**
 * Orders conversations: busiest first (see {@link activityRank}), then by path, so the order
 * changes only when a conversation starts or stops doing something.
 *
 * @example
 * conversations.sort(compareConversations)
 */
export function compareConversations(
  a: Pick<ActorSummary, 'kind' | 'activity' | 'path'>,
  b: Pick<ActorSummary, 'kind' | 'activity' | 'path'>,
): number {
  return activityRank(a) - activityRank(b) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
}

/**
 * A conversation's activity from its snapshot: participants, the running turn's phase (its
 * `working` state), and the end of its answer so far (at most `maxChars` characters: the end is
 * what is being written).
 *
 * @example
 * conversationActivity(snapshot, 500) // { participants: 2, turn_phase: 'streaming', … }
 */
export function conversationActivity(
  snapshot: { context?: unknown; value?: unknown } | undefined,
  maxChars: number,
): ConversationActivity {
  const state = (snapshot?.context ?? {}) as Partial<
    Pick<ConversationState, 'participants' | 'activeTurn'>
  >;
  const value = snapshot?.value as { working?: unknown } | string | undefined;
  const phase =
    typeof value === 'object' && typeof value.working === 'string' ? value.working : null;
  const turn = state.activeTurn ?? null;
  const text = typeof turn?.text === 'string' ? turn.text : '';
  const offset = Math.max(0, text.length - maxChars);
  return {
    participants: Array.isArray(state.participants) ? state.participants.length : 0,
    turn_id: turn?.turnId ?? null,
    turn_phase: turn === null ? null : phase,
    answer: text.slice(offset),
    answer_offset: offset,
  };
}
