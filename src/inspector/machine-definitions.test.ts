import { describe, expect, it } from 'vitest';
import { conversationMachine } from '../../actors/conversation.machine.js';
import { machineDefinition } from './machine-definitions.js';

describe('machineDefinition', () => {
  it('adds the eventless choice that toJSON leaves out: a turn ends into the next one or idle', () => {
    const json = machineDefinition(conversationMachine) as {
      states: { ending: { always?: { target: string[]; guard?: string }[] } };
    };
    expect(json.states.ending.always).toEqual([
      {
        eventType: '',
        source: '#conversation.ending',
        target: ['#conversation.working'],
        guard: 'hasPendingTurn',
      },
      {
        eventType: '',
        source: '#conversation.ending',
        target: ['#conversation.idle.occupied'],
        guard: 'hasParticipants',
      },
      { eventType: '', source: '#conversation.ending', target: ['#conversation.idle.empty'] },
    ]);
  });
});
