/**
 * A conversation shard: one of {@link CONVERSATION_SHARDS} plumbing actors under the root that
 * hold the conversation actors, as the connection shards hold the connections, and for the same
 * reason: XState copies a parent's `children` object on every spawn and every stop, so a root that
 * held every conversation paid O(conversations) to start, stop, hibernate or wake one. Measured
 * with hibernation: closing 4,000 one-participant conversations' connections at once (each leave
 * then woke its conversation, which hibernated again) took 16 s of `resolveStop`/`resolveSpawn` with
 * the conversations under the root (2.2 s for 1,000: quadratic). Conversations keep their
 * `conversation:<id>` system ids, so nothing but the root, the engine and the connections' way to
 * a hibernated conversation needs to know the shards exist.
 *
 * A shard also keeps its hibernated conversations (`conversation.machine.ts`, state
 * `hibernated`): what each handed over, in a map the shard's actions update in place. An event
 * for one (`conversation.deliver`, from a connection) waits in its record while the engine reads
 * the conversation's history back from the log (`wakeConversation`); `conversation.wake` then
 * spawns it from the record and hands it the waiting events in order. A leave does not wake it:
 * the record takes it in place (`hibernated-leave.ts`).
 */
import { enqueueActions, setup, type ActorRefFrom, type AnyActorRef } from 'xstate';
import {
  conversationMachine,
  type ConversationEvent,
  type ConversationMachineInput,
  type HibernatedConversation,
} from './conversation.machine.js';
import {
  emptiesHibernated,
  leaveWhileHibernated,
  runLeaveEffects,
  takesInPlace,
  type HibernatedEffects,
} from './hibernated-leave.js';
import { conversationKey } from './system-ids.js';

export { CONVERSATION_SHARDS, conversationShardKey, conversationShardKeyAt } from './system-ids.js';

/**
 * Whether an actor is a conversation shard, by its id. The inspector skips shards: they are
 * plumbing, not part of the actor tree.
 */
export function isConversationShard(ref: AnyActorRef): boolean {
  return ref.id.startsWith('conversations:');
}

/** How a shard builds and wakes its conversations (the root's input, passed on). */
export interface ConversationShardInput {
  /** How long a hibernated conversation with no participant is kept before it is forgotten. */
  conversationIdleMs: number;
  /**
   * The input of a conversation's actor: a new one, or one woken from what it kept. `agentId`: the
   * agent the first join asked for (`?agent=`); a restored conversation keeps its own.
   */
  conversationInput(
    conversationId: string,
    options?: { agentId?: string | undefined; awoken?: HibernatedConversation },
  ): ConversationMachineInput;
  /**
   * Gets a hibernated conversation ready to wake (reads its history back from the log), then
   * sends its shard `conversation.wake`. Called once per wake, when its first event arrives.
   */
  wakeConversation(conversationId: string): void;
  /**
   * The effects port of a hibernated conversation, for a leave it takes without waking
   * (`hibernated-leave.ts`): its input logged, its frames published.
   */
  hibernatedEffects(conversationId: string): HibernatedEffects;
}

/** A hibernated conversation as its shard keeps it: its data, and the events that wait for it. */
export interface SleepingConversation {
  conversation: HibernatedConversation;
  /** Events that arrived since it hibernated, delivered in order when it wakes. */
  waiting: ConversationEvent[];
  /** With no participant: the shard's sweeps it has seen; forgotten at {@link FORGET_AFTER_SWEEPS}. */
  sweeps?: number;
}

/**
 * Sweeps per `conversationIdleMs`: an empty hibernated conversation is forgotten at the fifth
 * sweep after it hibernated, between 1 and 1.25 × `conversationIdleMs` later. One timer per shard
 * instead of one per conversation: a delayed event per record (a Node `Timeout`, its closure and
 * XState's record of it) was about a third of an idle conversation's heap.
 */
const SWEEPS_PER_IDLE_TIME = 4;
const FORGET_AFTER_SWEEPS = SWEEPS_PER_IDLE_TIME + 1;

const isForgettable = (sleeping: SleepingConversation) =>
  sleeping.conversation.participants.length === 0 && sleeping.waiting.length === 0;

/** The context of a shard: its input, and its hibernated conversations by conversation id. */
export interface ConversationShardContext extends ConversationShardInput {
  /** Updated in place by the shard's actions (one conversation at a time, never copied). */
  hibernated: Map<string, SleepingConversation>;
}

/** Events of a conversation shard. */
export type ConversationShardEvent =
  /** From the root on `connection.open`: start the conversation, or wake it, unless it runs. */
  | { type: 'conversation.spawn'; conversationId: string; agentId?: string }
  | { type: 'conversation.stopped'; conversationId: string }
  /** From a conversation that just hibernated: what it keeps until its next event. */
  | { type: 'conversation.hibernated'; conversation: HibernatedConversation }
  /** An event for a conversation whose actor is not running (a connection sends it here). */
  | { type: 'conversation.deliver'; conversationId: string; event: ConversationEvent }
  /** A hibernated conversation's history is loaded: spawn it and hand it what waited. */
  | { type: 'conversation.wake'; conversationId: string }
  | { type: 'system.shutdown' };

/** The actions {@link wake} enqueues (a subset of XState's `enqueue`). */
interface WakeQueue {
  spawnChild(
    src: 'conversation',
    options: { id: string; systemId: string; input: ConversationMachineInput },
  ): unknown;
  sendTo(to: string, event: ConversationEvent): void;
}

/** Spawns a hibernated conversation's actor from what it kept, then hands it what waited. */
function wake(
  context: ConversationShardContext,
  enqueue: WakeQueue,
  sleeping: SleepingConversation,
): void {
  const { conversationId } = sleeping.conversation;
  const key = conversationKey(conversationId);
  context.hibernated.delete(conversationId);
  enqueue.spawnChild('conversation', {
    id: key,
    systemId: key,
    input: context.conversationInput(conversationId, { awoken: sleeping.conversation }),
  });
  for (const event of sleeping.waiting) enqueue.sendTo(key, event);
}

/**
 * The shard machine: starts, stops, hibernates and wakes the conversations of its share.
 *
 * @example
 * root.system.get(conversationShardKey('demo'))?.send({ type: 'conversation.spawn', conversationId: 'demo' });
 */
export const conversationShardMachine = setup({
  types: {
    context: {} as ConversationShardContext,
    events: {} as ConversationShardEvent,
    input: {} as ConversationShardInput,
  },
  actors: { conversation: conversationMachine },
  actions: {
    keepHibernated: enqueueActions(({ context, enqueue, event }) => {
      if (event.type !== 'conversation.hibernated') return;
      const { conversationId } = event.conversation;
      enqueue.stopChild(conversationKey(conversationId));
      // Kept as long as an empty conversation's actor would have been, then forgotten by a
      // sweep: its next participant starts it from the log as after a restart.
      context.hibernated.set(conversationId, { conversation: event.conversation, waiting: [] });
    }),
    /**
     * An event for a conversation not running here: the running actor takes it if it woke since;
     * a hibernated one takes a leave in place (nothing else waiting before it) and wakes for
     * anything else.
     */
    deliver: enqueueActions(({ context, enqueue, event, self }) => {
      if (event.type !== 'conversation.deliver') return;
      const running = self.getSnapshot().children[conversationKey(event.conversationId)];
      if (running !== undefined) {
        enqueue.sendTo(running, event.event);
        return;
      }
      const sleeping = context.hibernated.get(event.conversationId);
      if (sleeping === undefined) return;
      const leave = event.event;
      if (takesInPlace(sleeping, leave)) {
        const { conversation, effects } = leaveWhileHibernated(sleeping.conversation, leave);
        sleeping.conversation = conversation;
        enqueue(() => {
          runLeaveEffects(effects, context.hibernatedEffects(event.conversationId));
        });
        return;
      }
      sleeping.waiting.push(event.event);
      if (sleeping.waiting.length === 1) {
        enqueue(() => {
          context.wakeConversation(event.conversationId);
        });
      }
    }),
    /** Counts a sweep on each empty record, and forgets those that have seen enough. */
    sweep: ({ context }) => {
      for (const [conversationId, sleeping] of context.hibernated) {
        if (!isForgettable(sleeping)) continue;
        sleeping.sweeps = (sleeping.sweeps ?? 0) + 1;
        if (sleeping.sweeps >= FORGET_AFTER_SWEEPS) context.hibernated.delete(conversationId);
      }
    },
  },
  guards: {
    isEmpty: ({ event }) =>
      event.type === 'conversation.hibernated' && event.conversation.participants.length === 0,
    /**
     * A leave that a hibernated record takes in place, and that leaves it empty (a conversation
     * with a record is not running: waking takes the record away).
     */
    emptiesRecord: ({ context, event }) =>
      event.type === 'conversation.deliver' &&
      emptiesHibernated(context.hibernated.get(event.conversationId), event.event),
    /** After this sweep no empty record is left to count: the timer can stop. */
    sweepLeavesNone: ({ context }) => {
      for (const sleeping of context.hibernated.values()) {
        if (isForgettable(sleeping) && (sleeping.sweeps ?? 0) + 1 < FORGET_AFTER_SWEEPS) {
          return false;
        }
      }
      return true;
    },
  },
  delays: {
    sweep: ({ context }) =>
      Math.max(1, Math.ceil(context.conversationIdleMs / SWEEPS_PER_IDLE_TIME)),
  },
}).createMachine({
  id: 'conversations',
  context: ({ input }) => ({ ...input, hibernated: new Map() }),
  // `sweeping` while it keeps a hibernated conversation with no participant: one timer for all.
  initial: 'quiet',
  states: {
    quiet: {
      on: {
        'conversation.hibernated': [
          { guard: 'isEmpty', target: 'sweeping', actions: 'keepHibernated' },
          { actions: 'keepHibernated' },
        ],
        'conversation.deliver': [
          { guard: 'emptiesRecord', target: 'sweeping', actions: 'deliver' },
          { actions: 'deliver' },
        ],
      },
    },
    sweeping: {
      after: {
        sweep: [
          { guard: 'sweepLeavesNone', target: 'quiet', actions: 'sweep' },
          { target: 'sweeping', reenter: true, actions: 'sweep' },
        ],
      },
    },
  },
  on: {
    'conversation.spawn': {
      // A conversation that just stopped for idleness may still be registered: replace it. A
      // hibernated one wakes (the engine loaded its history before opening the connection).
      actions: enqueueActions(({ context, enqueue, event, system }) => {
        const key = conversationKey(event.conversationId);
        const existing = system.get(key) as AnyActorRef | undefined;
        if ((existing?.getSnapshot() as { status: string } | undefined)?.status === 'active') {
          return;
        }
        const sleeping = context.hibernated.get(event.conversationId);
        if (sleeping !== undefined) {
          wake(context, enqueue, sleeping);
          return;
        }
        enqueue.spawnChild('conversation', {
          id: key,
          systemId: key,
          input: context.conversationInput(event.conversationId, { agentId: event.agentId }),
        });
      }),
    },
    // Also when the engine lets a conversation go (cluster mode: another instance owns it now):
    // what a hibernated one kept is stale from then on.
    'conversation.stopped': {
      actions: enqueueActions(({ context, enqueue, event }) => {
        enqueue.stopChild(conversationKey(event.conversationId));
        context.hibernated.delete(event.conversationId);
      }),
    },
    // In `sweeping`: `quiet` has handlers of its own for these two.
    'conversation.hibernated': { actions: 'keepHibernated' },
    'conversation.deliver': { actions: 'deliver' },
    'conversation.wake': {
      actions: enqueueActions(({ context, enqueue, event }) => {
        const sleeping = context.hibernated.get(event.conversationId);
        if (sleeping !== undefined) wake(context, enqueue, sleeping);
      }),
    },
    'system.shutdown': {
      actions: enqueueActions(({ context, enqueue, self }) => {
        context.hibernated.clear();
        for (const child of Object.values(self.getSnapshot().children)) {
          if (child !== undefined) enqueue.stopChild(child);
        }
      }),
    },
  },
});

/** A running conversation shard. */
export type ConversationShardRef = ActorRefFrom<typeof conversationShardMachine>;
