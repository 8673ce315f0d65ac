import { describe, expect, it } from 'vitest';
import type { ActorSummary, ConversationActivity } from '../../inspector/inspector-protocol.js';
import { buildRows } from './actor-rows.js';

const activity = (participants: number, phase: string | null = null): ConversationActivity => ({
  participants,
  turn_id: phase === null ? null : 'turn_1',
  turn_phase: phase,
  answer: '',
  answer_offset: 0,
});

function summary(path: string, fields: Partial<ActorSummary> = {}): ActorSummary {
  const kind = path.startsWith('conversation:')
    ? 'conversation'
    : path.startsWith('connection:')
      ? 'connection'
      : 'root';
  return {
    path,
    kind,
    parent: kind === 'root' ? null : 'parley',
    conversation: null,
    state: '',
    status: 'active',
    updated_at: 0,
    user_id: null,
    activity: null,
    ...fields,
  };
}

const actors = new Map(
  [
    summary('parley'),
    summary('conversation:a-idle', { activity: activity(0), state: 'idle.empty' }),
    summary('conversation:b-chat', { activity: activity(1), state: 'idle.occupied' }),
    summary('conversation:c-busy', { activity: activity(1, 'streaming') }),
    summary('connection:conn_1', { conversation: 'conversation:b-chat', user_id: 'alice' }),
    summary('connection:conn_2', { conversation: 'conversation:c-busy', user_id: 'bob' }),
  ].map((item) => [item.path, item]),
);
const connectionsOf = new Map([
  ['conversation:b-chat', new Set(['connection:conn_1'])],
  ['conversation:c-busy', new Set(['connection:conn_2'])],
]);
const paths = (options: Partial<Parameters<typeof buildRows>[2]> = {}) =>
  buildRows(actors, connectionsOf, {
    filter: '',
    showIdle: false,
    collapsed: new Set(),
    ...options,
  });

describe('the actor tree rows', () => {
  it('lists the root, then busy conversations first, and folds idle ones away', () => {
    const { rows, foldedIdle } = paths();
    expect(rows.map((row) => row.path)).toEqual([
      'parley',
      'conversation:c-busy',
      'connection:conn_2',
      'conversation:b-chat',
      'connection:conn_1',
    ]);
    expect(foldedIdle).toBe(1);
    expect(rows.find((row) => row.path === 'conversation:b-chat')?.children).toBe(1);
  });

  it('shows the idle conversations last when asked, and folds a collapsed conversation', () => {
    const { rows, foldedIdle } = paths({
      showIdle: true,
      collapsed: new Set(['conversation:c-busy']),
    });
    expect(rows.map((row) => row.path)).toEqual([
      'parley',
      'conversation:c-busy',
      'conversation:b-chat',
      'connection:conn_1',
      'conversation:a-idle',
    ]);
    expect(foldedIdle).toBe(0);
  });

  it('finds a connection by its user, and an idle conversation by its state, with their groups', () => {
    expect(paths({ filter: 'alice' }).rows.map((row) => row.path)).toEqual([
      'conversation:b-chat',
      'connection:conn_1',
    ]);
    expect(paths({ filter: 'idle.empty' }).rows.map((row) => row.path)).toEqual([
      'conversation:a-idle',
    ]);
  });
});
