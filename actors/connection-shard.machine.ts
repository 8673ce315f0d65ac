/**
 * Over 300 lines because spawning, the heartbeat and hibernation share the shard's one child
 * list and its map of hibernated connections.
 *
 * A connection shard: one of {@link CONNECTION_SHARDS} plumbing actors under the root that hold
 * the connection actors. XState copies a parent's `children` object on every spawn and every
 * stop, so a root that held every connection paid O(open connections) to open or close one
 * (16.7 s to go from 5,000 to 10,000 connections); spread over 64 shards it pays O(n / 64)
 * (docs/PERFORMANCE.md, "The hot path", item 2). Connections keep their `connection:<id>` system
 * ids, so nothing outside the root and the engine's shutdown needs to know the shards exist.
 *
 * A shard also keeps its connections' heartbeat: one timer per shard sends `heartbeat.tick` to
 * each of them, as ws's own heartbeat example runs one interval over all clients. A delayed
 * transition per connection cost each idle connection ~0.75 KiB of heap (its scheduled event, key
 * and Node timer). A shard ticks only while it has connections; its first tick comes
 * `(index + 1) / 64` of an interval after its first connection, so the shards' pings go out in
 * small bursts rather than one burst of every connection.
 *
 * And a shard keeps its hibernated connections (`connection.machine.ts`, "Hibernation"): the
 * context each handed over when it hibernated, in a map the shard's actions update in place (a
 * copied map per change would cost O(connections in the shard), the cost the shards exist to
 * avoid). For a hibernated connection the shard does what `open.joined` would do with a heartbeat
 * tick (ping, count the missed pong) and a pong (reset the count); any other event, or a tick
 * after too many missed pongs, wakes it: a new connection actor spawned from that context, which
 * then receives the event.
 */
import { enqueueActions, setup, stopChild, type ActorRefFrom, type AnyActorRef } from 'xstate';
import { connectionContext } from './connection-context.js';
import { tickVerdict } from './heartbeat.js';
import { connectionKey, stableHash } from './system-ids.js';
import {
  connectionMachine,
  type ConnectionContext,
  type ConnectionEvent,
  type ConnectionMachineInput,
} from './connection.machine.js';

/** How many shards the root spawns; a connection lives in shard `shardOf(connectionId)`. */
export const CONNECTION_SHARDS = 64;

/** The id prefix of the shards: `connections:0` … `connections:63` (not `connection:`). */
const SHARD_PREFIX = 'connections:';

export { connectionKey } from './system-ids.js';

/**
 * The id (and system id) of shard `index`.
 *
 * @example
 * shardKey(7) // 'connections:7'
 */
export const shardKey = (index: number) => `${SHARD_PREFIX}${String(index)}`;

/**
 * Whether an actor is a connection shard, by its id (set before XState reports the actor, unlike
 * its system id). The inspector skips shards: they are plumbing, not part of the actor tree.
 *
 * @example
 * isConnectionShard(root.system.get('connections:0')) // true
 */
export function isConnectionShard(ref: AnyActorRef): boolean {
  return ref.id.startsWith(SHARD_PREFIX);
}

/**
 * The shard that owns a connection: a stable hash of its id (FNV-1a, then murmur3's finalizer so
 * the low bits mix well), modulo {@link CONNECTION_SHARDS}. Same id, same shard, in every process.
 *
 * @example
 * shardOf('conn_9b2f0c7d1a6e4b35') // a number in 0 … 63, always the same one
 */
export function shardOf(connectionId: string): number {
  return stableHash(connectionId) % CONNECTION_SHARDS;
}

/** Input of a shard. */
export interface ConnectionShardInput {
  /** Time between two `heartbeat.tick`s to every connection of the shard. */
  heartbeatIntervalMs: number;
  /** From the first connection to the first tick (spreads the shards' ticks over an interval). */
  firstHeartbeatMs: number;
}

/**
 * The input of shard `index`: its first tick comes `(index + 1) / CONNECTION_SHARDS` of an
 * interval after its first connection, in whole milliseconds.
 *
 * @example
 * shardInput(0, 30_000) // { heartbeatIntervalMs: 30_000, firstHeartbeatMs: 468 }
 */
export function shardInput(index: number, heartbeatIntervalMs: number): ConnectionShardInput {
  return {
    heartbeatIntervalMs,
    // Whole milliseconds: a replay's virtual clock would otherwise stamp frames with fractions.
    firstHeartbeatMs: Math.max(
      1,
      Math.floor((heartbeatIntervalMs * (index + 1)) / CONNECTION_SHARDS),
    ),
  };
}

/** The context of a shard: its input, and its hibernated connections by connection id. */
export interface ConnectionShardContext extends ConnectionShardInput {
  hibernated: Map<string, ConnectionContext>;
}

/** Events of a shard. */
export type ConnectionShardEvent =
  | { type: 'connection.spawn'; input: ConnectionMachineInput }
  | { type: 'connection.closed'; connectionId: string }
  /** From a connection actor that just hibernated: its context, kept until it wakes. */
  | { type: 'connection.hibernated'; context: ConnectionContext }
  /** An event for a connection that has no running actor (see {@link sendToConnection}). */
  | { type: 'connection.deliver'; connectionId: string; event: ConnectionEvent }
  | { type: 'system.shutdown' }
  /** Raised by the shard itself when a tick finds no connection. */
  | { type: 'heartbeat.idle' };

/** The two actions {@link wake} enqueues (a subset of XState's `enqueue`). */
interface WakeQueue {
  spawnChild(
    src: 'connection',
    options: { id: string; systemId: string; input: ConnectionMachineInput },
  ): unknown;
  sendTo(to: string, event: ConnectionEvent): void;
}

/** Spawns a hibernated connection's new actor from its context, then hands it the event. */
function wake(
  context: ConnectionShardContext,
  enqueue: WakeQueue,
  sleeper: ConnectionContext,
  event: ConnectionEvent,
): void {
  const key = connectionKey(sleeper.connectionId);
  context.hibernated.delete(sleeper.connectionId);
  enqueue.spawnChild('connection', { id: key, systemId: key, input: sleeper });
  enqueue.sendTo(key, event);
}

/** The shard machine's actions and delays. */
const shardSetup = setup({
  types: {
    context: {} as ConnectionShardContext,
    events: {} as ConnectionShardEvent,
    input: {} as ConnectionShardInput,
  },
  actors: { connection: connectionMachine },
  actions: {
    /** Pings hibernated sockets and counts the pong each owes (the shard's copy, in place). */
    pingHibernated: ({ context }, params: { connectionIds: readonly string[] }) => {
      for (const connectionId of params.connectionIds) {
        const sleeper = context.hibernated.get(connectionId);
        if (sleeper === undefined) continue;
        sleeper.socket.ping();
        sleeper.missedPongs += 1;
      }
    },
    spawn: enqueueActions(({ enqueue, event }) => {
      if (event.type !== 'connection.spawn') return;
      const key = connectionKey(event.input.connectionId);
      enqueue.spawnChild('connection', { id: key, systemId: key, input: event.input });
    }),
    keep: ({ context, event }) => {
      if (event.type !== 'connection.hibernated') return;
      // A compact copy: the handed-over context went through `assign` (see connectionContext).
      context.hibernated.set(event.context.connectionId, connectionContext(event.context));
    },
    deliver: enqueueActions(({ context, enqueue, event, self }) => {
      if (event.type !== 'connection.deliver') return;
      const key = connectionKey(event.connectionId);
      // Woken since the event was addressed here: the running actor takes it.
      const running = self.getSnapshot().children[key];
      if (running !== undefined) {
        enqueue.sendTo(running, event.event);
        return;
      }
      const sleeper = context.hibernated.get(event.connectionId);
      if (sleeper === undefined) return;
      if (event.event.type === 'socket.pong') sleeper.missedPongs = 0;
      else wake(context, enqueue, sleeper, event.event);
    }),
  },
  delays: {
    firstHeartbeat: ({ context }) => context.firstHeartbeatMs,
    heartbeat: ({ context }) => context.heartbeatIntervalMs,
  },
});

/**
 * One heartbeat of every connection of the shard: a tick to each running connection, and for each
 * hibernated one what `open.joined` would do with it (heartbeat.ts decides): a ping, counted, or a
 * wake to terminate it. The pings are one named action, so a pure `transition()` pings nothing.
 */
const tick = shardSetup.createAction(
  enqueueActions(({ context, enqueue, self }) => {
    const children = Object.values(self.getSnapshot().children);
    // With no connection left the shard stops ticking: an idle server sets no timers, and a
    // replay, which runs its virtual clock until nothing is scheduled, can end.
    if (children.length === 0 && context.hibernated.size === 0) {
      enqueue.raise({ type: 'heartbeat.idle' });
    }
    for (const child of children) {
      if (child !== undefined) enqueue.sendTo(child, { type: 'heartbeat.tick' });
    }
    const toPing: string[] = [];
    for (const sleeper of context.hibernated.values()) {
      if (tickVerdict(sleeper, sleeper.effects.now()) === 'terminate') {
        enqueue.raise({
          type: 'connection.deliver',
          connectionId: sleeper.connectionId,
          event: { type: 'heartbeat.tick' },
        });
      } else toPing.push(sleeper.connectionId);
    }
    if (toPing.length > 0) enqueue({ type: 'pingHibernated', params: { connectionIds: toPing } });
  }),
);

/**
 * The shard machine: spawns each connection it is given as `connection:<id>` (id and system id),
 * stops it when it closes (the connection tells its parent, this shard), stops all of them on
 * `system.shutdown`, and, while it has any, sends each of them `heartbeat.tick` once per heartbeat
 * interval.
 *
 * @example
 * root.system.get(shardKey(shardOf(input.connectionId)))?.send({ type: 'connection.spawn', input });
 */
export const connectionShardMachine = shardSetup.extend({ actions: { tick } }).createMachine({
  id: 'connections',
  context: ({ input }) => ({ ...input, hibernated: new Map() }),
  initial: 'idle',
  states: {
    idle: { on: { 'connection.spawn': { target: 'starting', actions: 'spawn' } } },
    starting: { after: { firstHeartbeat: { target: 'beating', actions: 'tick' } } },
    beating: {
      after: { heartbeat: { target: 'beating', reenter: true, actions: 'tick' } },
      on: { 'heartbeat.idle': 'idle' },
    },
  },
  on: {
    'connection.spawn': { actions: 'spawn' },
    'connection.closed': {
      actions: [
        ({ context, event }) => {
          context.hibernated.delete(event.connectionId);
        },
        stopChild(({ event }) => connectionKey(event.connectionId)),
      ],
    },
    'connection.hibernated': {
      actions: ['keep', stopChild(({ event }) => connectionKey(event.context.connectionId))],
    },
    'connection.deliver': { actions: 'deliver' },
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

/** A running shard. */
export type ConnectionShardRef = ActorRefFrom<typeof connectionShardMachine>;

/** The part of an actor system this module needs: look an actor up by system id. */
interface ActorLookup {
  get(systemId: string): AnyActorRef | undefined;
}

/**
 * Sends an event to a connection: to its actor when it runs, else through its shard, which wakes
 * it if it hibernates (or answers the heartbeat for it) and drops the event if the connection is
 * gone.
 *
 * @example
 * sendToConnection(root.system, 'conn_1', { type: 'socket.pong' });
 */
export function sendToConnection(
  system: ActorLookup,
  connectionId: string,
  event: ConnectionEvent,
): void {
  const running = system.get(connectionKey(connectionId));
  if (running !== undefined) {
    running.send(event);
    return;
  }
  system
    .get(shardKey(shardOf(connectionId)))
    ?.send({ type: 'connection.deliver', connectionId, event });
}

/**
 * Whether a shard keeps a hibernated connection.
 *
 * @example
 * hibernatesIn(root.system.get(shardKey(shardOf('conn_1'))) as ConnectionShardRef, 'conn_1')
 */
export function hibernatesIn(shard: ConnectionShardRef, connectionId: string): boolean {
  return shard.getSnapshot().context.hibernated.has(connectionId);
}

/**
 * The ids of a shard's connections, running or hibernated.
 *
 * @example
 * connectionIdsOf(root.system.get(shardKey(0)) as ConnectionShardRef) // ['conn_1', …]
 */
export function connectionIdsOf(shard: ConnectionShardRef): {
  running: string[];
  hibernated: string[];
} {
  const snapshot = shard.getSnapshot();
  return {
    running: Object.keys(snapshot.children).map((key) => key.slice('connection:'.length)),
    hibernated: [...snapshot.context.hibernated.keys()],
  };
}
