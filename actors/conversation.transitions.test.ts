/**
 * The conversation machine driven through XState's pure `transition()`: every test feeds events
 * to a snapshot and checks the next snapshot and the actions returned as data (nothing runs).
 */
import { describe, expect, it } from 'vitest';
import { initialTransition, transition, type AnyMachineSnapshot } from 'xstate';
import type { TurnEvent } from '../src/agent/turn-event.js';
import { stampFrame } from '../src/engine/stamp-frame.js';
import { toTurnActorEvent } from '../src/engine/turn-actor-event.js';
import { DIRECT_FRAME_TYPES, type ServerFrame } from '../src/protocol/frames.js';
import type {
  ConversationEffects,
  ConversationEvent,
  ConversationInput,
  ConversationSettings,
  Publication,
  RestoredConversation,
} from './conversation-state.js';
import { conversationMachine, type ConversationContext } from './conversation.machine.js';
import {
  NO_CONVERSATION_EFFECTS,
  TEST_CONVERSATION_SETTINGS,
} from '../test/support/conversation-settings.js';

const NOW = 1_700_000_000_000;

const SETTINGS = TEST_CONVERSATION_SETTINGS;

/** An effect the machine asked for, as the old reducer's commands named them. */
type ConversationCommand =
  | {
      type: 'deliver';
      recipients: string[];
      data: string;
      frame: ServerFrame;
      seq: number;
      to?: string;
    }
  | { type: 'record'; afterSeq: number; input: ConversationInput }
  | { type: 'reserve' }
  | { type: 'release' }
  | { type: 'submit'; turnId: string; messages: unknown[] }
  | { type: 'cancel'; turnId: string }
  | { type: 'answer'; connectionId: string; answer: { type: string } };

interface Delivery {
  recipients: string[];
  data: string;
  frame: ServerFrame;
}

type FrameOf<TType extends ServerFrame['type']> = Extract<ServerFrame, { type: TType }>;

/** What the effects port answers; no effect runs under `transition()`. */
const effectsPort = (room: { value: boolean }): ConversationEffects => ({
  ...NO_CONVERSATION_EFFECTS,
  hasTurnRoom: () => room.value,
});

/** The old reducer's inputs: turn events wrapped, and a turn's end without its finish. */
type TestInput =
  | ConversationInput
  | Exclude<ConversationEvent, ConversationInput>
  | { type: 'turn.event'; turnId: string; event: TurnEvent }
  | { type: 'turn.ended'; turnId: string; outcome: 'completed' | 'cancelled' | 'failed' };

function toEvent(input: TestInput): ConversationEvent {
  if (input.type === 'turn.event') return toTurnActorEvent(input.turnId, input.event);
  if (input.type === 'turn.ended') {
    return { type: 'turn.failed', turnId: input.turnId, reason: input.outcome };
  }
  return input;
}

/** The machine's actions, returned as data, in the old command shapes. */
function toCommands(actions: readonly { type: string; params?: unknown }[]): ConversationCommand[] {
  return actions.flatMap((action): ConversationCommand[] => {
    switch (action.type) {
      case 'publish': {
        const { body, seq, recipients, to } = structuredClone(action.params) as Publication;
        const frame = stampFrame(body, 'demo', seq, NOW) as ServerFrame;
        return [
          {
            type: 'deliver',
            recipients,
            data: JSON.stringify(frame),
            frame,
            seq,
            ...(to === undefined ? {} : { to }),
          },
        ];
      }
      case 'recordInput': {
        const { afterSeq, input } = action.params as { afterSeq: number; input: ConversationInput };
        return [{ type: 'record', afterSeq, input }];
      }
      case 'reserveTurnSlot':
        return [{ type: 'reserve' }];
      case 'releaseTurnSlot':
        return [{ type: 'release' }];
      case 'submitTurn': {
        const { turnId, messages } = action.params as { turnId: string; messages: unknown[] };
        return [{ type: 'submit', turnId, messages }];
      }
      case 'cancelTurn':
        return [{ type: 'cancel', turnId: (action.params as { turnId: string }).turnId }];
      default:
        return [];
    }
  });
}

/** A conversation driven event by event through `transition()`, with fixed ids. */
function createConversation(
  settings: Partial<ConversationSettings> = {},
  restored?: RestoredConversation,
) {
  const room = { value: true };
  let [snapshot, initialActions] = initialTransition(conversationMachine, {
    conversationId: 'demo',
    idSeed: 's',
    settings: { ...SETTINGS, ...settings },
    effects: effectsPort(room),
    idleMs: 60_000,
    ...(restored === undefined ? {} : { restored }),
  });
  return {
    get state(): ConversationContext {
      return snapshot.context;
    },
    get snapshot(): AnyMachineSnapshot {
      return snapshot;
    },
    initialCommands: toCommands(initialActions),
    apply(input: TestInput, { poolHasRoom = true } = {}): ConversationCommand[] {
      room.value = poolHasRoom;
      const [next, actions] = transition(conversationMachine, snapshot, toEvent(input));
      snapshot = next;
      initialActions = actions;
      return toCommands(actions);
    },
  };
}

function deliveries(commands: ConversationCommand[]): Delivery[] {
  return commands.flatMap((command) => (command.type === 'deliver' ? [command] : []));
}

function frames(commands: ConversationCommand[]): ServerFrame[] {
  return deliveries(commands).map((delivery) => delivery.frame);
}

function framesOfType<TType extends ServerFrame['type']>(
  commands: ConversationCommand[],
  type: TType,
): FrameOf<TType>[] {
  return frames(commands).filter((frame): frame is FrameOf<TType> => frame.type === type);
}

function onlyFrameOfType<TType extends ServerFrame['type']>(
  commands: ConversationCommand[],
  type: TType,
): FrameOf<TType> {
  const found = framesOfType(commands, type);
  expect(found).toHaveLength(1);
  const [frame] = found;
  if (frame === undefined) throw new Error(`no ${type} frame`);
  return frame;
}

/** Commands other than deliveries and input records (those are checked on their own). */
function effects(commands: ConversationCommand[]): ConversationCommand[] {
  return commands.filter((command) => command.type !== 'deliver' && command.type !== 'record');
}

function isDirect(frame: ServerFrame): boolean {
  return (DIRECT_FRAME_TYPES as readonly string[]).includes(frame.type);
}

const join = (connectionId: string, userId: string): ConversationInput => ({
  type: 'participant.join',
  connectionId,
  userId,
});
const leave = (connectionId: string): ConversationInput => ({
  type: 'participant.leave',
  connectionId,
});
const message = (connectionId: string, userId: string, content: string): ConversationInput => ({
  type: 'user.message',
  connectionId,
  userId,
  content,
});
const typing = (connectionId: string, userId: string, isTyping: boolean): ConversationInput => ({
  type: 'user.typing',
  connectionId,
  userId,
  isTyping,
});
const started = (turnId: string): TestInput => ({ type: 'turn.started', turnId });
const turnEvent = (turnId: string, event: TurnEvent): TestInput => ({
  type: 'turn.event',
  turnId,
  event,
});
const delta = (turnId: string, text: string) =>
  turnEvent(turnId, { type: 'text-delta', delta: text });
const finish = (turnId: string, steps = 1) =>
  turnEvent(turnId, { type: 'finish', status: 'completed', steps });

/** Sends a user message and returns the turn id the conversation gave it. */
function sendMessage(
  conversation: ReturnType<typeof createConversation>,
  connectionId: string,
  userId: string,
  content: string,
): { turnId: string; commands: ConversationCommand[] } {
  const commands = conversation.apply(message(connectionId, userId, content));
  return { turnId: onlyFrameOfType(commands, 'user_message').turn_id, commands };
}

describe('conversationMachine under transition()', () => {
  describe('participants', () => {
    it('sends a welcome with the current seq to the joiner only and presence with the next seq to everyone', () => {
      const conversation = createConversation();
      conversation.apply(join('c1', 'alice'));
      expect(conversation.state.seq).toBe(1);

      const commands = conversation.apply(join('c2', 'bob'));

      expect(effects(commands)).toEqual([]);
      const [welcome, presence, ...rest] = deliveries(commands);
      expect(rest).toEqual([]);
      expect(welcome?.recipients).toEqual(['c2']);
      expect(welcome?.frame).toEqual({
        type: 'welcome',
        protocol_version: 1,
        connection_id: 'c2',
        user_id: 'bob',
        participants: ['alice', 'bob'],
        active_turn_id: null,
        limits: SETTINGS.welcomeLimits,
        conversation_id: 'demo',
        seq: 1,
        timestamp: NOW,
      });
      expect(presence?.recipients).toEqual(['c1', 'c2']);
      expect(presence?.frame).toEqual({
        type: 'presence',
        status: 'joined',
        user_id: 'bob',
        connection_id: 'c2',
        participants: ['alice', 'bob'],
        conversation_id: 'demo',
        seq: 2,
        timestamp: NOW,
      });
      expect(conversation.state.seq).toBe(2);
    });

    it('tells the joiner which turn is running', () => {
      const conversation = createConversation();
      conversation.apply(join('c1', 'alice'));
      const { turnId } = sendMessage(conversation, 'c1', 'alice', 'Hello');

      const welcome = onlyFrameOfType(conversation.apply(join('c2', 'bob')), 'welcome');

      expect(welcome.active_turn_id).toBe(turnId);
    });

    it('broadcasts a leave to the remaining participants with the next seq', () => {
      const conversation = createConversation();
      conversation.apply(join('c1', 'alice'));
      conversation.apply(join('c2', 'bob'));

      const [presence, ...rest] = deliveries(conversation.apply(leave('c1')));

      expect(rest).toEqual([]);
      expect(presence?.recipients).toEqual(['c2']);
      expect(presence?.frame).toMatchObject({
        type: 'presence',
        status: 'left',
        user_id: 'alice',
        participants: ['bob'],
        seq: 3,
      });
      expect(conversation.state.participants).toMatchObject([
        { connectionId: 'c2', userId: 'bob' },
      ]);
    });

    it('ignores a leave of a connection that never joined', () => {
      const conversation = createConversation();
      conversation.apply(join('c1', 'alice'));

      expect(deliveries(conversation.apply(leave('c9')))).toEqual([]);
      expect(conversation.state.seq).toBe(1);
    });
  });

  describe('the log', () => {
    it('records every input from a connection with the seq it arrived after, before its frames', () => {
      const conversation = createConversation();
      const joined = conversation.apply(join('c1', 'alice'));
      expect(joined[0]).toEqual({
        type: 'record',
        afterSeq: 0,
        input: { type: 'participant.join', connectionId: 'c1', userId: 'alice' },
      });
      const sent = conversation.apply(message('c1', 'alice', 'Hello'));
      expect(sent[0]).toMatchObject({
        type: 'record',
        afterSeq: 1,
        input: { type: 'user.message' },
      });
      // An input that changes nothing is still recorded: a replay must see it too.
      expect(conversation.apply(leave('c9'))).toEqual([
        { type: 'record', afterSeq: 2, input: { type: 'participant.leave', connectionId: 'c9' } },
      ]);
    });

    it('does not record inputs that come from its own turns', () => {
      const conversation = createConversation();
      conversation.apply(join('c1', 'alice'));
      conversation.apply(message('c1', 'alice', 'Hello'));
      const turnId = conversation.state.activeTurn?.turnId ?? '';
      const commands = conversation.apply({ type: 'turn.started', turnId });
      expect(commands.some((command) => command.type === 'record')).toBe(false);
    });
  });

  describe('seq', () => {
    it('stays gapless across a long mixed sequence and every participant receives identical event frames', () => {
      const conversation = createConversation();
      const inboxes = new Map<string, string[]>();
      const run = (input: TestInput) => {
        for (const { recipients, data } of deliveries(conversation.apply(input))) {
          for (const recipient of recipients) {
            inboxes.set(recipient, [...(inboxes.get(recipient) ?? []), data]);
          }
        }
      };

      run(join('c1', 'alice'));
      run(join('c2', 'bob'));
      run(typing('c1', 'alice', true));
      run(message('c1', 'alice', 'What is 5 + 3?'));
      const firstTurn = conversation.state.activeTurn?.turnId ?? '';
      run(typing('c1', 'alice', false));
      run(started(firstTurn));
      run(
        turnEvent(firstTurn, {
          type: 'tool-call',
          toolCallId: 'call_1',
          toolName: 'calculator',
          input: { expression: '5 + 3' },
        }),
      );
      run(
        turnEvent(firstTurn, {
          type: 'tool-result',
          toolCallId: 'call_1',
          toolName: 'calculator',
          input: { expression: '5 + 3' },
          outcome: { ok: true, output: 8, durationMs: 3 },
        }),
      );
      run(turnEvent(firstTurn, { type: 'usage', usage: { inputTokens: 12, outputTokens: 4 } }));
      run(delta(firstTurn, '5 + 3'));
      run(delta(firstTurn, ' is'));
      run(delta(firstTurn, ' 8.'));
      run(join('c3', 'carol'));
      run(finish(firstTurn, 2));
      run(typing('c2', 'bob', true));
      run(message('c2', 'bob', 'Thanks!'));
      const secondTurn = conversation.state.activeTurn?.turnId ?? '';
      run(started(secondTurn));
      run(delta(secondTurn, 'You are welcome.'));
      run(finish(secondTurn));
      run(leave('c3'));
      run(leave('c2'));

      const parsed = new Map(
        [...inboxes].map(([connection, data]) => [
          connection,
          data.map((item) => ({ data: item, frame: JSON.parse(item) as ServerFrame })),
        ]),
      );
      const eventsOf = (connection: string) =>
        (parsed.get(connection) ?? []).filter(({ frame }) => !isDirect(frame));

      // alice was there from the first event to the last, so she saw every seq exactly once.
      // 21 = 20 events plus bob's "stopped typing", said for him when he left while typing.
      const total = conversation.state.seq;
      expect(total).toBe(21);
      expect(eventsOf('c1').map(({ frame }) => frame.seq)).toEqual(
        Array.from({ length: total }, (_, index) => index + 1),
      );
      // Whoever was present for a seq got exactly the same frame, byte for byte.
      for (const connection of ['c2', 'c3']) {
        const events = eventsOf(connection);
        const seqs = events.map(({ frame }) => frame.seq);
        const first = seqs[0] ?? 0;
        expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, index) => first + index));
        for (const { frame, data } of events) {
          expect(eventsOf('c1')[frame.seq - 1]?.data).toBe(data);
        }
      }
      // Direct replies (welcomes) repeat the current seq rather than taking one.
      const welcomes = [...parsed.values()].flat().filter(({ frame }) => isDirect(frame));
      expect(welcomes.map(({ frame }) => [frame.type, frame.seq])).toEqual([
        ['welcome', 0],
        ['welcome', 1],
        ['welcome', 11],
      ]);
      expect(
        [...parsed.values()].flat().every(({ frame }) => frame.conversation_id === 'demo'),
      ).toBe(true);
    });

    it('consumes no seq for a repeated typing indicator with the same value', () => {
      const conversation = createConversation();
      conversation.apply(join('c1', 'alice'));

      const first = conversation.apply(typing('c1', 'alice', true));
      const repeated = conversation.apply(typing('c1', 'alice', true));

      expect(onlyFrameOfType(first, 'typing_indicator')).toMatchObject({
        actor: 'user',
        user_id: 'alice',
        is_typing: true,
        seq: 2,
      });
      expect(deliveries(repeated)).toEqual([]);
      expect(conversation.state.seq).toBe(2);
      expect(
        onlyFrameOfType(conversation.apply(typing('c1', 'alice', false)), 'typing_indicator'),
      ).toMatchObject({ is_typing: false, seq: 3 });
    });

    it('regression: a user who left while typing is shown typing again after rejoining (typingUsers was not cleared on leave)', () => {
      const conversation = createConversation();
      conversation.apply(join('c1', 'alice'));
      conversation.apply(join('c2', 'bob'));
      conversation.apply(typing('c1', 'alice', true));
      // The socket drops: no "stopped typing" frame ever comes from alice.
      conversation.apply(leave('c1'));
      conversation.apply(join('c3', 'alice'));

      const commands = conversation.apply(typing('c3', 'alice', true));

      expect(onlyFrameOfType(commands, 'typing_indicator')).toMatchObject({
        actor: 'user',
        user_id: 'alice',
        is_typing: true,
      });
    });
  });

  describe('user messages', () => {
    it('answers busy to the sender only, without a seq, when the pool is full', () => {
      const conversation = createConversation();
      conversation.apply(join('c1', 'alice'));
      conversation.apply(join('c2', 'bob'));
      const before = conversation.state;

      const commands = conversation.apply(message('c1', 'alice', 'Hello'), { poolHasRoom: false });

      expect(effects(commands)).toEqual([]);
      const [error, ...rest] = deliveries(commands);
      expect(rest).toEqual([]);
      expect(error?.recipients).toEqual(['c1']);
      expect(error?.frame).toEqual({
        type: 'error',
        code: 'busy',
        message: 'The agent is busy: too many turns are waiting. Try again shortly.',
        in_reply_to: 'user_message',
        conversation_id: 'demo',
        seq: 2,
        timestamp: NOW,
      });
      expect(conversation.state.seq).toBe(2);
      expect(conversation.state.activeTurn).toBeNull();
      expect(conversation.state.pendingTurns).toEqual([]);
      expect(conversation.state).toEqual(before);
      expect(conversation.snapshot.value).toEqual({ idle: 'occupied' });
    });

    it('records the pool refusal with the message, so a replay decides the same without the pool', () => {
      const conversation = createConversation();
      conversation.apply(join('c1', 'alice'));

      const [record] = conversation.apply(message('c1', 'alice', 'Hello'), { poolHasRoom: false });
      const [accepted] = conversation.apply(message('c1', 'alice', 'Hello'));

      expect(record).toEqual({
        type: 'record',
        afterSeq: 1,
        input: { ...message('c1', 'alice', 'Hello'), admitted: false },
      });
      // An admitted message is recorded as it always was: older recordings read the same.
      expect(accepted).toEqual({
        type: 'record',
        afterSeq: 1,
        input: message('c1', 'alice', 'Hello'),
      });
    });

    it('reserves, broadcasts and submits a message when no turn is running', () => {
      const conversation = createConversation();
      conversation.apply(join('c1', 'alice'));

      const commands = conversation.apply({
        type: 'user.message',
        connectionId: 'c1',
        userId: 'alice',
        content: 'What is 5 + 3?',
        clientMessageId: 'client_1',
      });

      const frame = onlyFrameOfType(commands, 'user_message');
      expect(frame).toMatchObject({
        user_id: 'alice',
        content: 'What is 5 + 3?',
        client_message_id: 'client_1',
        seq: 2,
      });
      expect(effects(commands)).toEqual([
        { type: 'reserve' },
        {
          type: 'submit',
          turnId: frame.turn_id,
          messages: [{ role: 'user', content: 'What is 5 + 3?', userId: 'alice' }],
        },
      ]);
      expect(conversation.state.activeTurn).toMatchObject({ turnId: frame.turn_id });
      expect(conversation.snapshot.value).toEqual({ working: 'waiting' });
    });

    it('answers a resent client_message_id with duplicate_message and the seq that took it, in idle and while working, taking nothing twice', () => {
      const conversation = createConversation();
      conversation.apply(join('c1', 'alice'));
      conversation.apply(join('c2', 'bob'));
      const send = (connectionId: string, userId: string, clientMessageId: string) =>
        conversation.apply({
          type: 'user.message',
          connectionId,
          userId,
          content: 'What is 5 + 3?',
          clientMessageId,
        });

      const taken = onlyFrameOfType(send('c1', 'alice', 'm-1'), 'user_message');
      // While the turn runs, and once it ended: the same answer, nothing queued or broadcast.
      for (const phase of ['working', 'idle']) {
        if (phase === 'idle') {
          conversation.apply({
            type: 'turn.finished',
            turnId: taken.turn_id,
            status: 'completed',
            steps: 1,
          });
        }
        const before = conversation.state;
        const commands = send('c1', 'alice', 'm-1');
        expect(effects(commands)).toEqual([]);
        const [record, reply, ...rest] = commands;
        expect(record).toMatchObject({ type: 'record', input: { clientMessageId: 'm-1' } });
        expect(rest).toEqual([]);
        expect(reply).toMatchObject({ type: 'deliver', recipients: ['c1'], to: 'c1' });
        expect((reply as Delivery).frame).toMatchObject({
          type: 'error',
          code: 'duplicate_message',
          in_reply_to: 'user_message',
          details: { client_message_id: 'm-1', seq: taken.seq },
        });
        expect(conversation.state.pendingTurns).toEqual(before.pendingTurns);
        expect(conversation.state.seq).toBe(before.seq);
      }
      // The id is the sender's own: another user's m-1 is a new message.
      expect(framesOfType(send('c2', 'bob', 'm-1'), 'user_message')).toHaveLength(1);
    });

    it('forgets client_message_ids older than its last 32 user messages', () => {
      const conversation = createConversation();
      conversation.apply(join('c1', 'alice'));
      const send = (clientMessageId: string) =>
        conversation.apply(
          {
            type: 'user.message',
            connectionId: 'c1',
            userId: 'alice',
            content: 'Hi',
            clientMessageId,
          },
          { poolHasRoom: true },
        );
      for (let index = 0; index <= 32; index += 1) send(`m-${index}`);

      expect(conversation.state.recentMessages).toHaveLength(32);
      expect(framesOfType(send('m-0'), 'user_message')).toHaveLength(1);
      expect(framesOfType(send('m-2'), 'error')).toMatchObject([{ code: 'duplicate_message' }]);
    });

    it('refuses the resends a restored conversation read back from its log', () => {
      const conversation = createConversation(
        {},
        {
          seq: 9,
          history: [],
          unfinishedTurns: [],
          recentMessages: [{ seq: 7, userId: 'alice', clientMessageId: 'm-7' }],
        },
      );
      conversation.apply(join('c1', 'alice'));

      const [error] = framesOfType(
        conversation.apply({
          type: 'user.message',
          connectionId: 'c1',
          userId: 'alice',
          content: 'Hi again',
          clientMessageId: 'm-7',
        }),
        'error',
      );
      expect(error).toMatchObject({ code: 'duplicate_message', details: { seq: 7 } });
    });

    it('queues a second message and submits it with the first exchange after the first turn finishes', () => {
      const conversation = createConversation({ overlapPolicy: 'queue' });
      conversation.apply(join('c1', 'alice'));
      conversation.apply(join('c2', 'bob'));
      const first = sendMessage(conversation, 'c1', 'alice', 'What is 5 + 3?');
      conversation.apply(started(first.turnId));
      conversation.apply(delta(first.turnId, '8'));

      const second = sendMessage(conversation, 'c2', 'bob', 'And times 2?');

      expect(second.turnId).not.toBe(first.turnId);
      expect(deliveries(second.commands).map((delivery) => delivery.recipients)).toEqual([
        ['c1', 'c2'],
      ]);
      expect(effects(second.commands)).toEqual([{ type: 'reserve' }]);
      expect(conversation.state.activeTurn?.turnId).toBe(first.turnId);
      expect(conversation.state.pendingTurns.map((turn) => turn.turnId)).toEqual([second.turnId]);

      const finished = conversation.apply(finish(first.turnId));

      expect(onlyFrameOfType(finished, 'agent_response_complete')).toMatchObject({
        turn_id: first.turnId,
        status: 'completed',
        content: '8',
      });
      expect(effects(finished)).toEqual([
        {
          type: 'submit',
          turnId: second.turnId,
          messages: [
            { role: 'user', content: 'What is 5 + 3?', userId: 'alice' },
            { role: 'assistant', content: '8' },
            { role: 'user', content: 'And times 2?', userId: 'bob' },
          ],
        },
      ]);
      expect(conversation.state.activeTurn?.turnId).toBe(second.turnId);
      expect(conversation.state.pendingTurns).toEqual([]);
    });

    it('interrupts the running turn, cancels its work and submits the new turn under the interrupt policy', () => {
      const conversation = createConversation({ overlapPolicy: 'interrupt' });
      conversation.apply(join('c1', 'alice'));
      conversation.apply(join('c2', 'bob'));
      const first = sendMessage(conversation, 'c1', 'alice', 'Tell me a long story');
      conversation.apply(started(first.turnId));
      conversation.apply(delta(first.turnId, 'Once upon'));

      const second = sendMessage(conversation, 'c2', 'bob', 'Stop, what is 2 + 2?');

      const completion = onlyFrameOfType(second.commands, 'agent_response_complete');
      expect(completion).toMatchObject({
        turn_id: first.turnId,
        status: 'interrupted',
        content: 'Once upon',
      });
      const userMessage = onlyFrameOfType(second.commands, 'user_message');
      expect(completion.seq).toBe(userMessage.seq + 1);
      expect(effects(second.commands)).toEqual([
        { type: 'reserve' },
        { type: 'cancel', turnId: first.turnId },
        {
          type: 'submit',
          turnId: second.turnId,
          messages: [
            { role: 'user', content: 'Tell me a long story', userId: 'alice' },
            { role: 'assistant', content: 'Once upon' },
            { role: 'user', content: 'Stop, what is 2 + 2?', userId: 'bob' },
          ],
        },
      ]);
      expect(conversation.state.activeTurn?.turnId).toBe(second.turnId);
      expect(conversation.state.pendingTurns).toEqual([]);
    });
  });

  describe('turn events', () => {
    it('walks working.waiting → thinking → calling_tool → thinking → streaming as turn events arrive', () => {
      const conversation = createConversation();
      conversation.apply(join('c1', 'alice'));
      const { turnId } = sendMessage(conversation, 'c1', 'alice', 'What is 5 + 3?');
      const phase = () => (conversation.snapshot.value as { working?: string }).working;
      expect(phase()).toBe('waiting');

      const startedCommands = conversation.apply(started(turnId));
      expect(phase()).toBe('thinking');
      expect(onlyFrameOfType(startedCommands, 'typing_indicator')).toMatchObject({
        actor: 'agent',
        turn_id: turnId,
        is_typing: true,
      });

      conversation.apply(
        turnEvent(turnId, { type: 'tool-call', toolCallId: 'a', toolName: 'calculator', input: 1 }),
      );
      conversation.apply(
        turnEvent(turnId, { type: 'tool-call', toolCallId: 'b', toolName: 'calculator', input: 2 }),
      );
      expect(phase()).toBe('calling_tool');
      const failed = conversation.apply(
        turnEvent(turnId, {
          type: 'tool-result',
          toolCallId: 'a',
          toolName: 'calculator',
          input: 1,
          outcome: { ok: false, error: { code: 'tool_failed', message: 'no' }, durationMs: 2 },
        }),
      );
      expect(onlyFrameOfType(failed, 'tool_result')).toMatchObject({
        ok: false,
        error: { code: 'tool_failed', message: 'no' },
        duration_ms: 2,
      });
      expect(phase()).toBe('calling_tool');
      conversation.apply(
        turnEvent(turnId, {
          type: 'tool-result',
          toolCallId: 'b',
          toolName: 'calculator',
          input: 2,
          outcome: { ok: true, output: 2, durationMs: 1 },
        }),
      );
      expect(phase()).toBe('thinking');

      const chunks = [
        ...conversation.apply(delta(turnId, 'a')),
        ...conversation.apply(delta(turnId, 'b')),
      ];
      expect(phase()).toBe('streaming');
      expect(
        framesOfType(chunks, 'agent_response_chunk').map((chunk) => [chunk.index, chunk.delta]),
      ).toEqual([
        [0, 'a'],
        [1, 'b'],
      ]);
    });

    it('reports the summed usage and steps in the completion', () => {
      const conversation = createConversation();
      conversation.apply(join('c1', 'alice'));
      const { turnId } = sendMessage(conversation, 'c1', 'alice', 'Hi');
      conversation.apply(started(turnId));
      conversation.apply(
        turnEvent(turnId, { type: 'usage', usage: { inputTokens: 10, outputTokens: 2 } }),
      );
      conversation.apply(
        turnEvent(turnId, { type: 'usage', usage: { inputTokens: 5, outputTokens: 3 } }),
      );

      const commands = conversation.apply(finish(turnId, 2));

      expect(onlyFrameOfType(commands, 'agent_response_complete')).toMatchObject({
        usage: { input_tokens: 15, output_tokens: 5, total_tokens: 20 },
        steps: 2,
      });
    });

    it('ignores a late turn event of a turn that has ended', () => {
      const conversation = createConversation();
      conversation.apply(join('c1', 'alice'));
      const { turnId } = sendMessage(conversation, 'c1', 'alice', 'Hi');
      conversation.apply(started(turnId));
      conversation.apply({ type: 'user.cancel', connectionId: 'c1', userId: 'alice' });
      const before = conversation.state;

      expect(conversation.apply(delta(turnId, 'too late'))).toEqual([]);
      expect(conversation.apply(finish(turnId))).toEqual([]);
      expect(conversation.apply({ type: 'turn.ended', turnId, outcome: 'cancelled' })).toEqual([]);
      expect(conversation.state).toEqual(before);
    });

    it('fails the active turn when its stream ends without a finish and starts the next one', () => {
      const conversation = createConversation();
      conversation.apply(join('c1', 'alice'));
      const first = sendMessage(conversation, 'c1', 'alice', 'One');
      const second = sendMessage(conversation, 'c1', 'alice', 'Two');

      const commands = conversation.apply({
        type: 'turn.ended',
        turnId: first.turnId,
        outcome: 'failed',
      });

      expect(onlyFrameOfType(commands, 'agent_response_complete')).toMatchObject({
        turn_id: first.turnId,
        status: 'failed',
        error: { code: 'internal_error', message: 'The turn ended unexpectedly (failed).' },
      });
      expect(effects(commands)).toMatchObject([{ type: 'submit', turnId: second.turnId }]);
    });
  });

  describe('cancel', () => {
    it('keeps the partial text when the running turn is cancelled', () => {
      const conversation = createConversation();
      conversation.apply(join('c1', 'alice'));
      conversation.apply(join('c2', 'bob'));
      const { turnId } = sendMessage(conversation, 'c1', 'alice', 'Tell me a story');
      conversation.apply(started(turnId));
      const chunk = onlyFrameOfType(
        conversation.apply(delta(turnId, 'Once upon')),
        'agent_response_chunk',
      );
      conversation.apply(delta(turnId, ' a time'));

      const commands = conversation.apply({
        type: 'user.cancel',
        connectionId: 'c2',
        userId: 'bob',
      });

      expect(effects(commands)).toEqual([{ type: 'cancel', turnId }]);
      const [completion, ...rest] = deliveries(commands);
      expect(rest).toEqual([]);
      expect(completion?.recipients).toEqual(['c1', 'c2']);
      expect(completion?.frame).toMatchObject({
        type: 'agent_response_complete',
        turn_id: turnId,
        message_id: chunk.message_id,
        status: 'cancelled',
        content: 'Once upon a time',
        cancelled_by: 'bob',
        seq: chunk.seq + 2,
      });
      expect(conversation.state.activeTurn).toBeNull();
      expect(conversation.state.history).toEqual([
        { role: 'user', content: 'Tell me a story', userId: 'alice' },
        { role: 'assistant', content: 'Once upon a time' },
      ]);
    });

    it('cancels a queued turn by its turn_id and releases its reservation', () => {
      const conversation = createConversation();
      conversation.apply(join('c1', 'alice'));
      conversation.apply(join('c2', 'bob'));
      const first = sendMessage(conversation, 'c1', 'alice', 'One');
      const second = sendMessage(conversation, 'c2', 'bob', 'Two');

      const commands = conversation.apply({
        type: 'user.cancel',
        connectionId: 'c2',
        userId: 'bob',
        turnId: second.turnId,
      });

      expect(effects(commands)).toEqual([{ type: 'release' }]);
      expect(onlyFrameOfType(commands, 'agent_response_complete')).toMatchObject({
        turn_id: second.turnId,
        status: 'cancelled',
        cancelled_by: 'bob',
        content: '',
      });
      expect(conversation.state.pendingTurns).toEqual([]);
      expect(conversation.state.activeTurn?.turnId).toBe(first.turnId);
      // The cancelled turn is not submitted when the running one finishes.
      expect(effects(conversation.apply(finish(first.turnId)))).toEqual([]);
    });

    it('answers no_active_turn to the canceller only when nothing is running', () => {
      const conversation = createConversation();
      conversation.apply(join('c1', 'alice'));
      conversation.apply(join('c2', 'bob'));

      const commands = conversation.apply({
        type: 'user.cancel',
        connectionId: 'c2',
        userId: 'bob',
      });

      expect(effects(commands)).toEqual([]);
      const [error, ...rest] = deliveries(commands);
      expect(rest).toEqual([]);
      expect(error?.recipients).toEqual(['c2']);
      expect(error?.frame).toMatchObject({
        type: 'error',
        code: 'no_active_turn',
        message: 'There is no running turn to cancel.',
        in_reply_to: 'cancel',
        seq: 2,
      });
      expect(conversation.state.seq).toBe(2);
    });

    it('answers no_active_turn when the given turn_id is neither running nor waiting', () => {
      const conversation = createConversation();
      conversation.apply(join('c1', 'alice'));
      const { turnId } = sendMessage(conversation, 'c1', 'alice', 'One');

      const commands = conversation.apply({
        type: 'user.cancel',
        connectionId: 'c1',
        userId: 'alice',
        turnId: 'turn_unknown',
      });

      expect(onlyFrameOfType(commands, 'error')).toMatchObject({
        code: 'no_active_turn',
        message: 'Turn turn_unknown is not running or waiting.',
      });
      expect(conversation.state.activeTurn?.turnId).toBe(turnId);
    });
  });

  describe('shutdown', () => {
    it('completes the active and the pending turns as interrupted', () => {
      const conversation = createConversation();
      conversation.apply(join('c1', 'alice'));
      const first = sendMessage(conversation, 'c1', 'alice', 'One');
      conversation.apply(started(first.turnId));
      conversation.apply(delta(first.turnId, 'Partial'));
      const second = sendMessage(conversation, 'c1', 'alice', 'Two');
      const third = sendMessage(conversation, 'c1', 'alice', 'Three');

      const commands = conversation.apply({ type: 'conversation.shutdown' });

      const completions = framesOfType(commands, 'agent_response_complete');
      expect(
        completions.map((completion) => [completion.turn_id, completion.status]).sort(),
      ).toEqual(
        [
          [first.turnId, 'interrupted'],
          [second.turnId, 'interrupted'],
          [third.turnId, 'interrupted'],
        ].sort(),
      );
      expect(completions.find((completion) => completion.turn_id === first.turnId)?.content).toBe(
        'Partial',
      );
      expect(effects(commands)).toEqual([
        { type: 'release' },
        { type: 'release' },
        { type: 'cancel', turnId: first.turnId },
      ]);
      expect(conversation.state.activeTurn).toBeNull();
      expect(conversation.state.pendingTurns).toEqual([]);
    });
  });

  describe('history', () => {
    it('keeps at most historyMessages messages and submits them with the new message', () => {
      const conversation = createConversation({ historyMessages: 4 });
      conversation.apply(join('c1', 'alice'));
      for (const content of ['One', 'Two', 'Three']) {
        const { turnId } = sendMessage(conversation, 'c1', 'alice', content);
        conversation.apply(delta(turnId, `Answer ${content}`));
        conversation.apply(finish(turnId));
      }

      expect(conversation.state.history).toEqual([
        { role: 'user', content: 'Two', userId: 'alice' },
        { role: 'assistant', content: 'Answer Two' },
        { role: 'user', content: 'Three', userId: 'alice' },
        { role: 'assistant', content: 'Answer Three' },
      ]);

      const { commands } = sendMessage(conversation, 'c1', 'alice', 'Four');
      const submit = effects(commands).find((command) => command.type === 'submit');
      expect(submit?.type === 'submit' ? submit.messages : []).toEqual([
        ...conversation.state.history,
        { role: 'user', content: 'Four', userId: 'alice' },
      ]);
    });
  });

  describe('states', () => {
    it('goes from idle.empty to idle.occupied on the first join and back when the last one leaves', () => {
      const conversation = createConversation();
      expect(conversation.snapshot.value).toEqual({ idle: 'empty' });
      conversation.apply(join('c1', 'alice'));
      conversation.apply(join('c2', 'bob'));
      expect(conversation.snapshot.value).toEqual({ idle: 'occupied' });
      conversation.apply(leave('c1'));
      expect(conversation.snapshot.value).toEqual({ idle: 'occupied' });
      conversation.apply(leave('c2'));
      expect(conversation.snapshot.value).toEqual({ idle: 'empty' });
    });

    it('ends a turn through `ending`, which starts the queued one or goes idle', () => {
      const conversation = createConversation();
      conversation.apply(join('c1', 'alice'));
      const first = sendMessage(conversation, 'c1', 'alice', 'One');
      const second = sendMessage(conversation, 'c1', 'alice', 'Two');
      conversation.apply(started(first.turnId));

      const next = conversation.apply(finish(first.turnId));
      expect(conversation.snapshot.value).toEqual({ working: 'waiting' });
      expect(effects(next)).toMatchObject([{ type: 'submit', turnId: second.turnId }]);

      conversation.apply(started(second.turnId));
      conversation.apply(finish(second.turnId));
      expect(conversation.snapshot.value).toEqual({ idle: 'occupied' });
    });

    it('wakes from what it kept when it hibernated into idle.occupied, with its ids going on', () => {
      const [awake] = initialTransition(conversationMachine, {
        conversationId: 'demo',
        idSeed: 'other',
        settings: SETTINGS,
        effects: effectsPort({ value: true }),
        idleMs: 60_000,
        hibernateAfterMs: 1_000,
        restored: {
          seq: 9,
          history: [{ role: 'user', content: 'Hi', userId: 'alice' }],
          unfinishedTurns: [],
        },
        awoken: {
          conversationId: 'demo',
          seq: 9,
          idSeed: 's',
          turnsNamed: 3,
          messagesNamed: 4,
          participants: [{ connectionId: 'c1', userId: 'alice' }],
          typingUsers: [],
        },
      });
      expect(awake.value).toEqual({ idle: 'occupied' });
      expect(awake.context).toMatchObject({
        seq: 9,
        idSeed: 's',
        turnsNamed: 3,
        messagesNamed: 4,
        participants: [{ connectionId: 'c1', userId: 'alice' }],
        history: [{ role: 'user', content: 'Hi', userId: 'alice' }],
      });
    });

    it('does not hibernate with hibernation off: the timer fires and the guard declines', () => {
      let [snapshot] = initialTransition(conversationMachine, {
        conversationId: 'demo',
        idSeed: 's',
        settings: SETTINGS,
        effects: effectsPort({ value: true }),
        idleMs: 60_000,
      });
      [snapshot] = transition(conversationMachine, snapshot, join('c1', 'alice'));
      [snapshot] = transition(conversationMachine, snapshot, {
        type: 'xstate.after.hibernateAfter.conversation.idle.occupied',
      } as never);
      expect(snapshot.value).toEqual({ idle: 'occupied' });
    });

    it('draws every transition with its event: the only eventless one is the choice in `ending`', () => {
      const eventless: string[] = [];
      const visit = (node: (typeof conversationMachine)['root']) => {
        if (node.always !== undefined && node.always.length > 0) eventless.push(node.id);
        for (const child of Object.values(node.states)) visit(child);
      };
      visit(conversationMachine.root);
      expect(eventless).toEqual(['conversation.ending']);
    });

    it('closes the turns a restart cut off as interrupted, with their streamed text, when it starts', () => {
      const conversation = createConversation(
        {},
        {
          seq: 7,
          history: [],
          unfinishedTurns: [{ turnId: 'turn_old_1', agentMessageId: 'message_old_2', text: 'Hal' }],
        },
      );
      expect(frames(conversation.initialCommands)).toEqual([
        expect.objectContaining({
          type: 'agent_response_complete',
          turn_id: 'turn_old_1',
          message_id: 'message_old_2',
          content: 'Hal',
          status: 'interrupted',
          error: {
            code: 'server_shutdown',
            message: 'The server stopped while this turn was running.',
          },
          seq: 8,
        }),
      ]);
      expect(conversation.state.unfinishedTurns).toEqual([]);
    });
  });
});
