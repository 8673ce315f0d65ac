/**
 * A leave that a hibernated conversation takes without waking. When connections drop together
 * (a deploy, a network blip, the end of a class), each close used to wake its conversation: its
 * history read back from the log, an actor spawned, the leave taken, and, with the last
 * participant gone, the actor hibernating again at once. For one participant's presence frame.
 *
 * A leave reads and changes only what a hibernated conversation keeps (its seq, participants and
 * typing users; no history, no turn), so its shard takes it in place with the conversation's own
 * action (`removeParticipant`) and carries out the same effects through the conversation's
 * effects port: the input logged, then the frames published to those still there. The log is
 * the same as if the conversation had woken for it, so a replay (which runs the conversation
 * awake) makes the same frames with the same seqs.
 */
import { removeParticipant } from './conversation-actions.js';
import { Output, type ConversationEffectAction } from './conversation-output.js';
import type {
  ConversationEffects,
  ConversationEvent,
  HibernatedConversation,
} from './conversation-state.js';

/** The effects a leave can ask for: what the shard needs of a conversation it does not wake. */
export type HibernatedEffects = Pick<ConversationEffects, 'publish' | 'recordInput'>;

/** A leave, as a connection delivers it. */
export type LeaveEvent = Extract<ConversationEvent, { type: 'participant.leave' }>;

/**
 * The hibernated conversation after `event`, and the effects that leave asks for, in order (as
 * the awake conversation's `removeParticipant` would assign and run them).
 *
 * @example
 * const { conversation, effects } = leaveWhileHibernated(kept, { type: 'participant.leave', connectionId });
 */
export function leaveWhileHibernated(
  conversation: HibernatedConversation,
  event: LeaveEvent,
): { conversation: HibernatedConversation; effects: ConversationEffectAction[] } {
  const state = { ...conversation };
  const output = new Output(conversation);
  removeParticipant(state, event, output);
  state.seq = output.seq;
  return { conversation: state, effects: output.effects };
}

/**
 * Carries out a leave's effects through the conversation's port, as the machine's named effect
 * actions `recordInput` and `publish` do. A leave asks for nothing else; should the action ever
 * ask for more, this throws rather than leave it undone (the shard tests would say so).
 */
export function runLeaveEffects(
  effects: readonly ConversationEffectAction[],
  port: HibernatedEffects,
): void {
  for (const effect of effects) {
    if (effect.type === 'recordInput')
      port.recordInput(effect.params.afterSeq, effect.params.input);
    else if (effect.type === 'publish') port.publish(effect.params);
    else
      throw new Error(
        `A leave asked for ${effect.type}, which a hibernated conversation cannot do.`,
      );
  }
}

/** What a shard keeps of a hibernated conversation (`SleepingConversation`), as read here. */
interface Kept {
  conversation: HibernatedConversation;
  waiting: readonly ConversationEvent[];
}

/** Whether `kept` takes `event` in place: a leave, with nothing waiting to wake it before. */
export function takesInPlace(kept: Kept, event: ConversationEvent): event is LeaveEvent {
  return event.type === 'participant.leave' && kept.waiting.length === 0;
}

/** Whether `kept` takes `event` in place, and is left with no participant. */
export function emptiesHibernated(kept: Kept | undefined, event: ConversationEvent): boolean {
  if (kept === undefined || !takesInPlace(kept, event)) return false;
  const { participants } = kept.conversation;
  return participants.length === 1 && participants[0]?.connectionId === event.connectionId;
}
