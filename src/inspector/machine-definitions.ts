import type { AnyStateMachine, AnyStateNode } from 'xstate';

/**
 * A machine's definition for drawing it: XState's `toJSON()` plus the eventless (`always`)
 * transitions, which `toJSON()` leaves out. Every other transition is labelled by its event; the
 * eventless ones are the real choices made on entry (the conversation's `ending`: the next queued
 * turn or idle; the connection's `starting`: join, or resume a woken actor).
 *
 * @example
 * const json = machineDefinition(conversationMachine); // json.states.ending.always
 */
export function machineDefinition(machine: AnyStateMachine): Record<string, unknown> {
  const json = JSON.parse(JSON.stringify(machine.toJSON())) as Record<string, unknown>;
  addEventless(json, machine.root);
  return json;
}

function addEventless(json: Record<string, unknown>, node: AnyStateNode): void {
  if (node.always !== undefined && node.always.length > 0) {
    json.always = node.always.map((transition) => ({
      eventType: '',
      source: `#${node.id}`,
      target: (transition.target ?? []).map((target) => `#${target.id}`),
      ...(typeof transition.guard === 'string' ? { guard: transition.guard } : {}),
    }));
  }
  const states = (json.states ?? {}) as Record<string, Record<string, unknown>>;
  for (const [key, child] of Object.entries(node.states)) {
    const childJson = states[key];
    if (childJson !== undefined) addEventless(childJson, child);
  }
}
