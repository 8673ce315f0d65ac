import { EMPTY } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { SimulatedClock, createActor, type AnyActorRef } from 'xstate';
import type { ConnectionActorRef, SocketPort } from './connection.machine.js';
import type { ConversationActorRef, ConversationEffects } from './conversation.machine.js';
import { connectionKey, conversationKey, parleyMachine } from './parley.machine.js';
import { TEST_CONVERSATION_SETTINGS } from '../test/support/conversation-settings.js';

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

function createParley() {
  const clock = new SimulatedClock();
  const delivered: { recipients: readonly string[]; type: string }[] = [];
  let counter = 0;
  const pool: ConversationEffects['pool'] = {
    reserve: () => true,
    release: () => undefined,
    submit: () => undefined,
    cancel: () => true,
    waiting: 0,
    maxWaiting: 100,
  };
  const effects: ConversationEffects = {
    now: () => clock.now(),
    nextId: (prefix) => {
      counter += 1;
      return `${prefix}_${counter}`;
    },
    deliver: ({ recipients, frame }) => {
      delivered.push({ recipients, type: frame.type });
    },
    record: () => undefined,
    pool,
    runTurn: () => EMPTY,
  };
  const root = createActor(parleyMachine, {
    clock,
    input: {
      conversationInput: (conversationId) => ({
        conversationId,
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
        heartbeatIntervalMs: HEARTBEAT_MS,
        effects: {
          now: () => clock.now(),
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
      root.send({ type: 'connection.open', connectionId, userId, conversationId, socket });
      return socket;
    },
    conversation(conversationId = 'demo') {
      return root.system.get(conversationKey(conversationId)) as ConversationActorRef | undefined;
    },
    connection(connectionId: string) {
      return root.system.get(connectionKey(connectionId)) as ConnectionActorRef | undefined;
    },
    children() {
      return Object.keys(root.getSnapshot().children).sort();
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

    expect(conversation.getSnapshot().status).toBe('done');
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
    expect(stopped.getSnapshot().status).toBe('done');

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

  it('stops every child on system.shutdown', () => {
    const parley = createParley();
    parley.open('c1');
    parley.open('c2', 'other', 'bob');

    parley.root.send({ type: 'system.shutdown' });

    expect(parley.children()).toEqual([]);
    expect(parley.conversation('demo')).toBeUndefined();
    expect(parley.connection('c1')).toBeUndefined();
  });
});
