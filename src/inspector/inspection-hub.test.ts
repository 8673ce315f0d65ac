import { describe, expect, it } from 'vitest';
import { assign, createActor, setup } from 'xstate';
import type { HibernatedConversation } from '../../actors/conversation.machine.js';
import { conversationShardMachine } from '../../actors/conversation-shard.machine.js';
import { InspectionHub, type HubListener } from './inspection-hub.js';

/**
 * A connection in miniature: `poke` counts, `sleep` ends it in the state `hibernated` (as
 * `actors/connection.machine.ts` does when it has been quiet), `close` in another state; as the
 * shard does, {@link end} then stops it (no final states: see the connection machine's `closed`).
 */
const sleeperMachine = setup({
  types: { context: {} as { pokes: number }, input: {} as { pokes: number } },
}).createMachine({
  id: 'connection',
  context: ({ input }) => ({ pokes: input.pokes }),
  initial: 'joined',
  states: {
    joined: {
      on: {
        poke: { actions: assign({ pokes: ({ context }) => context.pokes + 1 }) },
        sleep: 'hibernated',
        close: 'closed',
      },
    },
    hibernated: {},
    closed: {},
  },
});

/**
 * A hub, what its listener saw (changes; records, each with the actor's status when written), and
 * a way to start actors under it.
 */
function watchedHub() {
  const hub = new InspectionHub({ now: Date.now });
  const changes: string[] = [];
  const records: string[] = [];
  const listener: HubListener = {
    onRecord: (record) => {
      const status = hub.summary(record.path)?.status ?? 'gone';
      records.push(`${record.path} ${record.kind} (${status})`);
    },
    onActorChanged: (path, change) => changes.push(`${path} ${change}`),
  };
  hub.listen(listener);
  // The id too, as the shards spawn connections: XState reports an actor before its system id.
  const start = (path: string, pokes = 0) =>
    createActor(sleeperMachine, {
      id: path,
      systemId: path,
      input: { pokes },
      inspect: hub.inspect,
    }).start();
  const kinds = (path: string) => hub.recent(path).map((record) => record.kind);
  return { hub, changes, records, start, kinds };
}

/** Ends a miniature connection as its shard would: the event, then a stop. */
function end(
  actor: { send(event: { type: string }): void; stop(): unknown },
  how: 'sleep' | 'close',
) {
  actor.send({ type: how });
  actor.stop();
}

describe('InspectionHub, hibernating connections and conversations', () => {
  it('keeps the entry of a connection that hibernates, with its last state and context', () => {
    const { hub, changes, records, start, kinds } = watchedHub();
    const sleeper = start('connection:c1');
    sleeper.send({ type: 'poke' });

    end(sleeper, 'sleep');

    expect(sleeper.getSnapshot().status).toBe('stopped');
    expect(hub.summary('connection:c1')).toMatchObject({
      kind: 'connection',
      state: 'hibernated',
      status: 'hibernated',
    });
    expect(hub.context('connection:c1')).toEqual({ pokes: 1 });
    expect(kinds('connection:c1')).toContain('actor.hibernated');
    expect(kinds('connection:c1')).not.toContain('actor.stopped');
    expect(records).toContain('connection:c1 actor.hibernated (hibernated)');
    expect(changes).toContain('connection:c1 updated');
    expect(changes).not.toContain('connection:c1 removed');
    // Its actor is gone and no shard holds it (there is none here): nothing to send to.
    expect(hub.send('connection:c1', { type: 'poke' })).toBe(false);
  });

  it('reuses a hibernated entry for the actor woken at its path, recent records and all', () => {
    const { hub, changes, records, start, kinds } = watchedHub();
    const sleeper = start('connection:c1');
    sleeper.send({ type: 'poke' });
    end(sleeper, 'sleep');
    const before = hub.recent('connection:c1').map((record) => record.seq);

    const woken = start('connection:c1', 1);

    expect(hub.summary('connection:c1')).toMatchObject({ state: 'joined', status: 'active' });
    const after = hub.recent('connection:c1').map((record) => record.seq);
    expect(after.slice(0, before.length)).toEqual(before);
    expect(kinds('connection:c1').filter((kind) => kind.startsWith('actor.'))).toEqual([
      'actor.created',
      'actor.hibernated',
      'actor.woken',
    ]);
    expect(records).toContain('connection:c1 actor.woken (active)');
    expect(changes.filter((change) => change.endsWith(' added'))).toEqual(['connection:c1 added']);
    // The woken actor takes what is sent to the path.
    expect(hub.send('connection:c1', { type: 'poke' })).toBe(true);
    expect(woken.getSnapshot().context.pokes).toBe(2);
    expect(hub.context('connection:c1')).toEqual({ pokes: 2 });
  });

  it('keeps a conversation that hibernates too, and still removes an actor that ends in another state', () => {
    const { hub, changes, records, start } = watchedHub();
    const closing = start('connection:c2');
    const sleeping = start('conversation:x');
    const stopping = start('conversation:y');

    end(closing, 'close');
    end(sleeping, 'sleep');
    end(stopping, 'close');

    expect(hub.summary('conversation:x')).toMatchObject({
      kind: 'conversation',
      status: 'hibernated',
    });
    expect(records).toContain('conversation:x actor.hibernated (hibernated)');
    expect(hub.summary('connection:c2')).toBeUndefined();
    expect(hub.summary('conversation:y')).toBeUndefined();
    expect(records).toContain('connection:c2 actor.stopped (stopped)');
    expect(records).toContain('conversation:y actor.stopped (stopped)');
    expect(changes).toContain('connection:c2 removed');
    expect(changes).toContain('conversation:y removed');
  });

  it('does not let an actor that stops late remove the entry of the one now at its path', () => {
    const { hub, start } = watchedHub();
    const old = start('conversation:x');
    start('conversation:x');

    old.stop();

    expect(hub.summary('conversation:x')).toMatchObject({ status: 'active' });
  });
});

describe('InspectionHub, summaries', () => {
  const chatMachine = setup({
    types: {
      context: {} as {
        userId: string | null;
        participants: string[];
        activeTurn: { turnId: string; text: string } | null;
      },
      input: {} as { userId: string | null },
      events: {} as { type: 'join' } | { type: 'write'; text: string } | { type: 'done' },
    },
  }).createMachine({
    context: ({ input }) => ({ userId: input.userId, participants: [], activeTurn: null }),
    // The conversation's shape: a running turn's phase is its `working` state.
    initial: 'idle',
    on: {
      join: {
        actions: assign({ participants: ({ context }) => [...context.participants, 'x'] }),
      },
      write: {
        target: '.working.streaming',
        actions: assign({
          activeTurn: ({ event }) => ({ turnId: 'turn_1', text: event.text }),
        }),
      },
      done: { target: '.idle', actions: assign({ activeTurn: null }) },
    },
    states: { idle: {}, working: { initial: 'streaming', states: { streaming: {} } } },
  });

  function chatHub() {
    const hub = new InspectionHub({
      now: Date.now,
      limits: { maxString: 5, maxArray: 50, maxDepth: 6 },
    });
    const start = (path: string, userId?: string) =>
      createActor(chatMachine, {
        id: path,
        systemId: path,
        input: { userId: userId ?? null },
        inspect: hub.inspect,
      }).start();
    return { hub, start };
  }

  it('names the user of a connection, and no user for other actors', () => {
    const { hub, start } = chatHub();
    start('connection:c1', 'alice');
    start('conversation:demo');
    expect(hub.summary('connection:c1')).toMatchObject({ user_id: 'alice', activity: null });
    expect(hub.summary('conversation:demo')?.user_id).toBeNull();
  });

  it('gives a conversation its activity, with the end of the answer being written', () => {
    const { hub, start } = chatHub();
    const conversation = start('conversation:demo');
    conversation.send({ type: 'join' });
    conversation.send({ type: 'write', text: 'Hello, world' });
    expect(hub.summary('conversation:demo')?.activity).toEqual({
      participants: 1,
      turn_id: 'turn_1',
      turn_phase: 'streaming',
      answer: 'world',
      answer_offset: 7,
    });
  });

  it('lists busy conversations before idle ones, whatever their names', () => {
    const { hub, start } = chatHub();
    start('conversation:a-idle');
    start('conversation:m-occupied').send({ type: 'join' });
    const working = start('conversation:z-working');
    working.send({ type: 'write', text: '…' });
    const order = () =>
      hub
        .list()
        .filter((summary) => summary.kind === 'conversation')
        .map((summary) => summary.path);
    expect(order()).toEqual([
      'conversation:z-working',
      'conversation:m-occupied',
      'conversation:a-idle',
    ]);
    working.send({ type: 'done' });
    expect(order()).toEqual([
      'conversation:m-occupied',
      'conversation:a-idle',
      'conversation:z-working',
    ]);
  });
});

describe('InspectionHub, a leave a hibernated conversation takes in its shard', () => {
  /** A conversation shard under the hub, its conversation `room` hibernated with alice and bob. */
  function hibernatedRoom(watched: ReturnType<typeof watchedHub>) {
    const shard = createActor(conversationShardMachine, {
      id: 'conversations:0',
      inspect: watched.hub.inspect,
      input: {
        conversationIdleMs: 1_000,
        conversationInput: () => {
          throw new Error('no conversation starts here');
        },
        wakeConversation: () => undefined,
        hibernatedEffects: () => ({ publish: () => undefined, recordInput: () => undefined }),
      },
    }).start();
    // The conversation's actor ran under the hub, then hibernated (the miniature's `sleep`).
    end(watched.start('conversation:room'), 'sleep');
    const conversation: HibernatedConversation = {
      conversationId: 'room',
      seq: 5,
      idSeed: 's',
      turnsNamed: 0,
      messagesNamed: 0,
      participants: [
        { connectionId: 'c1', userId: 'alice' },
        { connectionId: 'c2', userId: 'bob' },
      ],
      typingUsers: [],
    };
    shard.send({ type: 'conversation.hibernated', conversation });
    return shard;
  }

  it('shows the leave on the hibernated entry, and the record it leaves as its context', () => {
    const watched = watchedHub();
    const shard = hibernatedRoom(watched);
    watched.changes.length = 0;

    shard.send({
      type: 'conversation.deliver',
      conversationId: 'room',
      event: { type: 'participant.leave', connectionId: 'c2' },
    });

    expect(watched.hub.summary('conversation:room')).toMatchObject({ status: 'hibernated' });
    expect(watched.hub.context('conversation:room')).toMatchObject({
      seq: 6,
      participants: [{ connectionId: 'c1', userId: 'alice' }],
    });
    const leave = watched.hub
      .recent('conversation:room')
      .filter((record) => record.kind === 'event')
      .at(-1);
    expect(leave?.raw).toMatchObject({
      event: { type: 'participant.leave', connectionId: 'c2' },
    });
    expect(watched.changes).toEqual(['conversation:room updated']);
    // The shard itself is still not an entry.
    expect(watched.hub.summary('conversations:0')).toBeUndefined();
  });

  it('leaves the entry alone for any other event the shard takes', () => {
    const watched = watchedHub();
    const shard = hibernatedRoom(watched);
    const before = watched.hub.recent('conversation:room').length;

    shard.send({
      type: 'conversation.deliver',
      conversationId: 'room',
      event: { type: 'user.typing', connectionId: 'c1', userId: 'alice', isTyping: true },
    });

    expect(watched.hub.recent('conversation:room')).toHaveLength(before);
    expect(watched.hub.context('conversation:room')).toEqual({ pokes: 0 });
  });
});
