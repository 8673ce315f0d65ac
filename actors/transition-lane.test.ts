/**
 * The token lane against XState's interpreter: the same conversation driven through both, step by
 * step, must give the same snapshots, the same actions as data and the same inspection records;
 * and a lane whose description does not fit its machine must refuse to be built.
 */
import { describe, expect, it, vi } from 'vitest';
import {
  createActor,
  createMachine,
  initialTransition,
  StateMachine,
  transition,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type InspectionEvent,
} from 'xstate';
import type { ConversationEvent } from './conversation-state.js';
import { conversationMachine } from './conversation.machine.js';
import { markUninspected, withTransitionLane } from './transition-lane.js';
import {
  NO_CONVERSATION_EFFECTS,
  TEST_CONVERSATION_SETTINGS,
} from '../test/support/conversation-settings.js';

/** The conversation machine with the interpreter's own `transition`: no lane. */
const interpreted = Object.create(conversationMachine, {
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called on the machine, as XState does
  transition: { value: StateMachine.prototype.transition },
}) as typeof conversationMachine;

const input = {
  conversationId: 'demo',
  idSeed: 's',
  settings: TEST_CONVERSATION_SETTINGS,
  effects: NO_CONVERSATION_EFFECTS,
  idleMs: 60_000,
};

/** The turn id the machine asked to submit (its ids come from the seed, so both runs agree). */
function submittedTurnId(actions: readonly { type: string; params?: unknown }[]): string {
  const submit = actions.find((action) => action.type === 'submitTurn');
  if (submit === undefined) throw new Error('no turn was submitted');
  return (submit.params as { turnId: string }).turnId;
}

/** What a step returns, without functions and actor references. */
function comparable(snapshot: AnyMachineSnapshot, actions: { type: string; params?: unknown }[]) {
  return {
    status: snapshot.status,
    value: snapshot.value as unknown,
    context: { ...(snapshot.context as Record<string, unknown>), effects: undefined } as unknown,
    // (XState's own actions, such as `sendTo`, carry actor references whose ids differ.)
    actions: actions.map((action) =>
      action.type.startsWith('xstate.')
        ? { type: action.type }
        : { type: action.type, params: action.params },
    ),
  };
}

/** Two participants, a message, its turn started: the events before the tokens. */
function opening(): ConversationEvent[] {
  return [
    { type: 'participant.join', connectionId: 'c1', userId: 'alice' },
    { type: 'participant.join', connectionId: 'c2', userId: 'bob' },
    { type: 'user.message', connectionId: 'c1', userId: 'alice', content: 'Hello' },
  ];
}

/**
 * Starts `actor` and takes it into `working.streaming`: the opening, its turn started, a first
 * token (the interpreter's step). Returns the turn's id; the next token takes the lane.
 */
function startStreaming(actor: {
  start(): unknown;
  send(event: ConversationEvent): void;
  getSnapshot(): { context: unknown };
}): string {
  actor.start();
  for (const event of opening()) actor.send(event);
  const turnId = (actor.getSnapshot().context as { activeTurn: { turnId: string } | null })
    .activeTurn?.turnId;
  if (turnId === undefined) throw new Error('no turn started');
  actor.send({ type: 'turn.started', turnId });
  actor.send({ type: 'turn.text_delta', turnId, delta: 'Hi' });
  return turnId;
}

describe('the token lane', () => {
  it('gives the same snapshot and actions as the interpreter at every step of a turn', () => {
    let [laned, actions] = initialTransition(conversationMachine, input);
    let [plain] = initialTransition(interpreted, input);
    let turnId = '';
    const step = (event: ConversationEvent) => {
      const [nextLaned, lanedActions] = transition(conversationMachine, laned, event);
      const [nextPlain, plainActions] = transition(interpreted, plain, event);
      expect(comparable(nextLaned, lanedActions)).toEqual(comparable(nextPlain, plainActions));
      // The lane keeps the state value object; the interpreter computes it again on every step
      // it takes (and returns the very same snapshot when it takes none).
      const tookLane = nextLaned !== laned && nextLaned.value === laned.value;
      laned = nextLaned;
      plain = nextPlain;
      actions = lanedActions;
      return tookLane;
    };
    for (const event of opening()) step(event);
    turnId = submittedTurnId(actions);
    const delta = (text: string, id = turnId): ConversationEvent => ({
      type: 'turn.text_delta',
      turnId: id,
      delta: text,
    });

    // The first token enters `streaming` (a transition with a target): the interpreter's.
    expect(step({ type: 'turn.started', turnId })).toBe(false);
    expect(step(delta('Hi'))).toBe(false);
    expect(laned.value).toEqual({ working: 'streaming' });
    // The next ones are the lane's (the state value is the same object, not computed again).
    expect(step(delta(' there'))).toBe(true);
    expect(step(delta(', Alice'))).toBe(true);
    // Another turn's token: the guard says no, and the interpreter ignores it as before.
    expect(step(delta('stale', 'turn_other'))).toBe(false);
    // Usage stays in `streaming` (the interpreter's); a tool call leaves it, and the token after
    // it enters it again.
    expect(step({ type: 'turn.usage', turnId, usage: { inputTokens: 3, outputTokens: 3 } })).toBe(
      false,
    );
    expect(step(delta(' and'))).toBe(true);
    step({ type: 'turn.tool_call', turnId, toolCallId: 'call_1', toolName: 'now', input: {} });
    expect(step(delta('!'))).toBe(false);
    expect(step(delta(' Done.'))).toBe(true);
    const active = (laned.context as { activeTurn: { text: string } | null }).activeTurn;
    expect(active?.text).toBe('Hi there, Alice and! Done.');
    step({ type: 'turn.finished', turnId, status: 'completed', steps: 1 });
    expect(laned.value).not.toEqual({ working: 'streaming' });
  });

  it('shows the inspector the same records for a token as the interpreter does', () => {
    const record = (logic: AnyStateMachine) => {
      const records: unknown[] = [];
      const actor = createActor(logic, {
        input,
        inspect: (event: InspectionEvent) => {
          if (event.type === '@xstate.event') records.push([event.type, event.event.type]);
          if (event.type === '@xstate.action') records.push([event.type, event.action]);
          if (event.type === '@xstate.snapshot') {
            records.push([event.type, (event.snapshot as AnyMachineSnapshot).context]);
          }
          if (event.type === '@xstate.microstep') {
            const transitions = (event as { _transitions?: { eventType: string }[] })._transitions;
            records.push([event.type, transitions?.map((entry) => entry.eventType)]);
          }
        },
      });
      const turnId = startStreaming(actor);
      const before = records.length;
      actor.send({ type: 'turn.text_delta', turnId, delta: ' there' });
      const after = records.length;
      actor.stop();
      return records
        .slice(before, after)
        .map(
          (entry): unknown =>
            JSON.parse(
              JSON.stringify(entry, (key, value: unknown) =>
                key === 'effects' ? undefined : value,
              ),
            ) as unknown,
        );
    };
    const laned = record(conversationMachine);
    expect(laned.map((entry) => (entry as string[])[0])).toEqual([
      '@xstate.event',
      '@xstate.action',
      '@xstate.microstep',
      '@xstate.snapshot',
    ]);
    expect(laned).toEqual(record(interpreted));
  });

  it('skips the microstep record where the system is marked uninspected, until something inspects it', () => {
    const microsteps: string[] = [];
    const actor = createActor(conversationMachine, { input });
    markUninspected(actor.system);
    const turnId = startStreaming(actor);
    // What the lane would record goes nowhere: no observer. An inspector attached now lifts the
    // mark, and the next token's step is recorded as the interpreter would record it.
    const sent = vi.spyOn(
      actor.system as unknown as { _sendInspectionEvent: (event: { type: string }) => void },
      '_sendInspectionEvent',
    );
    actor.send({ type: 'turn.text_delta', turnId, delta: ' there' });
    expect(sent.mock.calls.map(([event]) => event.type)).not.toContain('@xstate.microstep');
    actor.system.inspect((event) => {
      if (event.type === '@xstate.microstep') microsteps.push(event.event.type);
    });
    actor.send({ type: 'turn.text_delta', turnId, delta: ', Alice' });

    expect(microsteps).toEqual(['turn.text_delta']);
    expect((actor.getSnapshot().context as { activeTurn: { text: string } }).activeTurn.text).toBe(
      'Hi there, Alice',
    );
    actor.stop();
  });

  it('refuses a description that does not fit the machine', () => {
    const build = (target?: string) =>
      createMachine({
        id: 'm',
        initial: 'a',
        states: {
          a: {
            on: { d: { guard: 'ok', actions: ['add', 'send'], ...(target ? { target } : {}) } },
          },
          b: {},
        },
      });
    const lane = {
      stateId: 'm.a',
      eventType: 'd',
      guard: { type: 'ok', test: () => true },
      assign: { type: 'add', update: () => ({}) },
      action: { type: 'send', params: () => undefined },
    };
    expect(() => withTransitionLane(build('b'), lane)).toThrow(
      'The lane for d in m.a does not fit: the transition has a target.',
    );
    expect(() =>
      withTransitionLane(build(), { ...lane, assign: { ...lane.assign, type: 'other' } }),
    ).toThrow('its actions are ["add","send"]');
    expect(() => withTransitionLane(build(), lane)).toThrow('the machine has no action send');
  });
});
