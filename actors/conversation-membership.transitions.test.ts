/**
 * Membership in the conversation machine, through XState's pure `transition()`: a change is
 * logged as an input and broadcast as one `membership` frame, participants follow their new role,
 * a removed member's connection is closed with 4403, and the writes of a viewer (or of a
 * connection the `authorize` hook made read-only) are refused.
 */
import { describe, expect, it } from 'vitest';
import { initialTransition, transition, type AnyMachineSnapshot } from 'xstate';
import type { ConversationEvent } from './conversation-state.js';
import { conversationMachine } from './conversation.machine.js';
import {
  NO_CONVERSATION_EFFECTS,
  TEST_CONVERSATION_SETTINGS,
} from '../test/support/conversation-settings.js';

interface Step {
  snapshot: AnyMachineSnapshot;
  actions: { type: string; params?: unknown }[];
}

function start(members: { userId: string; role: 'owner' | 'member' | 'viewer' }[]) {
  const [snapshot] = initialTransition(conversationMachine, {
    conversationId: 'demo',
    idSeed: 's',
    settings: TEST_CONVERSATION_SETTINGS,
    effects: NO_CONVERSATION_EFFECTS,
    idleMs: 60_000,
    restored: { seq: 1, history: [], unfinishedTurns: [], members },
  });
  let current: AnyMachineSnapshot = snapshot;
  return {
    apply(event: ConversationEvent): Step {
      const [next, actions] = transition(conversationMachine, current, event);
      current = next;
      return { snapshot: next, actions: actions };
    },
    get context() {
      return current.context as { members: unknown[]; participants: unknown[]; seq: number };
    },
  };
}

const published = (step: Step) =>
  step.actions
    .filter((action) => action.type === 'publish')
    .map((action) => (action.params as { body: { type: string } }).body);

describe('membership in the conversation machine', () => {
  it('logs a change as an input and broadcasts one membership frame with the whole list', () => {
    const conversation = start([{ userId: 'alice', role: 'owner' }]);
    conversation.apply({
      type: 'participant.join',
      connectionId: 'c1',
      userId: 'alice',
      role: 'owner',
    });
    const step = conversation.apply({
      type: 'membership.change',
      by: 'alice',
      action: 'added',
      changes: [{ userId: 'bob', role: 'viewer' }],
    });
    expect(step.actions.map((action) => action.type)).toEqual(['recordInput', 'publish']);
    expect(published(step)).toEqual([
      {
        type: 'membership',
        action: 'added',
        by: 'alice',
        changes: [{ user_id: 'bob', role: 'viewer' }],
        members: [
          { user_id: 'alice', role: 'owner' },
          { user_id: 'bob', role: 'viewer' },
        ],
      },
    ]);
    expect(conversation.context.seq).toBe(3);
  });

  it("refuses a viewer's message and cancel with forbidden, and lets a promoted one post", () => {
    const conversation = start([
      { userId: 'alice', role: 'owner' },
      { userId: 'bob', role: 'viewer' },
    ]);
    conversation.apply({
      type: 'participant.join',
      connectionId: 'c2',
      userId: 'bob',
      role: 'viewer',
    });
    const refused = conversation.apply({
      type: 'user.message',
      connectionId: 'c2',
      userId: 'bob',
      content: 'hi',
    });
    expect(published(refused)).toMatchObject([
      { type: 'error', code: 'forbidden', in_reply_to: 'user_message' },
    ]);
    expect(refused.snapshot.value).toEqual({ idle: 'occupied' });
    const cancel = conversation.apply({ type: 'user.cancel', connectionId: 'c2', userId: 'bob' });
    expect(published(cancel)).toMatchObject([{ type: 'error', code: 'forbidden' }]);
    const typing = conversation.apply({
      type: 'user.typing',
      connectionId: 'c2',
      userId: 'bob',
      isTyping: true,
    });
    expect(
      typing.actions.filter((action) => action.type === 'publish' || action.type === 'recordInput'),
    ).toEqual([]);

    conversation.apply({
      type: 'membership.change',
      by: 'alice',
      action: 'changed',
      changes: [{ userId: 'bob', role: 'member' }],
    });
    const accepted = conversation.apply({
      type: 'user.message',
      connectionId: 'c2',
      userId: 'bob',
      content: 'now?',
    });
    expect(accepted.snapshot.value).toEqual({ working: 'waiting' });
  });

  it('closes a removed member with 4403 after the frame, and leaves grants without a role alone', () => {
    const conversation = start([
      { userId: 'alice', role: 'owner' },
      { userId: 'bob', role: 'member' },
    ]);
    conversation.apply({
      type: 'participant.join',
      connectionId: 'c2',
      userId: 'bob',
      role: 'member',
    });
    // Bob's second socket came in through a claim: no role, not a member's grant.
    conversation.apply({ type: 'participant.join', connectionId: 'c3', userId: 'bob' });
    const step = conversation.apply({
      type: 'membership.change',
      by: 'alice',
      action: 'removed',
      changes: [{ userId: 'bob', role: null }],
    });
    expect(step.actions.map((action) => action.type)).toEqual([
      'recordInput',
      'publish',
      'closeConnection',
    ]);
    expect(step.actions[2]?.params).toEqual({
      connectionId: 'c2',
      code: 4403,
      reason: 'membership_revoked',
    });
    expect((step.actions[1]?.params as { recipients: string[] }).recipients).toEqual(['c2', 'c3']);
  });

  it('keeps a connection the authorize hook made read-only from writing, whatever its role becomes', () => {
    const conversation = start([
      { userId: 'alice', role: 'owner' },
      { userId: 'bob', role: 'member' },
    ]);
    conversation.apply({
      type: 'participant.join',
      connectionId: 'c2',
      userId: 'bob',
      role: 'member',
      readOnly: true,
    });
    conversation.apply({
      type: 'membership.change',
      by: 'alice',
      action: 'changed',
      changes: [{ userId: 'bob', role: 'owner' }],
    });
    const refused = conversation.apply({
      type: 'user.message',
      connectionId: 'c2',
      userId: 'bob',
      content: 'hi',
    });
    expect(published(refused)).toMatchObject([
      {
        type: 'error',
        code: 'forbidden',
        in_reply_to: 'user_message',
        message:
          'This connection may read the conversation but not post: you may not send user_message.',
      },
    ]);
    expect(refused.snapshot.value).toEqual({ idle: 'occupied' });
    expect(conversation.context.participants).toEqual([
      { connectionId: 'c2', userId: 'bob', role: 'owner', readOnly: true },
    ]);
  });

  it('joins with the role the members list has now, and refuses a role-bearing join of a removed member', () => {
    // A socket moved to another instance's engine carries the role it was admitted with.
    const conversation = start([
      { userId: 'alice', role: 'owner' },
      { userId: 'bob', role: 'viewer' },
    ]);
    conversation.apply({
      type: 'participant.join',
      connectionId: 'c1',
      userId: 'bob',
      role: 'member',
    });
    expect(conversation.context.participants).toEqual([
      { connectionId: 'c1', userId: 'bob', role: 'viewer' },
    ]);

    const refused = conversation.apply({
      type: 'participant.join',
      connectionId: 'c2',
      userId: 'mallory',
      role: 'member',
    });
    // Answered to the joining connection alone (the machine's sendTo), nothing published.
    expect(published(refused)).toEqual([]);
    expect(JSON.stringify(refused.actions)).toContain('"code":"membership_revoked"');
    expect(conversation.context.participants).toHaveLength(1);
  });
});
