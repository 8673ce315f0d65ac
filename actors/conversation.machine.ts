/**
 * Over 300 lines because the statechart is one object: splitting it would hide transitions from
 * the reader (its actions and helpers already live in conversation-actions.ts and friends).
 *
 * The conversation actor: one per conversation, the single writer of its events. Its states say
 * what the conversation is doing (idle, empty or occupied; working on a turn: waiting for a
 * worker, thinking, calling a tool, streaming; ending a turn), and each transition is labelled by
 * the event that causes it, with named guards and named actions (conversation-actions.ts), so the
 * inspector's diagram explains its behaviour.
 *
 * Effects are named actions too (`publish`, `recordInput`, `submitTurn`, …), with everything they
 * need in their parameters: XState's pure `transition(machine, snapshot, event)` returns them as
 * data, and the running actor carries them out through its {@link ConversationEffects}.
 */
import {
  enqueueActions,
  sendParent,
  sendTo,
  setup,
  type ActorRefFrom,
  type AnyActorRef,
} from 'xstate';
import * as actions from './conversation-actions.js';
import type { ConversationAction } from './conversation-actions.js';
import * as approval from './conversation-approval.js';
import * as membership from './conversation-membership.js';
import { isLastOpenRequest, mayApprove, openRequest } from './approval-rules.js';
import { participantMayWrite, roleOf } from './membership.js';
import { Output, type ConversationEffectAction } from './conversation-output.js';
import type {
  ConversationEffects,
  ConversationEvent,
  ConversationSettings,
  ConversationState,
  HibernatedConversation,
  JoinAnswer,
  Publication,
  RestoredConversation,
} from './conversation-state.js';
import type { ModelMessage } from '../src/agent/model.js';
import { connectionKey } from './system-ids.js';
import { withTransitionLane } from './transition-lane.js';

export type * from './conversation-state.js';

/** Input of the conversation actor. */
export interface ConversationMachineInput {
  conversationId: string;
  /** Seed of the conversation's ids, recorded in its log so a replay makes the same ones. */
  idSeed: string;
  settings: ConversationSettings;
  effects: ConversationEffects;
  /** With no participants and no turn for this long, the conversation stops. @default 300_000 */
  idleMs: number;
  /**
   * With no turn for this long in the same idle state (`empty` or `occupied`), the conversation
   * hibernates: it hands its parent a {@link HibernatedConversation} and ends. 0: never.
   * @default 0
   */
  hibernateAfterMs?: number;
  /**
   * How long a conversation with no participant and no turn waits before it hibernates, when
   * hibernation is on (`hibernateAfterMs` > 0); 0: at once. Nobody is there to serve, and the
   * next join wakes it from the log as a restart would. @default hibernateAfterMs
   */
  emptyHibernateAfterMs?: number;
  /** State read back from the log when the conversation existed before this actor. */
  restored?: RestoredConversation | undefined;
  /** What this conversation kept when it hibernated: it wakes with it (and the log's history). */
  awoken?: HibernatedConversation | undefined;
}

/** The actor's context: its data, plus what it needs to carry out effects and to stop. */
export interface ConversationContext extends ConversationState {
  effects: ConversationEffects;
  idleMs: number;
  hibernateAfterMs: number;
  emptyHibernateAfterMs: number;
}

/** Whether an empty conversation hibernates before its idle stop (which its one timer decides). */
const hibernatesBeforeIdle = (context: ConversationContext) =>
  context.hibernateAfterMs > 0 && context.emptyHibernateAfterMs < context.idleMs;

/** The conversation machine's effects, guards and delays. */
const conversationSetup = setup({
  types: {
    context: {} as ConversationContext,
    events: {} as ConversationEvent,
    input: {} as ConversationMachineInput,
  },
  actions: {
    // Effects, carried out by the running actor (returned as data by `transition()`).
    publish: ({ context }, params: Publication) => {
      context.effects.publish(params);
    },
    recordInput: (
      { context },
      params: Extract<ConversationEffectAction, { type: 'recordInput' }>['params'],
    ) => {
      context.effects.recordInput(params.afterSeq, params.input);
    },
    // Sent by XState after this step, as every event between actors is.
    answerJoin: sendTo(
      ({ system }, params: { connectionId: string; answer: JoinAnswer }) =>
        system.get(connectionKey(params.connectionId)) as AnyActorRef,
      (_, params: { connectionId: string; answer: JoinAnswer }) => params.answer,
    ),
    reserveTurnSlot: ({ context }, params: { userId: string }) => {
      context.effects.reserveTurnSlot(params.userId);
    },
    releaseTurnSlot: ({ context }, params: { userId: string }) => {
      context.effects.releaseTurnSlot(params.userId);
    },
    submitTurn: ({ context, self }, params: { turnId: string; messages: ModelMessage[] }) => {
      context.effects.submitTurn(params.turnId, params.messages, (event) => {
        self.send(event);
      });
    },
    cancelTurn: ({ context }, params: { turnId: string }) => {
      context.effects.cancelTurn(params.turnId);
    },
    resumeTurn: (
      { context, self },
      params: Extract<ConversationEffectAction, { type: 'resumeTurn' }>['params'],
    ) => {
      context.effects.resumeTurn(params.turnId, params.continuation, params.verdicts, (event) => {
        self.send(event);
      });
    },
    closeConnection: (
      { context },
      params: Extract<ConversationEffectAction, { type: 'closeConnection' }>['params'],
    ) => {
      context.effects.closeConnection(params.connectionId, params.code, params.reason);
    },
    notifyStopped: sendParent(({ context }) => ({
      type: 'conversation.stopped',
      conversationId: context.conversationId,
    })),
    notifyHibernated: sendParent(({ context }) => ({
      type: 'conversation.hibernated',
      conversation: {
        conversationId: context.conversationId,
        seq: context.seq,
        idSeed: context.idSeed,
        turnsNamed: context.turnsNamed,
        messagesNamed: context.messagesNamed,
        participants: context.participants,
        typingUsers: context.typingUsers,
      } satisfies HibernatedConversation,
    })),
  },
  guards: {
    isFull: ({ context }) => context.participants.length >= context.settings.maxParticipants,
    /** A join with a role by a user the members list no longer has. */
    isRevoked: ({ context, event }) =>
      event.type === 'participant.join' &&
      event.role !== undefined &&
      context.members.length > 0 &&
      roleOf(context.members, event.userId) === undefined,
    isLastParticipant: ({ context, event }) =>
      event.type === 'participant.leave' &&
      context.participants.length === 1 &&
      context.participants[0]?.connectionId === event.connectionId,
    /**
     * The worker pool has no waiting place for a new turn, or not for one more of this user's
     * (read through the effects port).
     */
    hasNoTurnRoom: ({ context, event }) =>
      !context.effects.hasTurnRoom(event.type === 'user.message' ? event.userId : undefined),
    interruptsRunningTurn: ({ context }) => context.settings.overlapPolicy === 'interrupt',
    cancelsPendingTurn: ({ context, event }) =>
      event.type === 'user.cancel' &&
      event.turnId !== undefined &&
      context.pendingTurns.some((turn) => turn.turnId === event.turnId),
    cancelsActiveTurn: ({ context, event }) =>
      event.type === 'user.cancel' &&
      context.activeTurn !== null &&
      (event.turnId === undefined || event.turnId === context.activeTurn.turnId),
    isActiveTurn: ({ context, event }) =>
      'turnId' in event && event.turnId === context.activeTurn?.turnId,
    endsLastToolCall: ({ context, event }) =>
      event.type === 'turn.tool_result' &&
      event.turnId === context.activeTurn?.turnId &&
      context.activeTurn.toolsInFlight <= 1,
    hasPendingTurn: ({ context }) => context.pendingTurns.length > 0,
    /** The answering participant's role may not approve (see `mayApprove`). */
    mayNotApprove: ({ context, event }) =>
      event.type === 'user.tool_approval' &&
      !mayApprove(context.participants.find((p) => p.connectionId === event.connectionId)),
    isNotPendingApproval: ({ context, event }) =>
      event.type === 'user.tool_approval' &&
      openRequest(context.activeTurn, event.toolCallId) === undefined,
    decidesLastApproval: ({ context, event }) =>
      event.type === 'user.tool_approval' &&
      isLastOpenRequest(context.activeTurn, event.toolCallId),
    hasParticipants: ({ context }) => context.participants.length > 0,
    /** A resend: the user's `client_message_id` is among the recent messages. */
    isDuplicate: ({ context, event }) =>
      event.type === 'user.message' && actions.findRecentMessage(context, event) !== undefined,
    /** The sender may only read (a viewer, or read-only by the hook; see `participantMayWrite`). */
    isReadOnly: ({ context, event }) =>
      'connectionId' in event &&
      !participantMayWrite(
        context.participants.find((p) => p.connectionId === event.connectionId) ?? {},
      ),
    hibernates: ({ context }) => context.hibernateAfterMs > 0,
    /** An empty conversation hibernates first, then its record is forgotten after `idleMs`. */
    hibernatesBeforeIdle: ({ context }) => hibernatesBeforeIdle(context),
  },
  delays: {
    // One timer for an empty conversation, not two (each costs ~0.75 KiB of heap).
    empty: ({ context }) =>
      hibernatesBeforeIdle(context) ? context.emptyHibernateAfterMs : context.idleMs,
    // Hibernation off: the timer still runs (XState has no conditional `after`), as long as the
    // idle stop's, and its guard declines; a replay's idle time keeps it out of the way.
    hibernateAfter: ({ context }) => context.hibernateAfterMs || context.idleMs,
    approvalDeadline: ({ context }) => context.activeTurn?.approval?.waitMs ?? 0,
  },
});

/** Runs a named action on a copy of the context; assigns the copy, then enqueues its effects. */
function decide<TEvent extends ConversationEvent['type']>(action: ConversationAction<TEvent>) {
  return conversationSetup.createAction(
    enqueueActions(({ context, event, enqueue }) => {
      const state = { ...context };
      const output = new Output(context);
      action(state, event as Extract<ConversationEvent, { type: TEvent }>, output);
      state.seq = output.seq;
      enqueue.assign(state);
      for (const effect of output.effects) enqueue(effect);
    }),
  );
}

/** A conversation restored with a turn that waits for approvals goes back to waiting. */
const restoreAwaitedTurn = conversationSetup.createAction(
  enqueueActions(({ context, enqueue }) => {
    if (context.activeTurn?.approval !== undefined) enqueue.raise({ type: 'approval.restored' });
  }),
);

/** A conversation woken from hibernation with participants goes back to `occupied`. */
const restoreParticipants = conversationSetup.createAction(
  enqueueActions(({ context, enqueue }) => {
    if (context.participants.length > 0) enqueue.raise({ type: 'conversation.woken' });
  }),
);

/**
 * The hot path, one per token: the next seq and the turn's text, then its one frame (`publish`
 * with params read from the context the assign just made). Two plain actions, not
 * `enqueueActions`, which builds its queue and resolves it a second time for every token.
 */
function nextDeltaContext(
  context: ConversationContext,
  event: ConversationEvent,
): Partial<ConversationContext> {
  const active = context.activeTurn;
  if (event.type !== 'turn.text_delta' || active === null) return {};
  return {
    seq: context.seq + 1,
    activeTurn: { ...active, text: active.text + event.delta, chunkIndex: active.chunkIndex + 1 },
  };
}

const advanceDelta = conversationSetup.assign(({ context, event }) =>
  nextDeltaContext(context, event),
);

/** The frame of the token `advanceDelta` just counted. */
const deltaPublication = ({
  context,
  event,
}: {
  context: ConversationContext;
  event: ConversationEvent;
}): Publication => {
  const active = context.activeTurn;
  return {
    seq: context.seq,
    recipients: context.participants.map((participant) => participant.connectionId),
    body: actions.chunkBody(
      active?.turnId ?? '',
      active?.agentMessageId ?? '',
      (active?.chunkIndex ?? 1) - 1,
      event.type === 'turn.text_delta' ? event.delta : '',
    ),
  };
};

const STREAM_DELTA = ['advanceDelta', { type: 'publish', params: deltaPublication }] as const;

/** The conversation's statechart, as XState's interpreter runs it. */
const interpretedMachine = conversationSetup
  .extend({
    actions: {
      addParticipant: decide(actions.addParticipant),
      rejectParticipant: decide(actions.rejectParticipant),
      rejectRevoked: decide(actions.rejectRevoked),
      removeParticipant: decide(actions.removeParticipant),
      changeTyping: decide(actions.changeTyping),
      acceptMessage: decide(actions.acceptMessage),
      refuseBusy: decide(actions.refuseBusy),
      refuseDuplicate: decide(actions.refuseDuplicate),
      refuseReadOnly: decide(membership.refuseReadOnly),
      changeMembership: decide(membership.changeMembership),
      closeForDeletion: decide(membership.closeForDeletion),
      interruptActiveTurn: decide(actions.interruptActiveTurn),
      startNextTurn: decide(actions.startNextTurn),
      cancelPendingTurn: decide(actions.cancelPendingTurn),
      cancelActiveTurn: decide(actions.cancelActiveTurn),
      refuseCancel: decide(actions.refuseCancel),
      announceAgentTyping: decide(actions.announceAgentTyping),
      announceToolCall: decide(actions.announceToolCall),
      reportToolResult: decide(actions.reportToolResult),
      addUsage: decide(actions.sumUsage),
      streamToolInput: decide(actions.streamToolInput),
      streamReasoning: decide(actions.streamReasoning),
      completeTurn: decide(actions.completeTurn),
      failTurn: decide(actions.failTurn),
      interruptAllTurns: decide(actions.interruptAllTurns),
      interruptUnfinishedTurns: decide(actions.interruptUnfinishedTurns),
      advanceDelta,
      requestApproval: decide(approval.requestApproval),
      decideApproval: decide(approval.decideApproval),
      expireApprovals: decide(approval.expireApprovals),
      resumeAfterApproval: decide(approval.resumeAfterApproval),
      announceResumed: decide(approval.announceResumed),
      refuseApproval: decide(approval.refuseApproval),
      refuseApprover: decide(approval.refuseApprover),
      interruptQueuedTurns: decide(approval.interruptQueuedTurns),
      restoreAwaitedTurn,
      restoreParticipants,
    },
  })
  .createMachine({
    id: 'conversation',
    // A woken conversation was idle when it hibernated: no turn to restore, only its history.
    context: ({ input: { awoken, restored, ...input } }) => ({
      conversationId: input.conversationId,
      seq: awoken?.seq ?? restored?.seq ?? 0,
      idSeed: awoken?.idSeed ?? input.idSeed,
      turnsNamed: awoken?.turnsNamed ?? 0,
      messagesNamed: awoken?.messagesNamed ?? 0,
      participants: awoken?.participants ?? [],
      members: restored?.members ?? [],
      history: restored?.history ?? [],
      recentMessages: restored?.recentMessages ?? [],
      activeTurn: awoken === undefined ? (restored?.awaitingApproval ?? null) : null,
      pendingTurns: [],
      typingUsers: awoken?.typingUsers ?? [],
      unfinishedTurns: awoken === undefined ? (restored?.unfinishedTurns ?? []) : [],
      settings: input.settings,
      effects: input.effects,
      idleMs: input.idleMs,
      hibernateAfterMs: input.hibernateAfterMs ?? 0,
      emptyHibernateAfterMs: input.emptyHibernateAfterMs ?? input.hibernateAfterMs ?? 0,
    }),
    // A restored conversation first closes the turns the previous process left running; a turn it
    // left waiting for approvals waits on; one woken from hibernation has its participants back.
    entry: ['interruptUnfinishedTurns', 'restoreAwaitedTurn', 'restoreParticipants'],
    initial: 'idle',
    on: {
      'participant.join': [
        { guard: 'isRevoked', actions: 'rejectRevoked' },
        { guard: 'isFull', actions: 'rejectParticipant' },
        { actions: 'addParticipant' },
      ],
      'participant.leave': { actions: 'removeParticipant' },
      // A viewer's typing is not news for anyone: dropped without an answer.
      'user.typing': [{ guard: 'isReadOnly' }, { actions: 'changeTyping' }],
      'membership.change': { actions: 'changeMembership' },
      'conversation.delete': { target: '#conversation.stopped', actions: 'closeForDeletion' },
    },
    states: {
      idle: {
        initial: 'empty',
        on: {
          'user.message': [
            { guard: 'isReadOnly', actions: 'refuseReadOnly' },
            { guard: 'isDuplicate', actions: 'refuseDuplicate' },
            { guard: 'hasNoTurnRoom', actions: 'refuseBusy' },
            { target: 'working', actions: ['acceptMessage', 'startNextTurn'] },
          ],
          'user.cancel': [
            { guard: 'isReadOnly', actions: 'refuseReadOnly' },
            { actions: 'refuseCancel' },
          ],
          'user.tool_approval': { actions: 'refuseApproval' },
          'approval.restored': { target: '#conversation.working.awaiting_approval' },
        },
        states: {
          empty: {
            on: {
              // Raised on start by a conversation woken from hibernation with participants.
              'conversation.woken': { target: 'occupied' },
              'participant.join': [
                { guard: 'isRevoked', actions: 'rejectRevoked' },
                { guard: 'isFull', actions: 'rejectParticipant' },
                { target: 'occupied', actions: 'addParticipant' },
              ],
            },
            after: {
              empty: [
                { guard: 'hibernatesBeforeIdle', target: '#conversation.hibernated' },
                { target: '#conversation.stopped' },
              ],
            },
          },
          occupied: {
            // Each event from a participant starts the quiet time again (`reenter`).
            on: {
              'participant.join': [
                { guard: 'isRevoked', actions: 'rejectRevoked' },
                { guard: 'isFull', actions: 'rejectParticipant' },
                { target: 'occupied', reenter: true, actions: 'addParticipant' },
              ],
              'participant.leave': [
                { guard: 'isLastParticipant', target: 'empty', actions: 'removeParticipant' },
                { target: 'occupied', reenter: true, actions: 'removeParticipant' },
              ],
              'user.typing': [
                { guard: 'isReadOnly' },
                { target: 'occupied', reenter: true, actions: 'changeTyping' },
              ],
            },
            after: {
              hibernateAfter: { guard: 'hibernates', target: '#conversation.hibernated' },
            },
          },
        },
      },
      working: {
        initial: 'waiting',
        on: {
          'user.message': [
            { guard: 'isReadOnly', actions: 'refuseReadOnly' },
            { guard: 'isDuplicate', actions: 'refuseDuplicate' },
            { guard: 'hasNoTurnRoom', actions: 'refuseBusy' },
            {
              guard: 'interruptsRunningTurn',
              target: 'ending',
              actions: ['acceptMessage', 'interruptActiveTurn'],
            },
            { actions: 'acceptMessage' },
          ],
          'user.cancel': [
            { guard: 'isReadOnly', actions: 'refuseReadOnly' },
            { guard: 'cancelsPendingTurn', actions: 'cancelPendingTurn' },
            { guard: 'cancelsActiveTurn', target: 'ending', actions: 'cancelActiveTurn' },
            { actions: 'refuseCancel' },
          ],
          'turn.text_delta': {
            guard: 'isActiveTurn',
            target: '.streaming',
            actions: STREAM_DELTA,
          },
          'turn.tool_call': {
            guard: 'isActiveTurn',
            target: '.calling_tool',
            actions: 'announceToolCall',
          },
          'turn.tool_result': [
            { guard: 'endsLastToolCall', target: '.thinking', actions: 'reportToolResult' },
            { guard: 'isActiveTurn', target: '.calling_tool', actions: 'reportToolResult' },
          ],
          'turn.usage': { guard: 'isActiveTurn', actions: 'addUsage' },
          'turn.tool_input_delta': { guard: 'isActiveTurn', actions: 'streamToolInput' },
          'turn.reasoning_delta': { guard: 'isActiveTurn', actions: 'streamReasoning' },
          'turn.finished': { guard: 'isActiveTurn', target: 'ending', actions: 'completeTurn' },
          'turn.failed': { guard: 'isActiveTurn', target: 'ending', actions: 'failTurn' },
          'conversation.shutdown': { target: 'ending', actions: 'interruptAllTurns' },
          'turn.awaiting_approval': {
            guard: 'isActiveTurn',
            target: '.awaiting_approval',
            actions: 'requestApproval',
          },
          'user.tool_approval': { actions: 'refuseApproval' },
        },
        states: {
          waiting: {
            on: {
              'turn.started': {
                guard: 'isActiveTurn',
                target: 'thinking',
                actions: 'announceAgentTyping',
              },
            },
          },
          thinking: {},
          calling_tool: {
            // Another call of the same step: no state change.
            on: { 'turn.tool_call': { guard: 'isActiveTurn', actions: 'announceToolCall' } },
          },
          // Each token: no state change, only its frame.
          streaming: {
            on: { 'turn.text_delta': { guard: 'isActiveTurn', actions: STREAM_DELTA } },
          },
          // The turn's job ended before calls that need approval: no worker is held while
          // participants answer. The last answer, or the deadline, submits its continuation.
          awaiting_approval: {
            after: {
              approvalDeadline: {
                target: 'resuming',
                actions: ['expireApprovals', 'resumeAfterApproval'],
              },
            },
            on: {
              'user.tool_approval': [
                { guard: 'mayNotApprove', actions: 'refuseApprover' },
                { guard: 'isNotPendingApproval', actions: 'refuseApproval' },
                {
                  guard: 'decidesLastApproval',
                  target: 'resuming',
                  actions: ['decideApproval', 'resumeAfterApproval'],
                },
                { actions: 'decideApproval' },
              ],
              // Nothing of the turn runs: it stays in the log for the next process to restore.
              'conversation.shutdown': { actions: 'interruptQueuedTurns' },
            },
          },
          // The continuation waits for a worker; it starts by finishing the paused step's calls.
          resuming: {
            on: {
              'turn.resumed': {
                guard: 'isActiveTurn',
                target: 'calling_tool',
                actions: 'announceResumed',
              },
            },
          },
        },
      },
      // A turn just ended: the next queued one starts, or the conversation goes idle.
      ending: {
        always: [
          { guard: 'hasPendingTurn', target: 'working', actions: 'startNextTurn' },
          { guard: 'hasParticipants', target: 'idle.occupied' },
          { target: 'idle.empty' },
        ],
      },
      // Ends the actor, which its parent stops when told; not `type: 'final'`, for the reason given
      // at the connection machine's `closed`: a done event per conversation id would stay memoized
      // in the root machine.
      stopped: { entry: 'notifyStopped' },
      // Ends the actor too; its parent keeps what it handed over and wakes it on the next event.
      hibernated: { entry: 'notifyHibernated' },
    },
  });

/**
 * The conversation machine.
 *
 * @example
 * spawnChild(conversationMachine, { systemId: 'conversation:demo', input })
 */
export const conversationMachine = withTransitionLane<
  typeof interpretedMachine,
  ConversationContext,
  Extract<ConversationEvent, { type: 'turn.text_delta' }>
>(interpretedMachine, {
  // Each token takes this lane (actors/transition-lane.ts): the same step, without the
  // interpreter's allocations.
  stateId: 'conversation.working.streaming',
  eventType: 'turn.text_delta',
  guard: {
    type: 'isActiveTurn',
    test: (context, event) => event.turnId === context.activeTurn?.turnId,
  },
  assign: { type: 'advanceDelta', update: nextDeltaContext },
  action: { type: 'publish', params: (context, event) => deltaPublication({ context, event }) },
});

/** A running conversation actor. */
export type ConversationActorRef = ActorRefFrom<typeof conversationMachine>;
