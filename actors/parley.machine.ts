/**
 * The root of Parley's actor system. Conversations are its children; connections are children
 * of its {@link CONNECTION_SHARDS} connection shards (one child list per shard keeps opening and
 * closing a connection cheap, see `connection-shard.machine.ts`). All share one system, one clock
 * and one `inspect` hook, and each is registered under a stable system id
 * (`conversation:<id>`, `connection:<id>`) that the inspector can address.
 */
import { assign, enqueueActions, sendTo, setup, stopChild, type AnyActorRef } from 'xstate';
import {
  CONNECTION_SHARDS,
  connectionShardMachine,
  shardInput,
  shardKey,
  shardOf,
} from './connection-shard.machine.js';
import type { ConnectionMachineInput, SocketPort } from './connection.machine.js';
import { conversationMachine, type ConversationMachineInput } from './conversation.machine.js';

import type { Role } from './membership.js';
import { conversationKey } from './system-ids.js';

export { connectionKey, conversationKey } from './system-ids.js';

/** How the root builds its children's inputs. */
export interface ParleyMachineInput {
  /** Time between two pings of each connection (each shard keeps its connections' heartbeat). */
  heartbeatIntervalMs: number;
  conversationInput(conversationId: string): ConversationMachineInput;
  connectionInput(
    base: Pick<
      ConnectionMachineInput,
      'connectionId' | 'userId' | 'conversationId' | 'socket' | 'since' | 'role'
    >,
  ): ConnectionMachineInput;
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
    }
  /** Spawns the conversation when it is not running (a membership change over HTTP). */
  | { type: 'conversation.ensure'; conversationId: string }
  | { type: 'connection.closed'; connectionId: string }
  | { type: 'conversation.stopped'; conversationId: string }
  | { type: 'system.shutdown' };

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
    context: {} as ParleyMachineInput,
    events: {} as ParleyEvent,
    input: {} as ParleyMachineInput,
  },
  actors: { conversation: conversationMachine, connectionShard: connectionShardMachine },
  actions: {
    // A conversation that just stopped for idleness may still be registered: replace it.
    ensureConversation: assign(({ context, event, spawn, system }) => {
      if (event.type !== 'connection.open' && event.type !== 'conversation.ensure') return {};
      const key = conversationKey(event.conversationId);
      const existing = system.get(key) as AnyActorRef | undefined;
      if ((existing?.getSnapshot() as { status: string } | undefined)?.status !== 'active') {
        spawn('conversation', {
          id: key,
          systemId: key,
          input: context.conversationInput(event.conversationId),
        });
      }
      return {};
    }),
  },
}).createMachine({
  id: 'parley',
  context: ({ input }) => input,
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
