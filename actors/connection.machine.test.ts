import { describe, expect, it } from 'vitest';
import {
  SimulatedClock,
  assign,
  createActor,
  sendTo,
  setup,
  type ActorRefFrom,
  type AnyActorRef,
  type AnyEventObject,
} from 'xstate';
import { stampFrame } from '../src/engine/stamp-frame.js';
import { connectionKey } from './system-ids.js';
import {
  connectionMachine,
  type ConnectionActorRef,
  type ConnectionEffects,
  type ConnectionEvent,
  type ConnectionMachineInput,
  type SocketPort,
  SLOW_CONSUMER_GRACE_MS,
} from './connection.machine.js';

const HEARTBEAT_MS = 30_000;
const CONVERSATION_SEQ = 7;

/** A socket that records, in order, everything the connection does to it. */
function createSocket() {
  const log: string[] = [];
  const sent: Record<string, unknown>[] = [];
  const socket: SocketPort = {
    send(data) {
      log.push('send');
      sent.push(JSON.parse(data) as Record<string, unknown>);
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
  const count = (entry: string) => log.filter((item) => item === entry).length;
  return { socket, log, sent, count };
}

type JoinAnswer = 'joined' | 'rejected' | 'silent';

/** The connection actor that sent a join, found by its system id as the real conversation does. */
const joiner = (event: AnyEventObject, system: { get(id: string): unknown }) =>
  system.get(connectionKey(String(event.connectionId))) as AnyActorRef;

/**
 * A stand-in for the conversation actor, registered as `conversation:demo` beside the connection:
 * it answers `participant.join` (or stays silent) and records every event it receives.
 */
const fakeConversationMachine = setup({
  types: {
    context: {} as { seq: number; answer: JoinAnswer; events: AnyEventObject[] },
    events: {} as AnyEventObject,
    input: {} as { answer: JoinAnswer },
  },
  actions: {
    record: assign({
      events: ({ context, event }): AnyEventObject[] => [...context.events, event],
    }),
  },
}).createMachine({
  context: ({ input }) => ({ seq: CONVERSATION_SEQ, answer: input.answer, events: [] }),
  on: {
    'participant.join': [
      {
        guard: ({ context }) => context.answer === 'joined',
        actions: [
          'record',
          sendTo(({ event, system }) => joiner(event, system), { type: 'conversation.joined' }),
        ],
      },
      {
        guard: ({ context }) => context.answer === 'rejected',
        actions: [
          'record',
          sendTo(({ event, system }) => joiner(event, system), {
            type: 'conversation.rejected',
            code: 'conversation_full',
            message: 'The conversation has the maximum number of participants.',
          }),
        ],
      },
      { actions: 'record' },
    ],
    '*': { actions: 'record' },
  },
});

/**
 * The connection's parent: it records what the connection sends up (`connection.closed`) and, as
 * the real shard does (its ticking is tested in connection-shard.machine.test.ts), sends it
 * `heartbeat.tick` every `heartbeatIntervalMs`.
 */
const hostMachine = setup({
  types: {
    context: {} as HostInput & { events: AnyEventObject[] },
    events: {} as AnyEventObject,
    input: {} as HostInput,
  },
  actors: { connection: connectionMachine, conversation: fakeConversationMachine },
  delays: { heartbeat: ({ context }) => context.heartbeatIntervalMs },
}).createMachine({
  context: ({ input }) => ({ ...input, events: [] }),
  invoke: [
    {
      id: 'conversation',
      systemId: 'conversation:demo',
      src: 'conversation',
      input: ({ context }) => ({ answer: context.answer }),
    },
    {
      id: 'connection',
      systemId: 'connection:c1',
      src: 'connection',
      input: ({ context }) => context.connection,
    },
  ],
  initial: 'beating',
  states: {
    beating: {
      after: {
        heartbeat: {
          target: 'beating',
          reenter: true,
          actions: sendTo('connection', { type: 'heartbeat.tick' }),
        },
      },
    },
  },
  on: { '*': { actions: assign({ events: ({ context, event }) => [...context.events, event] }) } },
});

interface HostInput {
  connection: ConnectionMachineInput;
  answer: JoinAnswer;
  heartbeatIntervalMs: number;
}

interface Options {
  answer?: JoinAnswer;
  takeRateToken?: ConnectionEffects['takeRateToken'];
  resume?: ConnectionEffects['resume'];
  history?: ConnectionEffects['history'];
  heartbeatIntervalMs?: number;
  hibernateAfterMs?: number;
}

function createConnection({
  answer = 'joined',
  takeRateToken = () => ({ allowed: true }),
  resume = () => undefined,
  history = () => undefined,
  heartbeatIntervalMs = HEARTBEAT_MS,
  hibernateAfterMs,
}: Options = {}) {
  const clock = new SimulatedClock();
  const { socket, log, sent, count } = createSocket();
  const host = createActor(hostMachine, {
    clock,
    input: {
      connection: {
        connectionId: 'c1',
        userId: 'alice',
        conversationId: 'demo',
        socket,
        effects: {
          now: () => clock.now(),
          // As the engine's sockets do: a reply repeats the conversation's current seq.
          reply: (_connectionId, body) => {
            socket.send(JSON.stringify(stampFrame(body, 'demo', CONVERSATION_SEQ, clock.now())));
          },
          takeRateToken,
          resume,
          history,
        },
        ...(hibernateAfterMs === undefined ? {} : { hibernateAfterMs }),
      },
      answer,
      heartbeatIntervalMs,
    },
  }).start();
  const connection = host.getSnapshot().children.connection as ConnectionActorRef;
  const conversation = host.getSnapshot().children.conversation as ActorRefFrom<
    typeof fakeConversationMachine
  >;
  return {
    clock,
    connection,
    conversation,
    log,
    sent,
    count,
    value: () => connection.getSnapshot().value,
    conversationEvents: () => conversation.getSnapshot().context.events,
    parentEvents: () => host.getSnapshot().context.events,
  };
}

/**
 * Advances the clock one step at a time: SimulatedClock schedules a timer set while flushing from
 * the already advanced time, so one big increment fires a re-entered `after` only once.
 */
function advance(clock: SimulatedClock, stepMs: number, steps: number): void {
  for (let step = 0; step < steps; step += 1) clock.increment(stepMs);
}

const invalidFrame: ConnectionEvent = {
  type: 'frame.invalid',
  code: 'invalid_frame',
  message: 'The frame does not match any client frame.',
  issues: [{ path: 'type', message: 'unknown type' }],
};

describe('connectionMachine', () => {
  describe('handshake', () => {
    it('joins its conversation and is joined when the conversation answers', () => {
      const { value, conversationEvents } = createConnection();

      expect(conversationEvents()).toEqual([
        { type: 'participant.join', connectionId: 'c1', userId: 'alice' },
      ]);
      expect(value()).toEqual({ open: 'joined' });
    });

    it('sends the rejection and closes with its close code when the conversation is full', () => {
      const { value, log, sent, clock, parentEvents } = createConnection({ answer: 'rejected' });

      expect(sent).toEqual([
        {
          type: 'error',
          code: 'conversation_full',
          message: 'The conversation has the maximum number of participants.',
          conversation_id: 'demo',
          seq: CONVERSATION_SEQ,
          timestamp: 0,
        },
      ]);
      expect(log).toEqual(['send', 'close 1008 conversation_full']);
      expect(value()).toBe('closing');

      clock.increment(5_000);
      expect(log.at(-1)).toBe('terminate');
      expect(parentEvents().map((event) => event.type)).toContain('connection.closed');
    });
  });

  describe('heartbeat', () => {
    it('pings every heartbeatIntervalMs', () => {
      const { clock, count } = createConnection();

      clock.increment(HEARTBEAT_MS - 1);
      expect(count('ping')).toBe(0);
      clock.increment(1);
      expect(count('ping')).toBe(1);
      clock.increment(HEARTBEAT_MS - 1);
      expect(count('ping')).toBe(1);
      clock.increment(1);
      expect(count('ping')).toBe(2);
    });

    it('keeps the socket open while every ping gets a pong', () => {
      const { clock, count, connection, value } = createConnection();

      for (let tick = 0; tick < 10; tick += 1) {
        clock.increment(HEARTBEAT_MS);
        connection.send({ type: 'socket.pong' });
      }

      expect(count('ping')).toBe(10);
      expect(count('terminate')).toBe(0);
      expect(value()).toEqual({ open: 'joined' });
    });

    it('resets the missed pong count on a pong', () => {
      const { clock, count, connection } = createConnection();
      advance(clock, HEARTBEAT_MS, 2);
      expect(connection.getSnapshot().context.missedPongs).toBe(2);

      connection.send({ type: 'socket.pong' });
      expect(connection.getSnapshot().context.missedPongs).toBe(0);

      advance(clock, HEARTBEAT_MS, 2);
      expect(count('ping')).toBe(4);
      expect(count('terminate')).toBe(0);
    });

    it('terminates the socket after two missed pongs, at the third interval tick, and leaves the conversation', () => {
      const { clock, count, log, value, conversationEvents, parentEvents } = createConnection();

      advance(clock, HEARTBEAT_MS, 2);
      expect(count('ping')).toBe(2);
      expect(count('terminate')).toBe(0);

      clock.increment(HEARTBEAT_MS);

      expect(log).toEqual(['ping', 'ping', 'terminate']);
      expect(value()).toBe('closed');
      expect(parentEvents().map((event) => event.type)).toContain('connection.closed');
      expect(conversationEvents().at(-1)).toEqual({
        type: 'participant.leave',
        connectionId: 'c1',
      });
      expect(parentEvents()).toContainEqual({ type: 'connection.closed', connectionId: 'c1' });
    });
  });

  describe('frames', () => {
    it("answers a ping frame with a pong carrying its id and the conversation's current seq", () => {
      const { clock, connection, sent, conversationEvents } = createConnection();
      clock.increment(1_234);

      connection.send({ type: 'frame.received', frame: { type: 'ping', id: 'p1' } });

      expect(sent).toEqual([
        {
          type: 'pong',
          id: 'p1',
          conversation_id: 'demo',
          seq: CONVERSATION_SEQ,
          timestamp: 1_234,
        },
      ]);
      expect(conversationEvents().map((event) => event.type)).toEqual(['participant.join']);
    });

    it('forwards user_message, typing_indicator and cancel frames to the conversation', () => {
      const { connection, conversationEvents } = createConnection();

      connection.send({
        type: 'frame.received',
        frame: { type: 'user_message', content: 'Hello', client_message_id: 'm1' },
      });
      connection.send({
        type: 'frame.received',
        frame: { type: 'typing_indicator', is_typing: true },
      });
      connection.send({ type: 'frame.received', frame: { type: 'cancel', turn_id: 'turn_1' } });

      expect(conversationEvents().slice(1)).toEqual([
        {
          type: 'user.message',
          connectionId: 'c1',
          userId: 'alice',
          content: 'Hello',
          clientMessageId: 'm1',
        },
        { type: 'user.typing', connectionId: 'c1', userId: 'alice', isTyping: true },
        { type: 'user.cancel', connectionId: 'c1', userId: 'alice', turnId: 'turn_1' },
      ]);
    });

    it('answers rate_limited with retry_after_ms and does not forward a message over the rate', () => {
      const taken: string[] = [];
      const { connection, sent, conversationEvents, value } = createConnection({
        takeRateToken: (userId) => {
          taken.push(userId);
          return { allowed: false, retryAfterMs: 1_500 };
        },
      });

      connection.send({ type: 'frame.received', frame: { type: 'user_message', content: 'Hi' } });

      expect(taken).toEqual(['alice']);
      expect(sent).toEqual([
        {
          type: 'error',
          code: 'rate_limited',
          message: 'Too many messages; try again in 1500 ms.',
          in_reply_to: 'user_message',
          details: { retry_after_ms: 1_500 },
          conversation_id: 'demo',
          seq: CONVERSATION_SEQ,
          timestamp: 0,
        },
      ]);
      expect(conversationEvents().map((event) => event.type)).toEqual(['participant.join']);
      expect(value()).toEqual({ open: 'joined' });
    });

    it('does not take a rate token for typing indicators', () => {
      let taken = 0;
      const { connection, conversationEvents } = createConnection({
        takeRateToken: () => {
          taken += 1;
          return { allowed: false, retryAfterMs: 1_000 };
        },
      });

      connection.send({
        type: 'frame.received',
        frame: { type: 'typing_indicator', is_typing: true },
      });

      expect(taken).toBe(0);
      expect(conversationEvents().at(-1)?.type).toBe('user.typing');
    });

    it('closes with 1008 policy_violation after 10 rate-limited messages', () => {
      const { connection, log, value } = createConnection({
        takeRateToken: () => ({ allowed: false, retryAfterMs: 100 }),
      });

      for (let index = 0; index < 10; index += 1) {
        connection.send({ type: 'frame.received', frame: { type: 'user_message', content: 'Hi' } });
      }

      expect(log.at(-1)).toBe('close 1008 policy_violation');
      expect(value()).toBe('closing');
    });
  });

  describe('abuse', () => {
    it('answers each invalid frame with its issues and closes with 1008 policy_violation at the 10th', () => {
      const { connection, log, sent, value } = createConnection();

      for (let index = 0; index < 9; index += 1) connection.send(invalidFrame);
      expect(sent).toHaveLength(9);
      expect(sent[0]).toEqual({
        type: 'error',
        code: 'invalid_frame',
        message: 'The frame does not match any client frame.',
        issues: [{ path: 'type', message: 'unknown type' }],
        conversation_id: 'demo',
        seq: CONVERSATION_SEQ,
        timestamp: 0,
      });
      expect(log.filter((entry) => entry.startsWith('close'))).toEqual([]);
      expect(value()).toEqual({ open: 'joined' });

      connection.send(invalidFrame);

      expect(log.slice(-2)).toEqual(['send', 'close 1008 policy_violation']);
      expect(value()).toBe('closing');
    });

    it('forgets strikes older than a minute', () => {
      const { clock, connection, log, value } = createConnection({
        heartbeatIntervalMs: 10 * 60_000,
      });

      for (let index = 0; index < 9; index += 1) connection.send(invalidFrame);
      clock.increment(60_001);
      connection.send(invalidFrame);

      expect(log.filter((entry) => entry.startsWith('close'))).toEqual([]);
      expect(value()).toEqual({ open: 'joined' });
    });

    it('answers invalid_json with an error frame and then closes with 1007', () => {
      const { connection, log, sent, value } = createConnection();

      connection.send({ type: 'frame.invalid', code: 'invalid_json', message: 'Not JSON.' });

      expect(sent).toEqual([
        {
          type: 'error',
          code: 'invalid_json',
          message: 'Not JSON.',
          conversation_id: 'demo',
          seq: CONVERSATION_SEQ,
          timestamp: 0,
        },
      ]);
      expect(log).toEqual(['send', 'close 1007 invalid_json']);
      expect(value()).toBe('closing');
    });
  });

  describe('closing', () => {
    it('sends the 1013 close frame on outbound overflow and terminates after the grace', () => {
      // Regression: it terminated at once, so the client only ever saw 1006.
      const { clock, connection, log, value, conversationEvents, parentEvents } =
        createConnection();

      connection.send({ type: 'outbound.overflow', limit: 256 });

      expect(log).toEqual(['close 1013 slow_consumer']);
      expect(value()).toBe('draining');
      clock.increment(SLOW_CONSUMER_GRACE_MS - 1);
      expect(log).toEqual(['close 1013 slow_consumer']);
      clock.increment(1);
      expect(log).toEqual(['close 1013 slow_consumer', 'terminate']);
      expect(value()).toBe('closed');
      expect(conversationEvents().at(-1)).toEqual({
        type: 'participant.leave',
        connectionId: 'c1',
      });
      expect(parentEvents()).toContainEqual({ type: 'connection.closed', connectionId: 'c1' });
    });

    it('closes with 1012 on server shutdown and terminates after 5 s without socket.closed', () => {
      const { clock, connection, log, value, conversationEvents } = createConnection();

      connection.send({ type: 'server.shutdown' });
      expect(log).toEqual(['close 1012 server_shutdown']);
      expect(value()).toBe('closing');

      clock.increment(4_999);
      expect(log).toEqual(['close 1012 server_shutdown']);

      clock.increment(1);
      expect(log).toEqual(['close 1012 server_shutdown', 'terminate']);
      expect(value()).toBe('closed');
      expect(conversationEvents().at(-1)).toEqual({
        type: 'participant.leave',
        connectionId: 'c1',
      });
    });

    it('does not terminate a socket that completes the close handshake', () => {
      const { clock, connection, log, value } = createConnection();
      connection.send({ type: 'server.shutdown' });

      connection.send({ type: 'socket.closed', code: 1012 });
      clock.increment(10_000);

      expect(log).toEqual(['close 1012 server_shutdown']);
      expect(value()).toBe('closed');
    });

    it('stops heartbeating while closing', () => {
      const { clock, connection, count } = createConnection();
      connection.send({ type: 'server.shutdown' });
      connection.send({ type: 'socket.closed', code: 1012 });

      advance(clock, HEARTBEAT_MS, 5);

      expect(count('ping')).toBe(0);
    });

    it.each([
      { state: 'handshake', answer: 'silent', before: () => undefined },
      { state: 'joined', answer: 'joined', before: () => undefined },
      {
        state: 'closing',
        answer: 'joined',
        before: (connection: ConnectionActorRef) => {
          connection.send({ type: 'server.shutdown' });
        },
      },
    ] as const)(
      'is closed and leaves the conversation on socket.closed in $state',
      ({ answer, before }) => {
        const { connection, value, conversationEvents, parentEvents, log } = createConnection({
          answer,
        });
        before(connection);

        connection.send({ type: 'socket.closed', code: 1006 });

        expect(value()).toBe('closed');
        expect(parentEvents().map((event) => event.type)).toContain('connection.closed');
        expect(conversationEvents().at(-1)).toEqual({
          type: 'participant.leave',
          connectionId: 'c1',
        });
        expect(parentEvents()).toContainEqual({ type: 'connection.closed', connectionId: 'c1' });
        expect(log).not.toContain('terminate');
      },
    );
  });

  describe('hibernation', () => {
    const userMessage: ConnectionEvent = {
      type: 'frame.received',
      frame: { type: 'user_message', content: 'hello' },
    };
    const handedOver = (events: AnyEventObject[]) =>
      events.filter((event) => event.type === 'connection.hibernated') as {
        type: 'connection.hibernated';
        context: ConnectionMachineInput & { hibernations: number; missedPongs: number };
      }[];

    it('never hibernates without hibernateAfterMs', () => {
      const { clock, value, parentEvents, connection } = createConnection();
      for (let tick = 0; tick < 5; tick += 1) {
        clock.increment(HEARTBEAT_MS);
        connection.send({ type: 'socket.pong' });
      }
      expect(value()).toEqual({ open: 'joined' });
      expect(handedOver(parentEvents())).toEqual([]);
    });

    it('hibernates at the first tick after hibernateAfterMs without a frame, and hands its context to its parent', () => {
      const { clock, value, count, parentEvents, connection } = createConnection({
        hibernateAfterMs: HEARTBEAT_MS * 1.5,
      });

      clock.increment(HEARTBEAT_MS);
      expect(value()).toEqual({ open: 'joined' });
      clock.increment(HEARTBEAT_MS);

      expect(value()).toBe('hibernated');
      // Its shard stops it on `connection.hibernated`; it does not complete by itself.
      expect(connection.getSnapshot().status).toBe('active');
      // The tick that hibernates it still pings, as any tick does.
      expect(count('ping')).toBe(2);
      expect(count('close 1000 ')).toBe(0);
      const [handover] = handedOver(parentEvents());
      expect(handover?.context).toMatchObject({
        connectionId: 'c1',
        userId: 'alice',
        hibernations: 1,
        missedPongs: 2,
      });
    });

    it('puts hibernation off with every frame but ping', () => {
      const { clock, value, connection } = createConnection({ hibernateAfterMs: HEARTBEAT_MS });

      clock.increment(HEARTBEAT_MS - 1);
      connection.send(userMessage);
      clock.increment(1);
      expect(value()).toEqual({ open: 'joined' });

      clock.increment(HEARTBEAT_MS - 1);
      connection.send({ type: 'frame.received', frame: { type: 'ping' } });
      clock.increment(1);
      expect(value()).toBe('hibernated');
    });

    it('wakes from its handed-over context in open.joined, without joining again, and goes on', () => {
      const first = createConnection({ hibernateAfterMs: HEARTBEAT_MS });
      first.clock.increment(HEARTBEAT_MS);
      const [handover] = handedOver(first.parentEvents());
      if (handover === undefined) throw new Error('no handover');

      // A new parent, as the shard spawns a new actor: it ticks on the same clock.
      const host = createActor(hostMachine, {
        clock: first.clock,
        input: {
          connection: handover.context,
          answer: 'joined',
          heartbeatIntervalMs: HEARTBEAT_MS,
        },
      }).start();
      const woken = host.getSnapshot().children.connection as ConnectionActorRef;
      const conversation = host.getSnapshot().children.conversation as ActorRefFrom<
        typeof fakeConversationMachine
      >;
      const conversationEvents = () => conversation.getSnapshot().context.events;

      expect(woken.getSnapshot().value).toEqual({ open: 'joined' });
      expect(woken.getSnapshot().context).toMatchObject({ hibernations: 1, missedPongs: 1 });
      first.clock.increment(HEARTBEAT_MS / 3);
      woken.send(userMessage);
      // No second join: the woken actor forwards the message to the conversation it was in.
      expect(conversationEvents().map((event) => event.type)).toEqual(['user.message']);
      // Its missed pong carries over: one more unanswered ping, then the next tick terminates it.
      first.clock.increment((HEARTBEAT_MS * 2) / 3);
      expect(woken.getSnapshot().value).toEqual({ open: 'joined' });
      first.clock.increment(HEARTBEAT_MS);
      expect(woken.getSnapshot().value).toBe('closed');
      expect(first.count('ping')).toBe(2);
      expect(first.count('terminate')).toBe(1);
      expect(conversationEvents().at(-1)).toEqual({
        type: 'participant.leave',
        connectionId: 'c1',
      });
    });
  });
});
