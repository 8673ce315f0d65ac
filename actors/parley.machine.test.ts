import { describe, expect, it } from 'vitest';
import { SimulatedClock, createActor, type AnyActorRef, type InspectionEvent } from 'xstate';
import type { ConnectionActorRef, SocketPort } from './connection.machine.js';
import type { ConversationShardRef } from './conversation-shard.machine.js';
import { CONVERSATION_SHARDS, conversationShardKey, conversationShardKeyAt } from './system-ids.js';
import type { ConversationActorRef, ConversationEffects } from './conversation.machine.js';
import {
  CONNECTION_SHARDS,
  connectionIdsOf,
  sendToConnection,
  shardInput,
  shardKey,
  shardOf,
  type ConnectionShardRef,
} from './connection-shard.machine.js';
import { connectionKey, conversationKey, parleyMachine } from './parley.machine.js';
import {
  NO_CONVERSATION_EFFECTS,
  TEST_CONVERSATION_SETTINGS,
} from '../test/support/conversation-settings.js';

const IDLE_MS = 60_000;
const HEARTBEAT_MS = 30_000;

function createSocket(): SocketPort & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    send(data) {
      log.push(`send ${(JSON.parse(data) as { type: string }).type}`);
    },
    close(code, reason) {
      log.push(`close ${code} ${reason}`);
    },
    terminate() {
      log.push('terminate');
    },
    ping() {
      log.push('ping');
    },
  };
}

function createParley({
  hibernateAfterMs,
  inspect,
}: { hibernateAfterMs?: number; inspect?: (event: InspectionEvent) => void } = {}) {
  const clock = new SimulatedClock();
  const delivered: { recipients: readonly string[]; type: string }[] = [];
  const sockets = new Map<string, SocketPort>();
  const effects: ConversationEffects = {
    ...NO_CONVERSATION_EFFECTS,
    publish: ({ recipients, body }) => {
      delivered.push({ recipients, type: body.type });
    },
  };
  const root = createActor(parleyMachine, {
    clock,
    ...(inspect === undefined ? {} : { inspect }),
    input: {
      heartbeatIntervalMs: HEARTBEAT_MS,
      conversationIdleMs: IDLE_MS,
      wakeConversation: (conversationId) => {
        queueMicrotask(() => {
          (root.system.get(conversationShardKey(conversationId)) as AnyActorRef | undefined)?.send({
            type: 'conversation.wake',
            conversationId,
          });
        });
      },
      hibernatedEffects: () => effects,
      conversationInput: (conversationId) => ({
        conversationId,
        idSeed: 's',
        idleMs: IDLE_MS,
        effects,
        settings: {
          ...TEST_CONVERSATION_SETTINGS,
          welcomeLimits: {
            ...TEST_CONVERSATION_SETTINGS.welcomeLimits,
            heartbeat_interval_ms: HEARTBEAT_MS,
          },
        },
      }),
      connectionInput: (base) => ({
        ...base,
        ...(hibernateAfterMs === undefined ? {} : { hibernateAfterMs }),
        effects: {
          now: () => clock.now(),
          reply: (connectionId, body) => {
            sockets.get(connectionId)?.send(JSON.stringify(body));
          },
          takeRateToken: () => ({ allowed: true }),
          resume: () => undefined,
          history: () => undefined,
        },
      }),
    },
  }).start();

  return {
    clock,
    root,
    delivered,
    open(connectionId: string, conversationId = 'demo', userId = 'alice') {
      const socket = createSocket();
      sockets.set(connectionId, socket);
      root.send({ type: 'connection.open', connectionId, userId, conversationId, socket });
      return socket;
    },
    conversation(conversationId = 'demo') {
      return root.system.get(conversationKey(conversationId)) as ConversationActorRef | undefined;
    },
    connection(connectionId: string) {
      return root.system.get(connectionKey(connectionId)) as ConnectionActorRef | undefined;
    },
    /** An event for a connection, running or hibernated, as the engine sends it. */
    deliver(connectionId: string, event: Parameters<typeof sendToConnection>[2]) {
      sendToConnection(root.system, connectionId, event);
    },
    hibernated(connectionId: string) {
      const shard = root.system.get(shardKey(shardOf(connectionId))) as ConnectionShardRef;
      return connectionIdsOf(shard).hibernated.includes(connectionId);
    },
    shard(connectionId: string) {
      return root.system.get(shardKey(shardOf(connectionId))) as ConnectionShardRef | undefined;
    },
    /** The root's children but its shards, then the shards' children: one sorted list. */
    children() {
      const ids: string[] = [];
      for (const [id, child] of Object.entries(root.getSnapshot().children)) {
        if (!id.startsWith('connections:') && !id.startsWith('conversations:')) ids.push(id);
        else ids.push(...Object.keys((child as ConnectionShardRef).getSnapshot().children));
      }
      return ids.sort();
    },
  };
}

function required<TActor extends AnyActorRef>(actor: TActor | undefined): TActor {
  if (actor === undefined) throw new Error('actor is not registered');
  return actor;
}

describe('parleyMachine', () => {
  it('spawns conversation:<id> and connection:<id> registered in the system on connection.open', () => {
    const parley = createParley();

    const socket = parley.open('c1');

    const conversation = required(parley.conversation());
    const connection = required(parley.connection('c1'));
    expect(parley.children()).toEqual(['connection:c1', 'conversation:demo']);
    expect(conversation.getSnapshot().context.participants).toMatchObject([
      { connectionId: 'c1', userId: 'alice' },
    ]);
    expect(connection.getSnapshot().value).toEqual({ open: 'joined' });
    expect(parley.delivered.slice(0, 2)).toEqual([
      { recipients: ['c1'], type: 'welcome' },
      { recipients: ['c1'], type: 'presence' },
    ]);
    expect(socket.log).toEqual([]);
  });

  it('reuses the conversation for a second connection to the same conversation', () => {
    const parley = createParley();
    parley.open('c1');
    const conversation = parley.conversation();

    parley.open('c2', 'demo', 'bob');

    expect(parley.conversation()).toBe(conversation);
    expect(parley.children()).toEqual(['connection:c1', 'connection:c2', 'conversation:demo']);
    expect(
      required(conversation)
        .getSnapshot()
        .context.participants.map((participant) => participant.connectionId),
    ).toEqual(['c1', 'c2']);
  });

  it('keeps conversations apart by id', () => {
    const parley = createParley();
    parley.open('c1', 'demo');

    parley.open('c2', 'other');

    expect(parley.conversation('other')).not.toBe(parley.conversation('demo'));
    expect(parley.children()).toEqual([
      'connection:c1',
      'connection:c2',
      'conversation:demo',
      'conversation:other',
    ]);
  });

  it('removes a connection that closed and leaves its conversation', () => {
    const parley = createParley();
    parley.open('c1');
    parley.open('c2', 'demo', 'bob');

    required(parley.connection('c1')).send({ type: 'socket.closed', code: 1001 });

    expect(parley.connection('c1')).toBeUndefined();
    expect(parley.children()).toEqual(['connection:c2', 'conversation:demo']);
    expect(
      required(parley.conversation())
        .getSnapshot()
        .context.participants.map((participant) => participant.connectionId),
    ).toEqual(['c2']);
  });

  it('removes a conversation that stopped for idleness', () => {
    const parley = createParley();
    parley.open('c1');
    const conversation = required(parley.conversation());
    required(parley.connection('c1')).send({ type: 'socket.closed', code: 1000 });

    parley.clock.increment(IDLE_MS);

    expect(conversation.getSnapshot().status).toBe('stopped');
    expect(parley.conversation()).toBeUndefined();
    expect(parley.children()).toEqual([]);
    expect(parley.root.getSnapshot().status).toBe('active');
  });

  it('replaces a conversation that stopped for idleness with a fresh one on the next connection.open', () => {
    const parley = createParley();
    parley.open('c1');
    const stopped = required(parley.conversation());
    required(parley.connection('c1')).send({ type: 'socket.closed', code: 1000 });
    parley.clock.increment(IDLE_MS);
    expect(stopped.getSnapshot().status).toBe('stopped');

    parley.open('c2', 'demo', 'bob');

    expect(parley.root.getSnapshot().status).toBe('active');
    const fresh = required(parley.conversation());
    expect(fresh).not.toBe(stopped);
    expect(fresh.getSnapshot().status).toBe('active');
    expect(fresh.getSnapshot().context.participants).toMatchObject([
      { connectionId: 'c2', userId: 'bob' },
    ]);
    expect(fresh.getSnapshot().context.seq).toBe(1);
    expect(required(parley.connection('c2')).getSnapshot().value).toEqual({ open: 'joined' });
    expect(parley.children()).toEqual(['connection:c2', 'conversation:demo']);
  });

  it('stops every conversation and connection on system.shutdown, and stays usable', () => {
    const parley = createParley();
    parley.open('c1');
    parley.open('c2', 'other', 'bob');
    const actors = [
      required(parley.conversation('demo')),
      required(parley.conversation('other')),
      required(parley.connection('c1')),
      required(parley.connection('c2')),
    ];

    parley.root.send({ type: 'system.shutdown' });

    expect(parley.children()).toEqual([]);
    expect(actors.map((actor) => actor.getSnapshot().status)).toEqual([
      'stopped',
      'stopped',
      'stopped',
      'stopped',
    ]);
    expect(parley.conversation('demo')).toBeUndefined();
    expect(parley.connection('c1')).toBeUndefined();
    expect(parley.root.getSnapshot().status).toBe('active');
    parley.open('c3');
    expect(required(parley.connection('c3')).getSnapshot().value).toEqual({ open: 'joined' });
  });
});

describe('parleyMachine connection shards', () => {
  it("holds the shards as the root's children, each conversation and connection in its shard", () => {
    const parley = createParley();

    parley.open('c1');

    const shards = [
      ...Array.from({ length: CONNECTION_SHARDS }, (_, index) => shardKey(index)),
      ...Array.from({ length: CONVERSATION_SHARDS }, (_, index) => conversationShardKeyAt(index)),
    ];
    expect(Object.keys(parley.root.getSnapshot().children).sort()).toEqual(shards.sort());
    const conversations = parley.root.system.get(
      conversationShardKey('demo'),
    ) as ConversationShardRef;
    expect(Object.keys(conversations.getSnapshot().children)).toEqual(['conversation:demo']);
    const shard = required(parley.shard('c1'));
    expect(shard.id).toBe(shardKey(shardOf('c1')));
    expect(Object.keys(shard.getSnapshot().children)).toEqual(['connection:c1']);
    expect(shard.getSnapshot().children['connection:c1']).toBe(parley.connection('c1'));
  });

  it('has the connection actor in the system as soon as root.send(connection.open) returns', () => {
    const parley = createParley();

    const socket = parley.open('c1');
    const connection = parley.root.system.get(connectionKey('c1')) as
      ConnectionActorRef | undefined;
    required(connection).send({ type: 'frame.received', frame: { type: 'ping', id: 'p1' } });

    expect(required(connection).getSnapshot().status).toBe('active');
    expect(socket.log).toEqual(['send pong']);
  });

  it('stops a connection closed right after it opened and removes it from its shard', () => {
    const parley = createParley();
    parley.open('c1');
    parley.open('c2', 'demo', 'bob');
    const connection = required(parley.connection('c1'));

    parley.root.send({ type: 'connection.closed', connectionId: 'c1' });

    expect(connection.getSnapshot().status).toBe('stopped');
    expect(parley.connection('c1')).toBeUndefined();
    expect(Object.keys(required(parley.shard('c1')).getSnapshot().children)).not.toContain(
      'connection:c1',
    );
    expect(parley.children()).toEqual(['connection:c2', 'conversation:demo']);
  });

  it('stops a connection whose socket closed in the shard that owns it', () => {
    const parley = createParley();
    parley.open('c1');
    const connection = required(parley.connection('c1'));

    connection.send({ type: 'socket.closed', code: 1001 });

    expect(connection.getSnapshot().status).toBe('stopped');
    expect(parley.connection('c1')).toBeUndefined();
    expect(required(parley.shard('c1')).getSnapshot().children).toEqual({});
  });
});

/** shardOf of 'c1', 'c2', 'conn_9b2f0c7d1a6e4b35' and '' (FNV-1a, murmur3 finalizer, mod 64). */
const PINNED = [46, 54, 5, 11];

describe('shardOf', () => {
  it('gives the same shard for the same id, in every process', () => {
    expect(shardOf('conn_9b2f0c7d1a6e4b35')).toBe(shardOf('conn_9b2f0c7d1a6e4b35'));
    // Pinned values: the hash must not depend on the process (no random seed, no Map order).
    expect(['c1', 'c2', 'conn_9b2f0c7d1a6e4b35', ''].map(shardOf)).toEqual(PINNED);
  });

  it.each([
    ['hex ids', (index: number) => `conn_${index.toString(16).padStart(16, '0')}`],
    ['seeded ids', (index: number) => `conn_k3x9q2_${String(index + 1)}`],
  ])('spreads 10,000 %s over every shard, none above 3x the mean', (_, idOf) => {
    const counts = new Array<number>(CONNECTION_SHARDS).fill(0);
    for (let index = 0; index < 10_000; index += 1) {
      const shard = shardOf(idOf(index));
      expect(Number.isInteger(shard) && shard >= 0 && shard < CONNECTION_SHARDS).toBe(true);
      counts[shard] = (counts[shard] ?? 0) + 1;
    }

    const mean = 10_000 / CONNECTION_SHARDS;
    expect(Math.min(...counts)).toBeGreaterThan(0);
    expect(Math.max(...counts)).toBeLessThanOrEqual(3 * mean);
  });
});

describe('heartbeat', () => {
  const STEP_MS = HEARTBEAT_MS / CONNECTION_SHARDS;
  /** SimulatedClock fires a re-entered `after` once per increment: advance in small steps. */
  const advance = (clock: SimulatedClock, intervals: number) => {
    for (let step = 0; step < intervals * CONNECTION_SHARDS; step += 1) clock.increment(STEP_MS);
  };
  /** A connection id that lands in `shard`. */
  const idInShard = (shard: number) => {
    for (let index = 0; ; index += 1) if (shardOf(`c${index}`) === shard) return `c${index}`;
  };
  const pings = (socket: { log: string[] }) =>
    socket.log.filter((entry) => entry === 'ping').length;

  it('spreads the shards over one interval: shard i first ticks (i + 1) / 64 of it after start', () => {
    expect(shardInput(0, HEARTBEAT_MS)).toEqual({
      heartbeatIntervalMs: HEARTBEAT_MS,
      firstHeartbeatMs: 468,
    });
    // Whole milliseconds, so that a replay's virtual clock never stamps a fraction.
    for (let index = 0; index < CONNECTION_SHARDS; index += 1) {
      expect(Number.isInteger(shardInput(index, HEARTBEAT_MS).firstHeartbeatMs)).toBe(true);
    }
    expect(shardInput(CONNECTION_SHARDS - 1, HEARTBEAT_MS).firstHeartbeatMs).toBe(HEARTBEAT_MS);

    const parley = createParley();
    const first = parley.open(idInShard(0));
    const last = parley.open(idInShard(CONNECTION_SHARDS - 1));
    parley.clock.increment(STEP_MS);
    expect([pings(first), pings(last)]).toEqual([1, 0]);
    for (let step = 1; step < CONNECTION_SHARDS; step += 1) parley.clock.increment(STEP_MS);
    expect([pings(first), pings(last)]).toEqual([1, 1]);
  });

  it('keeps no timer while a shard has no connection', () => {
    const parley = createParley();
    const states = () =>
      Array.from(
        { length: CONNECTION_SHARDS },
        (_, index) =>
          (parley.root.system.get(shardKey(index)) as ConnectionShardRef).getSnapshot().value,
      );
    expect(new Set(states())).toEqual(new Set(['idle']));

    const socket = parley.open('c1');
    const shard = required(parley.shard('c1'));
    expect(shard.getSnapshot().value).toBe('starting');
    advance(parley.clock, 1);
    expect(shard.getSnapshot().value).toBe('beating');

    parley.connection('c1')?.send({ type: 'socket.closed', code: 1000 });
    advance(parley.clock, 1);
    expect(new Set(states())).toEqual(new Set(['idle']));
    const pinged = pings(socket);
    advance(parley.clock, 3);
    expect(pings(socket)).toBe(pinged);
  });

  it('pings every connection once per interval, whatever its shard', () => {
    const parley = createParley();
    const sockets = Array.from({ length: 40 }, (_, index) =>
      parley.open(`c${index}`, `room${index % 8}`),
    );
    expect(new Set(sockets.map((_, index) => shardOf(`c${index}`))).size).toBeGreaterThan(20);

    advance(parley.clock, 1);
    expect(sockets.map(pings)).toEqual(sockets.map(() => 1));
    advance(parley.clock, 1);
    expect(sockets.map(pings)).toEqual(sockets.map(() => 2));
  });

  it('terminates a connection that stopped answering, and never ticks it again; one that answers stays', () => {
    const parley = createParley();
    const silent = parley.open('c1');
    const answering = parley.open('c2', 'demo', 'bob');
    const answer = () => {
      parley.connection('c2')?.send({ type: 'socket.pong' });
    };

    for (let interval = 0; interval < 5; interval += 1) {
      advance(parley.clock, 1);
      answer();
    }

    expect(silent.log.filter((entry) => entry === 'ping' || entry === 'terminate')).toEqual([
      'ping',
      'ping',
      'terminate',
    ]);
    expect(parley.connection('c1')).toBeUndefined();
    expect(pings(answering)).toBe(5);
    expect(answering.log).not.toContain('terminate');
    expect(required(parley.connection('c2')).getSnapshot().value).toEqual({ open: 'joined' });
  });
});

describe('hibernation', () => {
  const STEP_MS = HEARTBEAT_MS / CONNECTION_SHARDS;
  const advance = (clock: SimulatedClock, intervals: number) => {
    for (let step = 0; step < intervals * CONNECTION_SHARDS; step += 1) clock.increment(STEP_MS);
  };
  const count = (socket: { log: string[] }, entry: string) =>
    socket.log.filter((item) => item === entry).length;
  const participants = (parley: ReturnType<typeof createParley>) =>
    required(parley.conversation())
      .getSnapshot()
      .context.participants.map((participant) => participant.connectionId);
  /** Two connections of `demo` that hibernate after one quiet interval, both hibernated. */
  function hibernatedPair() {
    const parley = createParley({ hibernateAfterMs: HEARTBEAT_MS });
    const sockets = { c1: parley.open('c1'), c2: parley.open('c2', 'demo', 'bob') };
    advance(parley.clock, 1);
    parley.deliver('c1', { type: 'socket.pong' });
    parley.deliver('c2', { type: 'socket.pong' });
    advance(parley.clock, 1);
    return { parley, sockets };
  }

  it('replaces a quiet connection actor by its context in its shard; it stays a participant', () => {
    const { parley } = hibernatedPair();

    expect(parley.connection('c1')).toBeUndefined();
    expect(parley.hibernated('c1')).toBe(true);
    expect(parley.hibernated('c2')).toBe(true);
    expect(parley.children()).toEqual(['conversation:demo']);
    expect(participants(parley)).toEqual(['c1', 'c2']);
  });

  it('pings a hibernated socket every interval; its pongs keep it open without waking it', () => {
    const { parley, sockets } = hibernatedPair();
    const before = count(sockets.c1, 'ping');

    for (let interval = 0; interval < 5; interval += 1) {
      advance(parley.clock, 1);
      parley.deliver('c1', { type: 'socket.pong' });
    }

    expect(count(sockets.c1, 'ping')).toBe(before + 5);
    expect(sockets.c1.log).not.toContain('terminate');
    expect(parley.connection('c1')).toBeUndefined();
    expect(parley.hibernated('c1')).toBe(true);
  });

  it('wakes a hibernated connection to terminate it after two missed pongs', () => {
    const { parley, sockets } = hibernatedPair();

    // c2 keeps answering; c1's ping at hibernation got its pong, the next two get none.
    for (let interval = 0; interval < 3; interval += 1) {
      advance(parley.clock, 1);
      parley.deliver('c2', { type: 'socket.pong' });
    }

    expect(count(sockets.c1, 'terminate')).toBe(1);
    expect(parley.hibernated('c1')).toBe(false);
    expect(parley.connection('c1')).toBeUndefined();
    expect(participants(parley)).toEqual(['c2']);
    expect(sockets.c2.log).not.toContain('terminate');
  });

  it('wakes on a frame, in open.joined without a second welcome, and forwards the frame', () => {
    const { parley } = hibernatedPair();
    const welcomes = () => parley.delivered.filter((frame) => frame.type === 'welcome').length;
    const before = welcomes();

    parley.deliver('c1', {
      type: 'frame.received',
      frame: { type: 'typing_indicator', is_typing: true },
    });

    const woken = required(parley.connection('c1'));
    expect(woken.getSnapshot().value).toEqual({ open: 'joined' });
    expect(woken.getSnapshot().context.hibernations).toBe(1);
    expect(parley.hibernated('c1')).toBe(false);
    expect(welcomes()).toBe(before);
    expect(parley.delivered.at(-1)).toEqual({ recipients: ['c1', 'c2'], type: 'typing_indicator' });
  });

  it('leaves the conversation when a hibernated socket closes', () => {
    const { parley } = hibernatedPair();

    parley.deliver('c1', { type: 'socket.closed', code: 1001 });

    expect(parley.hibernated('c1')).toBe(false);
    expect(parley.connection('c1')).toBeUndefined();
    expect(participants(parley)).toEqual(['c2']);
    expect(parley.delivered.at(-1)).toEqual({ recipients: ['c2'], type: 'presence' });
  });

  it('keeps its shard ticking while only hibernated connections are left, and stops it after', () => {
    const { parley } = hibernatedPair();
    const shard = required(parley.shard('c1'));
    expect(shard.getSnapshot().value).toBe('beating');

    parley.deliver('c1', { type: 'socket.closed', code: 1000 });
    parley.deliver('c2', { type: 'socket.closed', code: 1000 });
    advance(parley.clock, 1);

    expect(required(parley.shard('c1')).getSnapshot().value).toBe('idle');
    expect(required(parley.shard('c2')).getSnapshot().value).toBe('idle');
  });

  it('drops an event for a connection that is gone', () => {
    const { parley } = hibernatedPair();
    parley.deliver('c1', { type: 'socket.closed', code: 1000 });
    const delivered = parley.delivered.length;

    parley.deliver('c1', { type: 'frame.received', frame: { type: 'ping' } });
    parley.deliver('nobody', { type: 'socket.pong' });

    expect(parley.connection('c1')).toBeUndefined();
    expect(parley.delivered.length).toBe(delivered);
  });
});

describe('ending actors', () => {
  it('sends no parent a done event: each would stay memoized in its machine for good', () => {
    // XState memoizes transition candidates per event type in every state node it consults, and
    // `xstate.done.actor.<id>` is a new type for every connection and conversation (~180 bytes
    // each, measured); so no child of Parley's reaches a final state: its parent stops it.
    const received: string[] = [];
    const parley = createParley({
      hibernateAfterMs: HEARTBEAT_MS,
      inspect: (event) => {
        if (event.type === '@xstate.event') received.push(event.event.type);
      },
    });
    parley.open('c1');
    parley.open('c2', 'demo', 'bob');
    for (let step = 0; step < 2 * CONNECTION_SHARDS; step += 1) {
      parley.clock.increment(HEARTBEAT_MS / CONNECTION_SHARDS);
    }
    expect(parley.hibernated('c1')).toBe(true);
    parley.deliver('c1', { type: 'socket.closed', code: 1000 });
    parley.deliver('c2', { type: 'socket.closed', code: 1000 });
    parley.clock.increment(IDLE_MS);

    expect(parley.conversation()).toBeUndefined();
    expect(received).toEqual(
      expect.arrayContaining([
        'connection.hibernated',
        'connection.closed',
        'conversation.stopped',
      ]),
    );
    expect(received.filter((type) => type.startsWith('xstate.done.actor.'))).toEqual([]);
  });
});
