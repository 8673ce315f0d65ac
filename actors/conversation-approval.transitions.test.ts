/**
 * Tool approval in the conversation machine, driven through XState's pure `transition()`: the
 * turn pauses in `working.awaiting_approval`, participants answer, the deadline denies what is
 * left, and the continuation is asked for as data (`resumeTurn`). Nothing runs.
 */
import { describe, expect, it } from 'vitest';
import { initialTransition, transition } from 'xstate';
import type { TurnContinuation } from '../src/agent/turn-event.js';
import type { ServerFrame } from '../src/protocol/frames.js';
import {
  NO_CONVERSATION_EFFECTS,
  TEST_CONVERSATION_SETTINGS,
} from '../test/support/conversation-settings.js';
import { mayApprove } from './approval-rules.js';
import type {
  ConversationEvent,
  Participant,
  Publication,
  RestoredConversation,
} from './conversation-state.js';
import { conversationMachine, type ConversationContext } from './conversation.machine.js';

const TIMEOUT_MS = TEST_CONVERSATION_SETTINGS.approvalTimeoutMs;
const PAUSED_AT = 1_700_000_000_000;

type Action = { type: string; params?: unknown };

/** What one step asked for: frames (with seq and recipients), other effects, the timer. */
interface Step {
  frames: (ServerFrame & { recipients: string[]; to?: string })[];
  effects: Action[];
  /** The delayed event the step scheduled, and its delay. */
  timer: { event: ConversationEvent; delay: number } | undefined;
}

function toStep(actions: readonly Action[]): Step {
  const step: Step = { frames: [], effects: [], timer: undefined };
  for (const action of actions) {
    if (action.type === 'publish') {
      const { body, seq, recipients, to } = action.params as Publication;
      step.frames.push({
        ...(body as ServerFrame),
        seq,
        recipients,
        ...(to === undefined ? {} : { to }),
      });
    } else if (action.type === 'xstate.raise') {
      const params = action.params as { event: ConversationEvent; delay?: number };
      if (params.delay !== undefined) step.timer = { event: params.event, delay: params.delay };
    } else if (action.type !== 'xstate.assign' && action.type !== 'xstate.cancel') {
      step.effects.push(
        action.params === undefined
          ? { type: action.type }
          : { type: action.type, params: action.params },
      );
    }
  }
  return step;
}

/** A conversation event by event, with fixed ids (`turn_s_1`…). */
function createConversation(restored?: RestoredConversation) {
  const [first, actions] = initialTransition(conversationMachine, {
    conversationId: 'demo',
    idSeed: 's',
    settings: TEST_CONVERSATION_SETTINGS,
    effects: NO_CONVERSATION_EFFECTS,
    idleMs: 60_000,
    ...(restored === undefined ? {} : { restored }),
  });
  let snapshot = first;
  return {
    initial: toStep(actions),
    get context(): ConversationContext {
      return snapshot.context;
    },
    get value(): unknown {
      return snapshot.value;
    },
    apply(event: ConversationEvent): Step {
      const [next, stepActions] = transition(conversationMachine, snapshot, event);
      snapshot = next;
      return toStep(stepActions);
    },
    /** Replaces the participants (to give them roles without joining). */
    withParticipants(participants: ConversationContext['participants']) {
      snapshot = conversationMachine.resolveState({
        value: snapshot.value,
        context: { ...this.context, participants },
      });
    },
  };
}

const mail = { toolCallId: 'call_mail', toolName: 'send_email', input: { to: 'board' } };
const wire = { toolCallId: 'call_wire', toolName: 'wire_money', input: { amount: 10 } };
const clock = { toolCallId: 'call_clock', toolName: 'datetime', input: {} };

function continuation(approvalNeeded = ['call_mail', 'call_wire']): TurnContinuation {
  return {
    messages: [{ role: 'user', content: 'Pay and mail', userId: 'alice' }],
    toolCalls: [mail, wire, clock],
    approvalNeeded,
    steps: 1,
  };
}

const answer = (
  connectionId: string,
  userId: string,
  toolCallId: string,
  decision: 'approve' | 'deny',
  reason?: string,
): ConversationEvent => ({
  type: 'user.tool_approval',
  connectionId,
  userId,
  toolCallId,
  decision,
  ...(reason === undefined ? {} : { reason }),
});

/** alice and bob in a conversation whose turn called three tools, two needing approval. */
function pausedConversation(approvalNeeded?: string[]) {
  const conversation = createConversation();
  conversation.apply({ type: 'participant.join', connectionId: 'c1', userId: 'alice' });
  conversation.apply({ type: 'participant.join', connectionId: 'c2', userId: 'bob' });
  conversation.apply({
    type: 'user.message',
    connectionId: 'c1',
    userId: 'alice',
    content: 'Pay and mail',
  });
  const turnId = conversation.context.activeTurn?.turnId ?? '';
  conversation.apply({ type: 'turn.started', turnId });
  for (const call of [mail, wire, clock]) {
    conversation.apply({ type: 'turn.tool_call', turnId, ...call });
  }
  const paused = continuation(approvalNeeded);
  const pause = conversation.apply({
    type: 'turn.awaiting_approval',
    turnId,
    continuation: paused,
    at: PAUSED_AT,
  });
  return { conversation, turnId, pause, paused };
}

describe('tool approval in the conversation machine', () => {
  it('pauses in working.awaiting_approval, stops the agent typing and asks everyone once per call that needs it', () => {
    const { conversation, turnId, pause } = pausedConversation();

    expect(conversation.value).toEqual({ working: 'awaiting_approval' });
    const seq = conversation.context.seq;
    expect(pause.frames).toEqual([
      {
        type: 'typing_indicator',
        actor: 'agent',
        turn_id: turnId,
        is_typing: false,
        seq: seq - 2,
        recipients: ['c1', 'c2'],
      },
      ...[mail, wire].map((call, index) => ({
        type: 'tool_approval_request',
        turn_id: turnId,
        tool_call_id: call.toolCallId,
        tool_name: call.toolName,
        arguments: call.input,
        deadline: PAUSED_AT + TIMEOUT_MS,
        timeout_ms: TIMEOUT_MS,
        seq: seq - 1 + index,
        recipients: ['c1', 'c2'],
      })),
    ]);
    // The job ended at the pause: nothing holds a worker, nothing is submitted yet.
    expect(pause.effects).toEqual([]);
    expect(pause.timer).toEqual({
      event: { type: 'xstate.after.approvalDeadline.conversation.working.awaiting_approval' },
      delay: TIMEOUT_MS,
    });
  });

  it('decides each call by its first answer, records it, and resumes with every verdict after the last', () => {
    const { conversation, turnId, paused } = pausedConversation();

    const first = conversation.apply(answer('c2', 'bob', 'call_mail', 'approve'));
    expect(conversation.value).toEqual({ working: 'awaiting_approval' });
    expect(first.effects).toEqual([
      {
        type: 'recordInput',
        params: {
          afterSeq: first.frames[0] === undefined ? -1 : first.frames[0].seq - 1,
          input: answer('c2', 'bob', 'call_mail', 'approve'),
        },
      },
    ]);
    expect(first.frames).toEqual([
      {
        type: 'tool_approval_decision',
        turn_id: turnId,
        tool_call_id: 'call_mail',
        tool_name: 'send_email',
        decision: 'approved',
        decided_by: 'bob',
        seq: conversation.context.seq,
        recipients: ['c1', 'c2'],
      },
    ]);

    const last = conversation.apply(answer('c1', 'alice', 'call_wire', 'deny', 'too much'));
    expect(conversation.value).toEqual({ working: 'resuming' });
    expect(last.frames.map((frame) => [frame.type, 'decision' in frame && frame.decision])).toEqual(
      [['tool_approval_decision', 'denied']],
    );
    expect(last.frames[0]).toMatchObject({ decided_by: 'alice', reason: 'too much' });
    expect(last.effects.at(-1)).toEqual({
      type: 'resumeTurn',
      params: {
        turnId,
        continuation: paused,
        verdicts: {
          call_mail: { approved: true },
          call_wire: { approved: false, reason: 'alice denied this call: too much' },
        },
      },
    });
    expect(conversation.context.activeTurn?.approval).toBeUndefined();
  });

  it('answers a second answer to a decided call with approval_not_pending, to its sender only and without a seq', () => {
    const { conversation } = pausedConversation();
    conversation.apply(answer('c2', 'bob', 'call_mail', 'approve'));
    const seq = conversation.context.seq;

    const late = conversation.apply(answer('c1', 'alice', 'call_mail', 'deny'));

    expect(conversation.context.seq).toBe(seq);
    expect(late.frames).toEqual([
      {
        type: 'error',
        code: 'approval_not_pending',
        message: 'Tool call call_mail is not waiting for approval.',
        in_reply_to: 'tool_approval',
        details: { tool_call_id: 'call_mail' },
        seq,
        recipients: ['c1'],
        to: 'c1',
      },
    ]);
    expect(late.effects.map((effect) => effect.type)).toEqual(['recordInput']);
    expect(conversation.context.activeTurn?.approval?.requests[0]?.decision).toEqual({
      approved: true,
      by: 'bob',
    });
  });

  it('refuses an answer from a viewer with approval_not_allowed, and lets a member decide', () => {
    const { conversation } = pausedConversation(['call_mail']);
    const withRoles: Participant[] = [
      { connectionId: 'c1', userId: 'alice', role: 'member' },
      { connectionId: 'c2', userId: 'bob', role: 'viewer' },
    ];
    conversation.withParticipants(withRoles);

    const refused = conversation.apply(answer('c2', 'bob', 'call_mail', 'approve'));
    expect(refused.frames).toMatchObject([
      { type: 'error', code: 'approval_not_allowed', to: 'c2' },
    ]);
    expect(conversation.value).toEqual({ working: 'awaiting_approval' });

    conversation.apply(answer('c1', 'alice', 'call_mail', 'approve'));
    expect(conversation.value).toEqual({ working: 'resuming' });
  });

  it('denies every call still open when the deadline fires, and resumes', () => {
    const { conversation, turnId, pause } = pausedConversation();
    conversation.apply(answer('c2', 'bob', 'call_mail', 'approve'));
    if (pause.timer === undefined) throw new Error('no deadline timer');

    const expired = conversation.apply(pause.timer.event);

    expect(conversation.value).toEqual({ working: 'resuming' });
    expect(expired.frames).toMatchObject([
      {
        type: 'tool_approval_decision',
        turn_id: turnId,
        tool_call_id: 'call_wire',
        decision: 'denied',
        timed_out: true,
      },
    ]);
    expect(expired.frames[0]).not.toHaveProperty('decided_by');
    expect(expired.effects.at(-1)).toMatchObject({
      type: 'resumeTurn',
      params: {
        verdicts: {
          call_mail: { approved: true },
          call_wire: {
            approved: false,
            reason: 'No participant answered before the deadline, so the call did not run.',
          },
        },
      },
    });
  });

  it('goes to calling_tool when a worker picks the continuation up, typing again, and records a start that waited', () => {
    const { conversation, turnId } = pausedConversation(['call_mail']);
    conversation.apply(answer('c2', 'bob', 'call_mail', 'approve'));

    const resumed = conversation.apply({
      type: 'turn.resumed',
      turnId,
      jobId: `${turnId}@1`,
      queued: true,
    });

    expect(conversation.value).toEqual({ working: 'calling_tool' });
    expect(resumed.effects[0]).toEqual({
      type: 'recordInput',
      params: {
        afterSeq: conversation.context.seq - 1,
        input: { type: 'turn.resumed', turnId, jobId: `${turnId}@1` },
      },
    });
    expect(resumed.frames).toMatchObject([
      { type: 'typing_indicator', actor: 'agent', is_typing: true },
    ]);
    // Three calls were announced before the pause; their results close the step.
    for (const call of [mail, wire]) {
      conversation.apply({
        type: 'turn.tool_result',
        turnId,
        ...call,
        outcome: { ok: true, output: {}, durationMs: 1 },
      });
    }
    expect(conversation.value).toEqual({ working: 'calling_tool' });
    conversation.apply({
      type: 'turn.tool_result',
      turnId,
      ...clock,
      outcome: { ok: true, output: {}, durationMs: 1 },
    });
    expect(conversation.value).toEqual({ working: 'thinking' });
  });

  it('cancels a waiting turn, keeping its text, after which answers find nothing pending', () => {
    const { conversation, turnId } = pausedConversation();

    const cancelled = conversation.apply({
      type: 'user.cancel',
      connectionId: 'c2',
      userId: 'bob',
    });

    expect(conversation.value).toEqual({ idle: 'occupied' });
    expect(cancelled.frames).toMatchObject([
      {
        type: 'agent_response_complete',
        turn_id: turnId,
        status: 'cancelled',
        cancelled_by: 'bob',
      },
    ]);
    const late = conversation.apply(answer('c1', 'alice', 'call_mail', 'approve'));
    expect(late.frames).toMatchObject([{ type: 'error', code: 'approval_not_pending' }]);
    expect(late.effects.map((effect) => effect.type)).toEqual(['recordInput']);
  });

  it('keeps a waiting turn at shutdown for the next process to restore, and interrupts the turns queued behind it', () => {
    const { conversation, turnId } = pausedConversation();
    conversation.apply({ type: 'user.message', connectionId: 'c2', userId: 'bob', content: 'Hi' });
    const queued = conversation.context.pendingTurns[0]?.turnId;

    const shutdown = conversation.apply({ type: 'conversation.shutdown' });

    expect(conversation.value).toEqual({ working: 'awaiting_approval' });
    expect(conversation.context.activeTurn?.turnId).toBe(turnId);
    expect(shutdown.frames).toMatchObject([
      { type: 'agent_response_complete', turn_id: queued, status: 'interrupted' },
    ]);
    expect(shutdown.effects).toEqual([{ type: 'releaseTurnSlot', params: { userId: 'bob' } }]);
  });

  it('answers approval_not_pending when no turn waits', () => {
    const conversation = createConversation();
    conversation.apply({ type: 'participant.join', connectionId: 'c1', userId: 'alice' });

    const refused = conversation.apply(answer('c1', 'alice', 'call_x', 'approve'));

    expect(refused.frames).toMatchObject([
      { type: 'error', code: 'approval_not_pending', to: 'c1' },
    ]);
  });

  it('starts a conversation restored with a waiting turn in awaiting_approval, its timer set to what is left', () => {
    const { conversation } = pausedConversation(['call_mail']);
    const turn = conversation.context.activeTurn;
    if (turn?.approval === undefined) throw new Error('not waiting');

    const restored = createConversation({
      seq: conversation.context.seq,
      history: [],
      unfinishedTurns: [],
      awaitingApproval: { ...turn, approval: { ...turn.approval, waitMs: 1_234 } },
    });

    expect(restored.value).toEqual({ working: 'awaiting_approval' });
    expect(restored.initial.timer?.delay).toBe(1_234);
    restored.apply({ type: 'participant.join', connectionId: 'c9', userId: 'carol' });
    restored.apply(answer('c9', 'carol', 'call_mail', 'approve'));
    expect(restored.value).toEqual({ working: 'resuming' });
  });
});

describe('mayApprove', () => {
  it('lets anyone approve without roles, owners and members with them, and nobody else', () => {
    const who = { connectionId: 'c1', userId: 'alice' };
    expect(mayApprove(who)).toBe(true);
    expect(mayApprove({ ...who, role: 'owner' })).toBe(true);
    expect(mayApprove({ ...who, role: 'member' })).toBe(true);
    expect(mayApprove({ ...who, role: 'viewer' })).toBe(false);
    expect(mayApprove(undefined)).toBe(false);
  });
});
