/**
 * The conversation actor: one per conversation, the single writer of its events. Its states show
 * what the agent is doing (idle → waiting → thinking → calling_tool → streaming → idle); its
 * decisions come from the pure reducer, and its effects run as commands in one action.
 */
import { tap, type Observable } from 'rxjs';
import {
  assign,
  enqueueActions,
  sendParent,
  sendTo,
  setup,
  type ActorRefFrom,
  type AnyActorRef,
} from 'xstate';
import type { ModelMessage } from '../src/agent/model.js';
import type { TurnEvent } from '../src/agent/turn-event.js';
import type { WorkerPool } from '../streams/worker-pool.js';
import { createConversationState, reduceConversation } from './conversation-reducer.js';
import type {
  ConversationCommand,
  ConversationInput,
  ConversationSettings,
  ConversationState,
  TurnPhase,
} from './conversation-state.js';

/** The effects a conversation needs, injected so tests and replays control them. */
export interface ConversationEffects {
  now(): number;
  nextId(prefix: 'turn' | 'message'): string;
  /** Logs a frame, then (once the log has it) sends it to its recipients. */
  deliver(delivery: Extract<ConversationCommand, { type: 'deliver' }>): void;
  /** Logs an input from a connection with the seq it arrived after. */
  record(afterSeq: number, input: ConversationInput): void;
  pool: Pick<WorkerPool, 'reserve' | 'release' | 'submit' | 'cancel' | 'waiting' | 'maxWaiting'>;
  /** Runs the agent over the messages; must emit exactly one `finish` event last. */
  runTurn(messages: ModelMessage[], turnId: string): Observable<TurnEvent>;
}

/** Input of the conversation actor. */
export interface ConversationMachineInput {
  conversationId: string;
  settings: ConversationSettings;
  effects: ConversationEffects;
  /** With no participants and no turn for this long, the conversation stops. @default 300_000 */
  idleMs: number;
  /** State read back from the log when the conversation existed before this process. */
  restored?: Pick<ConversationState, 'seq' | 'history' | 'unfinishedTurns'>;
}

export interface ConversationContext extends ConversationState {
  effects: ConversationEffects;
  idleMs: number;
  commands: ConversationCommand[];
}

/** Events of the conversation actor; `participant.join` also carries the joining actor. */
export type ConversationEvent =
  | Exclude<ConversationInput, { type: 'participant.join' }>
  | {
      type: 'participant.join';
      connectionId: string;
      userId: string;
      since?: number;
      connection: AnyActorRef;
    };

const phaseIs =
  (phase: TurnPhase) =>
  ({ context }: { context: ConversationContext }) =>
    context.activeTurn?.phase === phase;

/** Mirrors the active turn's phase: each working substate leaves for the phase it is now in. */
const followPhase = (own: TurnPhase) =>
  (['waiting', 'thinking', 'calling_tool', 'streaming'] as const)
    .filter((phase) => phase !== own)
    .map((phase) => ({ guard: phaseIs(phase), target: phase }));

/**
 * The conversation machine.
 *
 * @example
 * spawnChild(conversationMachine, { systemId: 'conversation:demo', input })
 */
export const conversationMachine = setup({
  types: {
    context: {} as ConversationContext,
    events: {} as ConversationEvent,
    input: {} as ConversationMachineInput,
  },
  actions: {
    reduce: assign(({ context, event }) => {
      const input: ConversationInput =
        event.type === 'participant.join'
          ? {
              type: event.type,
              connectionId: event.connectionId,
              userId: event.userId,
              ...(event.since === undefined ? {} : { since: event.since }),
            }
          : event;
      const { effects } = context;
      const { state, commands } = reduceConversation(context, input, {
        now: effects.now(),
        nextId: (prefix) => effects.nextId(prefix),
        poolHasRoom: effects.pool.waiting < effects.pool.maxWaiting,
      });
      return { ...state, commands };
    }),
    runCommands: ({ context, self }) => {
      for (const command of context.commands) runCommand(context.effects, command, self);
    },
  },
  guards: {
    isFull: ({ context }) => context.participants.length >= context.settings.maxParticipants,
    hasNoParticipants: ({ context }) => context.participants.length === 0,
    hasParticipants: ({ context }) => context.participants.length > 0,
    hasNoActiveTurn: ({ context }) => context.activeTurn === null,
    hasActiveTurn: ({ context }) => context.activeTurn !== null,
  },
  delays: {
    idle: ({ context }) => context.idleMs,
  },
}).createMachine({
  id: 'conversation',
  context: ({ input }) => ({
    ...createConversationState(input.conversationId, input.settings, input.restored),
    effects: input.effects,
    idleMs: input.idleMs,
    commands: [],
  }),
  initial: 'idle',
  // A restored conversation first closes the turns the previous process left running.
  entry: enqueueActions(({ context, enqueue }) => {
    if (context.unfinishedTurns.length > 0) enqueue.raise({ type: 'conversation.recover' });
  }),
  on: {
    'participant.join': [
      {
        guard: 'isFull',
        actions: sendTo(({ event }) => event.connection, {
          type: 'conversation.rejected',
          code: 'conversation_full',
          message: 'The conversation has the maximum number of participants.',
        }),
      },
      {
        actions: [
          'reduce',
          'runCommands',
          sendTo(({ event }) => event.connection, { type: 'conversation.joined' }),
        ],
      },
    ],
    'participant.leave': { actions: ['reduce', 'runCommands'] },
    'user.typing': { actions: ['reduce', 'runCommands'] },
    'user.message': { actions: ['reduce', 'runCommands'] },
    'user.cancel': { actions: ['reduce', 'runCommands'] },
    'turn.started': { actions: ['reduce', 'runCommands'] },
    'turn.event': { actions: ['reduce', 'runCommands'] },
    'turn.ended': { actions: ['reduce', 'runCommands'] },
    'conversation.shutdown': { actions: ['reduce', 'runCommands'] },
    'conversation.recover': { actions: ['reduce', 'runCommands'] },
  },
  states: {
    idle: {
      always: { guard: 'hasActiveTurn', target: 'working' },
      initial: 'empty',
      states: {
        empty: {
          always: { guard: 'hasParticipants', target: 'occupied' },
          after: { idle: { target: '#conversation.stopped' } },
        },
        occupied: {
          always: { guard: 'hasNoParticipants', target: 'empty' },
        },
      },
    },
    working: {
      always: { guard: 'hasNoActiveTurn', target: 'idle' },
      initial: 'waiting',
      states: {
        waiting: { always: followPhase('waiting') },
        thinking: { always: followPhase('thinking') },
        calling_tool: { always: followPhase('calling_tool') },
        streaming: { always: followPhase('streaming') },
      },
    },
    // Ends the actor, which its parent stops when told; not `type: 'final'`, for the reason given
    // at the connection machine's `closed`: a done event per conversation id would stay memoized
    // in the root machine.
    stopped: {
      entry: sendParent(({ context }) => ({
        type: 'conversation.stopped',
        conversationId: context.conversationId,
      })),
    },
  },
});

function runCommand(
  effects: ConversationEffects,
  command: ConversationCommand,
  self: AnyActorRef,
): void {
  switch (command.type) {
    case 'deliver':
      effects.deliver(command);
      return;
    case 'record':
      effects.record(command.afterSeq, command.input);
      return;
    case 'reserve':
      effects.pool.reserve();
      return;
    case 'release':
      effects.pool.release();
      return;
    case 'cancel':
      effects.pool.cancel(command.turnId);
      return;
    case 'submit': {
      const { turnId } = command;
      effects.pool.submit({
        id: turnId,
        onStart: () => {
          self.send({ type: 'turn.started', turnId });
        },
        run: () =>
          effects.runTurn(command.messages, turnId).pipe(
            tap((event) => {
              self.send({ type: 'turn.event', turnId, event });
            }),
          ),
        onEnd: (outcome) => {
          self.send({ type: 'turn.ended', turnId, outcome });
        },
      });
      return;
    }
  }
}

/** A running conversation actor. */
export type ConversationActorRef = ActorRefFrom<typeof conversationMachine>;
