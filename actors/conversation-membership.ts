/**
 * The membership half of the conversation's named actions: members change through
 * `membership.change` events (from the HTTP API, through the engine), each one logged as an input
 * and broadcast as a `membership` frame, so restarts, replays and the inspector's timeline all
 * see it; and a viewer's writes are refused. The rules are in membership.ts.
 */
import type { ConversationAction } from './conversation-actions.js';
import type { Participant } from './conversation-state.js';
import { applyMemberChanges, roleOf } from './membership.js';

/**
 * Applies a membership change: the new member list, every participant whose access comes from
 * a role follows it, and every participant sees one `membership` frame. A participant whose
 * user is no longer a member is closed with 4403 once that frame has left.
 */
export const changeMembership: ConversationAction<'membership.change'> = (state, event, output) => {
  output.record(state.seq, event);
  state.members = applyMemberChanges(state.members, event.changes);
  const revoked: Participant[] = [];
  state.participants = state.participants.map((participant) => {
    if (participant.role === undefined) return participant;
    const role = roleOf(state.members, participant.userId);
    if (role === undefined) {
      revoked.push(participant);
      return participant;
    }
    return role === participant.role ? participant : { ...participant, role };
  });
  output.broadcast(state.participants, {
    type: 'membership',
    action: event.action,
    by: event.by,
    changes: event.changes.map((change) => ({ user_id: change.userId, role: change.role })),
    members: state.members.map((member) => ({ user_id: member.userId, role: member.role })),
  });
  for (const participant of revoked) {
    output.effect({
      type: 'closeConnection',
      params: {
        connectionId: participant.connectionId,
        code: 4403,
        reason: 'membership_revoked',
      },
    });
  }
};

/**
 * A read-only participant's `user_message` or `cancel` (a viewer, or a connection whose `post`
 * the `authorize` hook refused): an `error` frame `forbidden`, nothing else happens.
 */
export const refuseReadOnly: ConversationAction<'user.message' | 'user.cancel'> = (
  state,
  event,
  output,
) => {
  const frame = event.type === 'user.message' ? 'user_message' : 'cancel';
  const sender = state.participants.find((p) => p.connectionId === event.connectionId);
  output.error(
    event.connectionId,
    'forbidden',
    frame,
    sender?.readOnly === true
      ? `This connection may read the conversation but not post: you may not send ${frame}.`
      : `Your role in this conversation is viewer: you may read it, but not send ${frame}.`,
  );
};

/**
 * The conversation was deleted (its log is being erased): no frame, since nothing may be logged;
 * every participant is closed with 4404, the running turn is cancelled and queued ones give back
 * their places. The machine then stops.
 */
export const closeForDeletion: ConversationAction<'conversation.delete'> = (
  state,
  _event,
  output,
) => {
  if (state.activeTurn !== null) {
    output.effect({ type: 'cancelTurn', params: { turnId: state.activeTurn.turnId } });
  }
  for (const pending of state.pendingTurns) {
    output.effect({ type: 'releaseTurnSlot', params: { userId: pending.userMessage.userId } });
  }
  for (const participant of state.participants) {
    output.effect({
      type: 'closeConnection',
      params: {
        connectionId: participant.connectionId,
        code: 4404,
        reason: 'conversation_deleted',
      },
    });
  }
  state.pendingTurns = [];
  state.activeTurn = null;
};
