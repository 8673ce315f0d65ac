/**
 * The root of Parley's actor system. Conversations are its children; connections are children
 * of its {@link CONNECTION_SHARDS} connection shards (one child list per shard keeps opening and
 * closing a connection cheap, see `connection-shard.machine.ts`). All share one system, one clock
 * and one `inspect` hook, and each is registered under a stable system id
 * (`conversation:<id>`, `connection:<id>`) that the inspector can address.
 */
import { enqueueActions, sendTo, setup, stopChild, type AnyActorRef } from 'xstate';
import {
  CONNECTION_SHARDS,
  connectionShardMachine,
  shardInput,
  shardKey,
  shardOf,
} from './connection-shard.machine.js';
import type { ConnectionMachineInput, SocketPort } from './connection.machine.js';
import {
  conversationMachine,
  type ConversationEvent,
  type ConversationMachineInput,
  type HibernatedConversation,
} from './conversation.machine.js';

import type { Role } from './membership.js';
import { conversationKey } from './system-ids.js';

export { connectionKey, conversationKey } from './system-ids.js';

/** How the root builds its children's inputs. */
export interface ParleyMachineInput {
  /** Time between two pings of each connection (each shard keeps its connections' heartbeat). */
  heartbeatIntervalMs: number;
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
   * sends the root `conversation.wake`. Called once per wake, when its first event arrives.
   */
  wakeConversation(conversationId: string): void;
  connectionInput(
    base: Pick<
      ConnectionMachineInput,
      'connectionId' | 'userId' | 'conversationId' | 'socket' | 'since' | 'role'
    >,
  ): ConnectionMachineInput;
}

/** A hibernated conversation as the root keeps it: its data, and the events that wait for it. */
interface SleepingConversation {
  conversation: HibernatedConversation;
  /** Events that arrived since it hibernated, delivered in order when it wakes. */
  waiting: ConversationEvent[];
}

/** The root's context: its input, and its hibernated conversations by conversation id. */
export interface ParleyMachineContext extends ParleyMachineInput {
  /** Updated in place by the root's actions (one conversation at a time, never copied). */
  hibernatedConversations: Map<string, SleepingConversation>;
}

/** Events of the root actor. */
export type ParleyEvent =
  | {
      type: 'connection.open';
      connectionId: string;
      userId: string;
      conversationId: string;
      socket: SocketPort;
      since?: number;
      role?: Role;
      /** The agent a new conversation gets; ignored when the conversation exists. */
      agentId?: string;
    }
  /** Spawns the conversation when it is not running (a membership change over HTTP). */
  | { type: 'conversation.ensure'; conversationId: string }
  | { type: 'connection.closed'; connectionId: string }
  | { type: 'conversation.stopped'; conversationId: string }
  /** From a conversation that just hibernated: what it keeps until its next event. */
  | { type: 'conversation.hibernated'; conversation: HibernatedConversation }
  /** An event for a conversation whose actor is not running (a connection sends it here). */
  | { type: 'conversation.deliver'; conversationId: string; event: ConversationEvent }
  /** A hibernated conversation's history is loaded: spawn it and hand it what waited. */
  | { type: 'conversation.wake'; conversationId: string }
  /** A hibernated conversation with no participant was kept for `conversationIdleMs`. */
  | { type: 'conversation.forget'; conversationId: string }
  | { type: 'system.shutdown' };

/** The id of the delayed event that forgets a hibernated conversation with no participant. */
const forgetId = (conversationId: string) => `forget:${conversationId}`;

/** The two actions {@link wakeConversation} enqueues (a subset of XState's `enqueue`). */
interface WakeQueue {
  spawnChild(
    src: 'conversation',
    options: { id: string; systemId: string; input: ConversationMachineInput },
  ): unknown;
  sendTo(to: string, event: ConversationEvent): void;
  cancel(id: string): void;
}

/** Spawns a hibernated conversation's actor from what it kept, then hands it what waited. */
function wakeConversation(
  context: ParleyMachineContext,
  enqueue: WakeQueue,
  sleeping: SleepingConversation,
): void {
  const { conversationId } = sleeping.conversation;
  const key = conversationKey(conversationId);
  context.hibernatedConversations.delete(conversationId);
  enqueue.cancel(forgetId(conversationId));
  enqueue.spawnChild('conversation', {
    id: key,
    systemId: key,
    input: context.conversationInput(conversationId, { awoken: sleeping.conversation }),
  });
  for (const event of sleeping.waiting) enqueue.sendTo(key, event);
}

/**
 * The root machine: spawns its connection shards at start, a conversation on first use, and hands
 * each socket's connection to its shard; stops each conversation when it ends.
 *
 * `connection.open` is synchronous end to end: the `sendTo` to the shard runs when the root's
 * step ends, still inside `root.send`, and the shard (whose own mailbox is idle) spawns the
 * connection right then, so `system.get('connection:<id>')` finds it as soon as `send` returns.
 *
 * @example
 * const root = createActor(parleyMachine, { input, clock, inspect }).start();
 * root.send({ type: 'connection.open', connectionId, userId, conversationId, socket });
 */
export const parleyMachine = setup({
  types: {
    context: {} as ParleyMachineContext,
    events: {} as ParleyEvent,
    input: {} as ParleyMachineInput,
  },
  actors: { conversation: conversationMachine, connectionShard: connectionShardMachine },
  actions: {
    // A conversation that just stopped for idleness may still be registered: replace it. A
    // hibernated one wakes (the engine loaded its history before sending the event).
    ensureConversation: enqueueActions(({ context, enqueue, event, system }) => {
      if (event.type !== 'connection.open' && event.type !== 'conversation.ensure') return;
      const key = conversationKey(event.conversationId);
      const existing = system.get(key) as AnyActorRef | undefined;
      if ((existing?.getSnapshot() as { status: string } | undefined)?.status === 'active') {
        return;
      }
      const sleeping = context.hibernatedConversations.get(event.conversationId);
      if (sleeping !== undefined) {
        wakeConversation(context, enqueue, sleeping);
        return;
      }
      const agentId = event.type === 'connection.open' ? event.agentId : undefined;
      enqueue.spawnChild('conversation', {
        id: key,
        systemId: key,
        input: context.conversationInput(event.conversationId, { agentId }),
      });
    }),
  },
}).createMachine({
  id: 'parley',
  context: ({ input }) => ({ ...input, hibernatedConversations: new Map() }),
  entry: enqueueActions(({ context, enqueue }) => {
    for (let index = 0; index < CONNECTION_SHARDS; index += 1) {
      enqueue.spawnChild('connectionShard', {
        id: shardKey(index),
        systemId: shardKey(index),
        input: shardInput(index, context.heartbeatIntervalMs),
      });
    }
  }),
  on: {
    'connection.open': {
      actions: [
        'ensureConversation',
        // Resolved after the spawn above, so the conversation (new or reused) is registered.
        sendTo(
          ({ event }) => shardKey(shardOf(event.connectionId)),
          ({ context, event }) => ({
            type: 'connection.spawn' as const,
            input: context.connectionInput({
              connectionId: event.connectionId,
              userId: event.userId,
              conversationId: event.conversationId,
              socket: event.socket,
              ...(event.since === undefined ? {} : { since: event.since }),
              ...(event.role === undefined ? {} : { role: event.role }),
            }),
          }),
        ),
      ],
    },
    'conversation.ensure': { actions: 'ensureConversation' },
    // Connections tell their shard themselves; this is for anyone else who closes one.
    'connection.closed': {
      actions: sendTo(
        ({ event }) => shardKey(shardOf(event.connectionId)),
        ({ event }) => event,
      ),
    },
    'conversation.stopped': {
      actions: stopChild(({ event }) => conversationKey(event.conversationId)),
    },
    'conversation.hibernated': {
      actions: enqueueActions(({ context, enqueue, event }) => {
        const { conversationId } = event.conversation;
        enqueue.stopChild(conversationKey(conversationId));
        context.hibernatedConversations.set(conversationId, {
          conversation: event.conversation,
          waiting: [],
        });
        // Kept as long as an empty conversation's actor would have been, then forgotten: its
        // next participant starts it from the log as after a restart.
        if (event.conversation.participants.length === 0) {
          enqueue.raise(
            { type: 'conversation.forget', conversationId },
            { id: forgetId(conversationId), delay: context.conversationIdleMs },
          );
        }
      }),
    },
    'conversation.deliver': {
      actions: enqueueActions(({ context, enqueue, event, self }) => {
        const key = conversationKey(event.conversationId);
        // Woken since the event was addressed here: the running actor takes it.
        const running = self.getSnapshot().children[key];
        if (running !== undefined) {
          enqueue.sendTo(running, event.event);
          return;
        }
        const sleeping = context.hibernatedConversations.get(event.conversationId);
        if (sleeping === undefined) return;
        sleeping.waiting.push(event.event);
        if (sleeping.waiting.length === 1) {
          enqueue.cancel(forgetId(event.conversationId));
          enqueue(() => {
            context.wakeConversation(event.conversationId);
          });
        }
      }),
    },
    'conversation.wake': {
      actions: enqueueActions(({ context, enqueue, event }) => {
        const sleeping = context.hibernatedConversations.get(event.conversationId);
        if (sleeping !== undefined) wakeConversation(context, enqueue, sleeping);
      }),
    },
    'conversation.forget': {
      actions: ({ context, event }) => {
        const sleeping = context.hibernatedConversations.get(event.conversationId);
        if (sleeping?.conversation.participants.length === 0 && sleeping.waiting.length === 0) {
          context.hibernatedConversations.delete(event.conversationId);
        }
      },
    },
    // Shards stay (they are stateless): a later connection.open still finds its shard.
    'system.shutdown': {
      actions: enqueueActions(({ enqueue, self }) => {
        for (const [id, child] of Object.entries(self.getSnapshot().children)) {
          if (child === undefined) continue;
          if (id.startsWith('conversation:')) enqueue.stopChild(child);
          else enqueue.sendTo(child, { type: 'system.shutdown' });
        }
      }),
    },
  },
});
