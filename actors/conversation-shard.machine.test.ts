import { createActor, SimulatedClock } from 'xstate';
import { describe, expect, it } from 'vitest';
import type { HibernatedConversation, Publication } from './conversation.machine.js';
import { conversationShardMachine } from './conversation-shard.machine.js';

const IDLE_MS = 400;

function createShard() {
  const clock = new SimulatedClock();
  const woken: string[] = [];
  /** What hibernated conversations logged and published, in order, through their effects port. */
  const effects: (
    | { conversationId: string; input: unknown; afterSeq: number }
    | { conversationId: string; publication: Publication }
  )[] = [];
  const shard = createActor(conversationShardMachine, {
    clock,
    id: 'conversations:0',
    input: {
      conversationIdleMs: IDLE_MS,
      conversationInput: () => {
        throw new Error('no conversation starts in these tests');
      },
      wakeConversation: (conversationId) => {
        woken.push(conversationId);
      },
      hibernatedEffects: (conversationId) => ({
        recordInput: (afterSeq, input) => {
          effects.push({ conversationId, afterSeq, input });
        },
        publish: (publication) => {
          effects.push({ conversationId, publication });
        },
      }),
    },
  }).start();
  const hibernate = (
    conversationId: string,
    participants: string[] = [],
    typingUsers: string[] = [],
  ) => {
    const record: HibernatedConversation = {
      conversationId,
      seq: 2,
      idSeed: 's',
      turnsNamed: 0,
      messagesNamed: 0,
      participants: participants.map((userId, index) => ({ connectionId: `c${index}`, userId })),
      typingUsers,
    };
    shard.send({ type: 'conversation.hibernated', conversation: record });
  };
  const kept = () => [...shard.getSnapshot().context.hibernated.keys()].sort();
  // SimulatedClock runs the timers due at an increment's end time, and a timer they set starts
  // there: time goes on in steps, as it would.
  const advance = (ms: number) => {
    for (let step = 0; step < ms; step += 1) clock.increment(1);
  };
  const record = (conversationId: string) =>
    shard.getSnapshot().context.hibernated.get(conversationId);
  const leave = (conversationId: string, connectionId: string) => {
    shard.send({
      type: 'conversation.deliver',
      conversationId,
      event: { type: 'participant.leave', connectionId },
    });
  };
  return { advance, shard, hibernate, kept, woken, effects, record, leave };
}

describe('conversationShardMachine, empty hibernated conversations', () => {
  it('forgets one with no participant between 1 and 1.25 × the idle time after it hibernated', () => {
    const { advance, shard, hibernate, kept } = createShard();
    hibernate('a');
    expect(shard.getSnapshot().value).toBe('sweeping');

    advance(IDLE_MS - 1);
    expect(kept()).toEqual(['a']);
    advance(IDLE_MS / 4 + 1);
    expect(kept()).toEqual([]);
    // Nothing left to sweep: no timer runs.
    expect(shard.getSnapshot().value).toBe('quiet');
  });

  it('sweeps every empty record on one timer, each after its own idle time', () => {
    const { advance, hibernate, kept, shard } = createShard();
    hibernate('a');
    advance(IDLE_MS / 2);
    hibernate('b');
    hibernate('c');

    advance(IDLE_MS * 0.75);
    expect(kept()).toEqual(['b', 'c']);
    advance(IDLE_MS * 0.75);
    expect(kept()).toEqual([]);
    expect(shard.getSnapshot().value).toBe('quiet');
  });

  it('keeps one with participants, and one an event is waiting to wake', () => {
    const { advance, hibernate, kept, shard, woken } = createShard();
    hibernate('occupied', ['alice']);
    expect(shard.getSnapshot().value).toBe('quiet');
    hibernate('called');
    shard.send({
      type: 'conversation.deliver',
      conversationId: 'called',
      event: { type: 'participant.join', connectionId: 'c9', userId: 'bob' },
    });

    advance(IDLE_MS * 3);
    expect(kept()).toEqual(['called', 'occupied']);
    expect(woken).toEqual(['called']);
    expect(shard.getSnapshot().value).toBe('quiet');
  });
});

describe('conversationShardMachine, a leave while hibernated', () => {
  it('takes the leave in place: the input logged, the others told, seq on, nothing woken', () => {
    const { effects, hibernate, leave, record, shard, woken } = createShard();
    // c0 alice, c1 bob; bob was typing when the conversation hibernated.
    hibernate('room', ['alice', 'bob'], ['bob']);

    leave('room', 'c1');

    expect(woken).toEqual([]);
    expect(record('room')?.conversation).toMatchObject({
      seq: 4,
      participants: [{ connectionId: 'c0', userId: 'alice' }],
      typingUsers: [],
    });
    // As the awake conversation's removeParticipant: the input after seq 2, then the typing
    // stop and the presence frame to those still there.
    expect(effects).toEqual([
      {
        conversationId: 'room',
        afterSeq: 2,
        input: { type: 'participant.leave', connectionId: 'c1' },
      },
      {
        conversationId: 'room',
        publication: {
          seq: 3,
          recipients: ['c0'],
          body: { type: 'typing_indicator', actor: 'user', user_id: 'bob', is_typing: false },
        },
      },
      {
        conversationId: 'room',
        publication: {
          seq: 4,
          recipients: ['c0'],
          body: {
            type: 'presence',
            status: 'left',
            user_id: 'bob',
            connection_id: 'c1',
            participants: ['alice'],
          },
        },
      },
    ]);
    // Still someone there: no sweep to run.
    expect(shard.getSnapshot().value).toBe('quiet');
  });

  it('starts the sweep when the last participant leaves, and forgets the record after the idle time', () => {
    const { advance, effects, hibernate, kept, leave, record, shard, woken } = createShard();
    hibernate('solo', ['alice']);

    leave('solo', 'c0');

    expect(woken).toEqual([]);
    expect(record('solo')?.conversation).toMatchObject({ seq: 3, participants: [] });
    expect(
      effects.map((effect) => ('publication' in effect ? effect.publication.seq : 'input')),
    ).toEqual(['input', 3]);
    expect(shard.getSnapshot().value).toBe('sweeping');
    advance(IDLE_MS * 1.25 + 1);
    expect(kept()).toEqual([]);
  });

  it('logs a leave of a connection it does not know, and changes nothing else', () => {
    const { effects, hibernate, leave, record } = createShard();
    hibernate('room', ['alice']);

    leave('room', 'c9');

    expect(record('room')?.conversation).toMatchObject({
      seq: 2,
      participants: [{ userId: 'alice' }],
    });
    expect(effects).toEqual([
      {
        conversationId: 'room',
        afterSeq: 2,
        input: { type: 'participant.leave', connectionId: 'c9' },
      },
    ]);
  });

  it('queues a leave behind an event that is waking the conversation, in order', () => {
    const { effects, hibernate, leave, record, shard, woken } = createShard();
    hibernate('busy', ['alice', 'bob']);
    const message = {
      type: 'user.typing',
      connectionId: 'c0',
      userId: 'alice',
      isTyping: true,
    } as const;
    // The wake is under way (its history is being read): a leave must not overtake the message.
    shard.send({ type: 'conversation.deliver', conversationId: 'busy', event: message });

    leave('busy', 'c1');

    expect(woken).toEqual(['busy']);
    expect(record('busy')?.waiting).toEqual([
      message,
      { type: 'participant.leave', connectionId: 'c1' },
    ]);
    expect(effects).toEqual([]);
  });
});
