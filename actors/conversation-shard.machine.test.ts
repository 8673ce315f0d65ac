import { createActor, SimulatedClock } from 'xstate';
import { describe, expect, it } from 'vitest';
import type { HibernatedConversation } from './conversation.machine.js';
import { conversationShardMachine } from './conversation-shard.machine.js';

const IDLE_MS = 400;

function createShard() {
  const clock = new SimulatedClock();
  const woken: string[] = [];
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
    },
  }).start();
  const hibernate = (conversationId: string, participants: string[] = []) => {
    const record: HibernatedConversation = {
      conversationId,
      seq: 2,
      idSeed: 's',
      turnsNamed: 0,
      messagesNamed: 0,
      participants: participants.map((userId, index) => ({ connectionId: `c${index}`, userId })),
      typingUsers: [],
    };
    shard.send({ type: 'conversation.hibernated', conversation: record });
  };
  const kept = () => [...shard.getSnapshot().context.hibernated.keys()].sort();
  // SimulatedClock runs the timers due at an increment's end time, and a timer they set starts
  // there: time goes on in steps, as it would.
  const advance = (ms: number) => {
    for (let step = 0; step < ms; step += 1) clock.increment(1);
  };
  return { advance, shard, hibernate, kept, woken };
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
