import { Subject, type Subscription } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  SimulatedClock,
  assign,
  createActor,
  setup,
  enqueueActions,
  type AnyActorRef,
  type AnyEventObject,
} from 'xstate';
import type { ModelMessage } from '../src/agent/model.js';
import type { TurnEvent } from '../src/agent/turn-event.js';
import { stampFrame } from '../src/engine/stamp-frame.js';
import { submitTurn } from '../src/engine/submit-turn.js';
import type { ServerFrame } from '../src/protocol/frames.js';
import { createWorkerPool, type PoolJob, type WorkerPool } from '../streams/worker-pool.js';
import type { ConversationSettings } from './conversation-state.js';
import {
  conversationMachine,
  type ConversationActorRef,
  type ConversationMachineInput,
} from './conversation.machine.js';
import { connectionKey } from './system-ids.js';
import { TEST_CONVERSATION_SETTINGS } from '../test/support/conversation-settings.js';

const IDLE_MS = 60_000;

const SETTINGS = TEST_CONVERSATION_SETTINGS;

/** An actor that records every event it receives (stands in for a connection). */
const recorderMachine = setup({
  types: { context: {} as { events: AnyEventObject[] }, events: {} as AnyEventObject },
}).createMachine({
  context: { events: [] },
  on: { '*': { actions: assign({ events: ({ context, event }) => [...context.events, event] }) } },
});

/**
 * The conversation's parent: it records what the conversation sends up (`conversation.stopped`)
 * and spawns stand-in connections in the same system, where the conversation answers joins.
 */
const hostMachine = setup({
  types: {
    context: {} as { input: ConversationMachineInput; events: AnyEventObject[] },
    events: {} as AnyEventObject,
    input: {} as ConversationMachineInput,
  },
  actors: { conversation: conversationMachine, recorder: recorderMachine },
}).createMachine({
  context: ({ input }) => ({ input, events: [] }),
  invoke: { id: 'conversation', src: 'conversation', input: ({ context }) => context.input },
  on: {
    'test.connect': {
      actions: enqueueActions(({ event, enqueue }) => {
        const id = String(event.connectionId);
        enqueue.spawnChild('recorder', { id, systemId: connectionKey(id) });
      }),
    },
    '*': { actions: assign({ events: ({ context, event }) => [...context.events, event] }) },
  },
});

/** A worker pool whose jobs start only when the test says so. */
function createManualPool() {
  const calls: string[] = [];
  const jobs = new Map<string, PoolJob>();
  const running = new Map<string, Subscription>();
  let waiting = 0;
  return {
    calls,
    maxWaiting: 100,
    get waiting() {
      return waiting;
    },
    reserve() {
      calls.push('reserve');
      waiting += 1;
      return true;
    },
    release() {
      calls.push('release');
      waiting -= 1;
    },
    submit(job: PoolJob) {
      calls.push(`submit ${job.id}`);
      jobs.set(job.id, job);
    },
    cancel(jobId: string) {
      calls.push(`cancel ${jobId}`);
      running.get(jobId)?.unsubscribe();
      jobs.get(jobId)?.onEnd?.('cancelled');
      return jobs.delete(jobId);
    },
    /** Gives the job a worker slot: `onStart`, then `run()` is subscribed. */
    start(jobId: string) {
      const job = jobs.get(jobId);
      if (job === undefined) throw new Error(`no job ${jobId}`);
      waiting -= 1;
      job.onStart?.();
      running.set(
        jobId,
        job.run().subscribe({
          complete: () => job.onEnd?.('completed'),
          error: () => job.onEnd?.('failed'),
        }),
      );
    },
  };
}

interface Options {
  pool?: Pick<WorkerPool, 'reserve' | 'release' | 'submit' | 'cancel' | 'waiting' | 'maxWaiting'>;
  settings?: Partial<ConversationSettings>;
  hibernation?: { hibernateAfterMs: number; emptyHibernateAfterMs?: number };
}

/** A conversation under a recording parent, with a simulated clock and hand-driven turns. */
function createConversation({
  pool = createManualPool(),
  settings = {},
  hibernation = { hibernateAfterMs: 0 },
}: Options = {}) {
  const clock = new SimulatedClock();
  const turns: Subject<TurnEvent>[] = [];
  const submitted: ModelMessage[][] = [];
  const delivered: { recipients: readonly string[]; frame: ServerFrame }[] = [];
  const host = createActor(hostMachine, {
    clock,
    input: {
      conversationId: 'demo',
      idSeed: 's',
      idleMs: IDLE_MS,
      ...hibernation,
      settings: { ...SETTINGS, ...settings },
      effects: {
        publish: ({ recipients, body, seq }) => {
          delivered.push({
            recipients,
            frame: stampFrame(body, 'demo', seq, clock.now()) as ServerFrame,
          });
        },
        recordInput: () => undefined,
        hasTurnRoom: () => pool.waiting < pool.maxWaiting,
        reserveTurnSlot: () => {
          pool.reserve();
        },
        releaseTurnSlot: () => {
          pool.release();
        },
        submitTurn: (turnId, messages, send) => {
          submitted.push(messages);
          const turn = new Subject<TurnEvent>();
          turns.push(turn);
          submitTurn(pool, turnId, turn, send);
        },
        cancelTurn: (turnId) => {
          pool.cancel(turnId);
        },
        resumeTurn: () => undefined,
        closeConnection: () => undefined,
      },
    },
  }).start();
  const conversation = host.getSnapshot().children.conversation as ConversationActorRef;
  return {
    clock,
    conversation,
    turns,
    submitted,
    delivered,
    parentEvents: () =>
      host.getSnapshot().context.events.filter((event) => event.type !== 'test.connect'),
    join: (connectionId: string, userId: string) => {
      host.send({ type: 'test.connect', connectionId });
      const connection = host.getSnapshot().children[connectionId] as AnyActorRef;
      conversation.send({ type: 'participant.join', connectionId, userId });
      return {
        events: () =>
          (connection.getSnapshot() as { context: { events: AnyEventObject[] } }).context.events,
      };
    },
    turn: (index: number) => {
      const turn = turns[index];
      if (turn === undefined) throw new Error(`turn ${index} was not run`);
      return turn;
    },
    activeTurnId: () => {
      const turnId = conversation.getSnapshot().context.activeTurn?.turnId;
      if (turnId === undefined) throw new Error('no active turn');
      return turnId;
    },
  };
}

const message = (content: string, connectionId = 'c1', userId = 'alice') =>
  ({ type: 'user.message', connectionId, userId, content }) as const;

describe('conversationMachine', () => {
  describe('participants', () => {
    it('answers a join with conversation.joined and delivers the welcome and the presence', () => {
      const { join, delivered, conversation } = createConversation();

      const connection = join('c1', 'alice');

      expect(connection.events()).toEqual([{ type: 'conversation.joined' }]);
      expect(delivered.map(({ recipients, frame }) => [recipients, frame.type, frame.seq])).toEqual(
        [
          [['c1'], 'welcome', 0],
          [['c1'], 'presence', 1],
        ],
      );
      expect(conversation.getSnapshot().value).toEqual({ idle: 'occupied' });
    });

    it('rejects a join with conversation_full when maxParticipants is reached', () => {
      const { join, delivered, conversation } = createConversation({
        settings: { maxParticipants: 1 },
      });
      join('c1', 'alice');

      const rejected = join('c2', 'bob');

      expect(rejected.events()).toEqual([
        {
          type: 'conversation.rejected',
          code: 'conversation_full',
          message: 'The conversation has the maximum number of participants.',
        },
      ]);
      expect(delivered.flatMap(({ recipients }) => recipients)).not.toContain('c2');
      expect(conversation.getSnapshot().context.participants).toHaveLength(1);
      expect(conversation.getSnapshot().context.seq).toBe(1);
    });
  });

  describe('turns', () => {
    it('walks idle → waiting → thinking → calling_tool → thinking → streaming → idle as turn events arrive', () => {
      const pool = createManualPool();
      const { join, conversation, turn, activeTurnId, delivered } = createConversation({ pool });
      const value = () => conversation.getSnapshot().value;
      join('c1', 'alice');
      expect(value()).toEqual({ idle: 'occupied' });

      conversation.send(message('What is 5 + 3?'));
      const turnId = activeTurnId();
      expect(value()).toEqual({ working: 'waiting' });
      expect(pool.calls).toEqual(['reserve', `submit ${turnId}`]);

      pool.start(turnId);
      expect(value()).toEqual({ working: 'thinking' });

      turn(0).next({ type: 'tool-call', toolCallId: 'call_1', toolName: 'calculator', input: {} });
      expect(value()).toEqual({ working: 'calling_tool' });

      turn(0).next({
        type: 'tool-result',
        toolCallId: 'call_1',
        toolName: 'calculator',
        input: {},
        outcome: { ok: true, output: 8, durationMs: 1 },
      });
      expect(value()).toEqual({ working: 'thinking' });

      turn(0).next({ type: 'text-delta', delta: '8' });
      expect(value()).toEqual({ working: 'streaming' });

      turn(0).next({ type: 'finish', status: 'completed', steps: 2 });
      turn(0).complete();
      expect(value()).toEqual({ idle: 'occupied' });

      expect(delivered.map(({ frame }) => [frame.type, frame.seq])).toEqual([
        ['welcome', 0],
        ['presence', 1],
        ['user_message', 2],
        ['typing_indicator', 3],
        ['tool_call', 4],
        ['tool_result', 5],
        ['agent_response_chunk', 6],
        ['agent_response_complete', 7],
      ]);
    });

    it('runs a queued turn on the worker pool after the first one finishes, with the first exchange in its history', () => {
      const pool = createWorkerPool({ concurrency: 10, maxWaiting: 100 });
      const { join, conversation, turn, submitted, delivered } = createConversation({ pool });
      join('c1', 'alice');

      conversation.send(message('One'));
      conversation.send(message('Two'));
      expect(submitted).toHaveLength(1);
      expect(pool.waiting).toBe(1);

      turn(0).next({ type: 'text-delta', delta: 'First answer' });
      turn(0).next({ type: 'finish', status: 'completed', steps: 1 });
      turn(0).complete();

      expect(submitted[1]).toEqual([
        { role: 'user', content: 'One', userId: 'alice' },
        { role: 'assistant', content: 'First answer' },
        { role: 'user', content: 'Two', userId: 'alice' },
      ]);
      expect(pool.running).toBe(1);
      expect(pool.waiting).toBe(0);
      expect(conversation.getSnapshot().value).toEqual({ working: 'thinking' });
      expect(
        delivered
          .map(({ frame }) => frame)
          .filter((frame) => frame.type === 'agent_response_complete')
          .map((frame) => frame.status),
      ).toEqual(['completed']);
      pool.close();
    });

    it('stops the running turn stream when it is cancelled and keeps the partial answer', () => {
      const pool = createWorkerPool({ concurrency: 10, maxWaiting: 100 });
      const { join, conversation, turn, delivered } = createConversation({ pool });
      join('c1', 'alice');
      conversation.send(message('Tell me a story'));
      turn(0).next({ type: 'text-delta', delta: 'Once upon' });
      expect(turn(0).observed).toBe(true);

      conversation.send({ type: 'user.cancel', connectionId: 'c1', userId: 'alice' });

      expect(turn(0).observed).toBe(false);
      expect(pool.running).toBe(0);
      expect(conversation.getSnapshot().value).toEqual({ idle: 'occupied' });
      expect(delivered.at(-1)?.frame).toMatchObject({
        type: 'agent_response_complete',
        status: 'cancelled',
        content: 'Once upon',
        cancelled_by: 'alice',
      });
      pool.close();
    });

    it('completes the turn as failed when its stream errors without a finish', () => {
      const pool = createWorkerPool({ concurrency: 10, maxWaiting: 100 });
      const { join, conversation, turn, delivered } = createConversation({ pool });
      join('c1', 'alice');
      conversation.send(message('One'));
      turn(0).next({ type: 'text-delta', delta: 'Half' });

      turn(0).error(new Error('model exploded'));

      expect(conversation.getSnapshot().status).toBe('active');
      expect(conversation.getSnapshot().value).toEqual({ idle: 'occupied' });
      expect(delivered.at(-1)?.frame).toMatchObject({
        type: 'agent_response_complete',
        status: 'failed',
        content: 'Half',
        error: { code: 'internal_error', message: 'The turn ended unexpectedly (failed).' },
      });
      pool.close();
    });

    it('ignores the interrupted turn ending after the interrupting turn has started', () => {
      const pool = createWorkerPool({ concurrency: 10, maxWaiting: 100 });
      const { join, conversation, turn, delivered } = createConversation({
        pool,
        settings: { overlapPolicy: 'interrupt' },
      });
      join('c1', 'alice');
      conversation.send(message('One'));
      turn(0).next({ type: 'text-delta', delta: 'Half' });

      conversation.send(message('Two'));

      expect(turn(0).observed).toBe(false);
      expect(turn(1).observed).toBe(true);
      expect(pool.running).toBe(1);
      expect(conversation.getSnapshot().value).toEqual({ working: 'thinking' });
      const completions = delivered
        .map(({ frame }) => frame)
        .filter((frame) => frame.type === 'agent_response_complete');
      expect(completions).toHaveLength(1);
      expect(completions[0]).toMatchObject({ status: 'interrupted', content: 'Half' });
      pool.close();
    });

    it('answers busy and submits nothing when the pool has no waiting room', () => {
      const pool = createWorkerPool({ concurrency: 1, maxWaiting: 1 });
      const { join, conversation, submitted, delivered } = createConversation({ pool });
      join('c1', 'alice');
      conversation.send(message('One'));
      conversation.send(message('Two'));
      expect(pool.waiting).toBe(1);
      const seq = conversation.getSnapshot().context.seq;

      conversation.send(message('Three'));

      expect(delivered.at(-1)).toMatchObject({
        recipients: ['c1'],
        frame: { type: 'error', code: 'busy', seq },
      });
      expect(conversation.getSnapshot().context.seq).toBe(seq);
      expect(submitted).toHaveLength(1);
      expect(conversation.getSnapshot().context.pendingTurns).toHaveLength(1);
      pool.close();
    });
  });

  describe('idleness', () => {
    it('stops after idleMs without participants and tells its parent', () => {
      const { clock, conversation, parentEvents } = createConversation();

      clock.increment(IDLE_MS - 1);
      expect(conversation.getSnapshot().status).toBe('active');

      clock.increment(1);
      expect(conversation.getSnapshot().value).toBe('stopped');
      expect(conversation.getSnapshot().value).toBe('stopped');
      expect(parentEvents()).toContainEqual({
        type: 'conversation.stopped',
        conversationId: 'demo',
      });
    });

    it('does not stop while a participant is present and stops idleMs after the last one leaves', () => {
      const { clock, conversation, join, parentEvents } = createConversation();
      join('c1', 'alice');

      clock.increment(IDLE_MS * 3);
      expect(conversation.getSnapshot().status).toBe('active');

      conversation.send({ type: 'participant.leave', connectionId: 'c1' });
      clock.increment(IDLE_MS - 1);
      expect(conversation.getSnapshot().status).toBe('active');
      clock.increment(1);
      expect(conversation.getSnapshot().value).toBe('stopped');
      expect(parentEvents()).toContainEqual({
        type: 'conversation.stopped',
        conversationId: 'demo',
      });
    });

    it('hibernates at once when its last participant leaves, with emptyHibernateAfterMs 0', () => {
      const { clock, conversation, join, parentEvents } = createConversation({
        hibernation: { hibernateAfterMs: 1_000, emptyHibernateAfterMs: 0 },
      });
      join('c1', 'alice');
      clock.increment(999);
      expect(conversation.getSnapshot().value).toEqual({ idle: 'occupied' });

      conversation.send({ type: 'participant.leave', connectionId: 'c1' });
      clock.increment(0);
      expect(conversation.getSnapshot().value).toBe('hibernated');
      const hibernated = parentEvents().find((event) => event.type === 'conversation.hibernated');
      expect(hibernated).toMatchObject({
        conversation: { conversationId: 'demo', participants: [] },
      });
    });

    it('waits emptyHibernateAfterMs when empty and hibernateAfterMs when occupied', () => {
      const { clock, conversation, join } = createConversation({
        hibernation: { hibernateAfterMs: 1_000, emptyHibernateAfterMs: 400 },
      });
      clock.increment(399);
      expect(conversation.getSnapshot().value).toEqual({ idle: 'empty' });
      join('c1', 'alice');
      clock.increment(999);
      expect(conversation.getSnapshot().value).toEqual({ idle: 'occupied' });

      conversation.send({ type: 'participant.leave', connectionId: 'c1' });
      clock.increment(399);
      expect(conversation.getSnapshot().value).toEqual({ idle: 'empty' });
      clock.increment(1);
      expect(conversation.getSnapshot().value).toBe('hibernated');
    });

    it('never hibernates when empty while hibernation is off, whatever emptyHibernateAfterMs says', () => {
      const { clock, conversation } = createConversation({
        hibernation: { hibernateAfterMs: 0, emptyHibernateAfterMs: 0 },
      });
      clock.increment(IDLE_MS - 1);
      expect(conversation.getSnapshot().value).toEqual({ idle: 'empty' });
      clock.increment(1);
      expect(conversation.getSnapshot().value).toBe('stopped');
    });

    it('does not stop while a turn is running with no participants', () => {
      const pool = createManualPool();
      const { clock, conversation, join, turn, activeTurnId } = createConversation({ pool });
      join('c1', 'alice');
      conversation.send(message('A long question'));
      pool.start(activeTurnId());
      conversation.send({ type: 'participant.leave', connectionId: 'c1' });

      clock.increment(IDLE_MS * 3);
      expect(conversation.getSnapshot().status).toBe('active');
      expect(conversation.getSnapshot().value).toEqual({ working: 'thinking' });

      turn(0).next({ type: 'finish', status: 'completed', steps: 1 });
      turn(0).complete();
      expect(conversation.getSnapshot().value).toEqual({ idle: 'empty' });
      clock.increment(IDLE_MS);
      expect(conversation.getSnapshot().value).toBe('stopped');
    });

    it('restarts the idle timer when a participant comes and goes', () => {
      const { clock, conversation, join } = createConversation();
      clock.increment(IDLE_MS - 10);
      join('c1', 'alice');
      conversation.send({ type: 'participant.leave', connectionId: 'c1' });

      clock.increment(IDLE_MS - 1);
      expect(conversation.getSnapshot().status).toBe('active');
      clock.increment(1);
      expect(conversation.getSnapshot().value).toBe('stopped');
    });
  });
});
