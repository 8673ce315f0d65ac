import { describe, expect, it } from 'vitest';
import { conversationMachine } from '../../actors/conversation.machine.js';
import { machineDefinition } from './machine-definitions.js';

describe('machineDefinition', () => {
  it('adds the eventless transitions that toJSON leaves out', () => {
    const json = machineDefinition(conversationMachine) as {
      states: {
        working: { always?: unknown[]; states: { waiting: { always?: { target: string[] }[] } } };
      };
    };
    expect(json.states.working.always).toHaveLength(1);
    const targets = json.states.working.states.waiting.always?.flatMap((t) => t.target);
    expect(targets).toEqual([
      '#conversation.working.thinking',
      '#conversation.working.calling_tool',
      '#conversation.working.streaming',
    ]);
  });
});
