import { describe, expect, it } from 'vitest';
import { activityRank, compareConversations, conversationActivity } from './actor-activity.js';
import type { ConversationActivity } from './inspector-protocol.js';

const activity = (participants: number, phase: string | null): ConversationActivity => ({
  participants,
  turn_id: phase === null ? null : 'turn_1',
  turn_phase: phase,
  answer: '',
  answer_offset: 0,
});
const conversation = (path: string, value: ConversationActivity | null) => ({
  path,
  kind: 'conversation' as const,
  activity: value,
});

describe('actor activity', () => {
  it('ranks a running turn first, then someone connected, then an idle conversation', () => {
    expect(activityRank(conversation('conversation:a', activity(1, 'streaming')))).toBe(0);
    expect(activityRank(conversation('conversation:a', activity(0, 'waiting')))).toBe(0);
    expect(activityRank(conversation('conversation:a', activity(2, null)))).toBe(1);
    expect(activityRank(conversation('conversation:a', activity(0, null)))).toBe(2);
    expect(activityRank(conversation('conversation:a', null))).toBe(2);
    expect(activityRank({ kind: 'connection', activity: null })).toBe(0);
  });

  it('orders conversations busiest first, then by path', () => {
    const list = [
      conversation('conversation:a-idle', activity(0, null)),
      conversation('conversation:b-occupied', activity(1, null)),
      conversation('conversation:z-working', activity(1, 'calling_tool')),
      conversation('conversation:a-occupied', activity(3, null)),
    ];
    expect(list.sort(compareConversations).map((item) => item.path)).toEqual([
      'conversation:z-working',
      'conversation:a-occupied',
      'conversation:b-occupied',
      'conversation:a-idle',
    ]);
  });

  it("reads participants, the running turn's phase and the end of its answer from a snapshot", () => {
    const context = {
      participants: [{ connectionId: 'c1', userId: 'alice' }],
      activeTurn: { turnId: 'turn_7', text: 'abcdefghij' },
    };
    const value = { working: 'streaming' };
    expect(conversationActivity({ context, value }, 4)).toEqual({
      participants: 1,
      turn_id: 'turn_7',
      turn_phase: 'streaming',
      answer: 'ghij',
      answer_offset: 6,
    });
    expect(
      conversationActivity(
        { context: { ...context, activeTurn: null }, value: { idle: 'occupied' } },
        4,
      ),
    ).toEqual({
      participants: 1,
      turn_id: null,
      turn_phase: null,
      answer: '',
      answer_offset: 0,
    });
    expect(conversationActivity(undefined, 4)).toMatchObject({ participants: 0, turn_id: null });
  });
});
