/**
 * The root of Parley's actor system. Conversations are children of its
 * {@link CONVERSATION_SHARDS} conversation shards, connections children of its
 * {@link CONNECTION_SHARDS} connection shards (one child list per shard keeps starting, stopping,
 * hibernating and waking one cheap, see `connection-shard.machine.ts` and
 * `conversation-shard.machine.ts`). All share one system, one clock and one `inspect` hook, and
 * each is registered under a stable system id (`conversation:<id>`, `connection:<id>`) that the
 * inspector can address.
 */
import { enqueueActions, sendTo, setup } from 'xstate';
import {
  CONNECTION_SHARDS,
  connectionShardMachine,
  shardInput,
  shardKey,
  shardOf,
} from './connection-shard.machine.js';
import type { ConnectionMachineInput, SocketPort } from './connection.machine.js';
import {
  CONVERSATION_SHARDS,
  conversationShardKey,
  conversationShardKeyAt,
  conversationShardMachine,
  type ConversationShardInput,
} from './conversation-shard.machine.js';
import type { Role } from './membership.js';

export { connectionKey, conversationKey } from './system-ids.js';

/** How the root builds its children's inputs. */
export interface ParleyMachineInput extends ConversationShardInput {
  /** Time between two pings of each connection (each shard keeps its connections' heartbeat). */
  heartbeatIntervalMs: number;
  connectionInput(
    base: Pick<
      ConnectionMachineInput,
      'connectionId' | 'userId' | 'conversationId' | 'socket' | 'since' | 'role' | 'readOnly'
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
      readOnly?: true;
      /** The agent a new conversation gets; ignored when the conversation exists. */
      agentId?: string;
    }
  /** Spawns the conversation when it is not running (a membership change over HTTP). */
  | { type: 'conversation.ensure'; conversationId: string; agentId?: string }
  | { type: 'connection.closed'; connectionId: string }
  | { type: 'system.shutdown' };

/**
 * The root machine: spawns its shards at start, and on `connection.open` has the conversation's
 * shard start (or wake) the conversation and the connection's shard start the connection.
 *
 * `connection.open` is synchronous end to end: the two `sendTo`s run in order when the root's
 * step ends, still inside `root.send`, and each shard (whose own mailbox is idle) spawns right
 * then, so the conversation exists before the connection joins it and
 * `system.get('connection:<id>')` finds the connection as soon as `send` returns.
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
  actors: { conversationShard: conversationShardMachine, connectionShard: connectionShardMachine },
}).createMachine({
  id: 'parley',
  context: ({ input }) => input,
  entry: enqueueActions(({ context, enqueue }) => {
    for (let index = 0; index < CONVERSATION_SHARDS; index += 1) {
      enqueue.spawnChild('conversationShard', {
        id: conversationShardKeyAt(index),
        systemId: conversationShardKeyAt(index),
        input: {
          conversationIdleMs: context.conversationIdleMs,
          conversationInput: (conversationId, awoken) =>
            context.conversationInput(conversationId, awoken),
          wakeConversation: (conversationId) => {
            context.wakeConversation(conversationId);
          },
          hibernatedEffects: (conversationId) => context.hibernatedEffects(conversationId),
        },
      });
    }
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
        sendTo(
          ({ event }) => conversationShardKey(event.conversationId),
          ({ event }) => ({
            type: 'conversation.spawn' as const,
            conversationId: event.conversationId,
            ...(event.agentId === undefined ? {} : { agentId: event.agentId }),
          }),
        ),
        // Sent after the one above, so the conversation (new, woken or running) is registered.
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
              ...(event.readOnly === undefined ? {} : { readOnly: event.readOnly }),
            }),
          }),
        ),
      ],
    },
    'conversation.ensure': {
      actions: sendTo(
        ({ event }) => conversationShardKey(event.conversationId),
        ({ event }) => ({
          type: 'conversation.spawn' as const,
          conversationId: event.conversationId,
          ...(event.agentId === undefined ? {} : { agentId: event.agentId }),
        }),
      ),
    },
    // Connections tell their shard themselves; this is for anyone else who closes one.
    'connection.closed': {
      actions: sendTo(
        ({ event }) => shardKey(shardOf(event.connectionId)),
        ({ event }) => event,
      ),
    },
    // Shards stay (they are stateless but for what they keep): a later connection.open still
    // finds its shards.
    'system.shutdown': {
      actions: enqueueActions(({ enqueue, self }) => {
        for (const child of Object.values(self.getSnapshot().children)) {
          if (child !== undefined) enqueue.sendTo(child, { type: 'system.shutdown' });
        }
      }),
    },
  },
});
