/**
 * A precomputed path through a machine for its hottest transition: one targetless transition of
 * one atomic state, with a guard, one `assign` and one action. The conversation machine takes a
 * streamed token this way (`turn.text_delta` in `working.streaming`), thousands of times a second.
 *
 * XState's interpreter spends 6–7 µs and 7–8 KB of garbage on such a step (docs/UPSTREAM.md §5):
 * it builds sets of state nodes to exit and enter, scans for eventless transitions and computes
 * the state value again, although a targetless transition changes none of them. The lane does
 * only what the step means: the guard, the new context, the action through the actor's own
 * executor (so it runs when and where XState would run it, and `transition()` returns it), and
 * the `@xstate.microstep` record for the inspector. Every other event, and this one whenever the
 * lane does not apply, goes to the interpreter.
 *
 * {@link withTransitionLane} checks its description against the machine when it is built (the
 * state is atomic, no eventless transition can follow, the transition has no target and exactly
 * the named guard and actions), so an edit of the statechart that the lane does not know about
 * stops the module from loading instead of diverging; actors/transition-lane.test.ts compares
 * both paths step by step.
 */
import type {
  AnyActorScope,
  AnyMachineSnapshot,
  AnyStateMachine,
  EventObject,
  ExecutableActionObject,
} from 'xstate';

/** The transition a lane takes, named as in the machine's config. */
export interface TransitionLane<TContext, TEvent extends EventObject> {
  /** The atomic state's id, e.g. `conversation.working.streaming`. */
  stateId: string;
  eventType: TEvent['type'];
  /** The transition's guard: its name in the config and the same test as a function. */
  guard: { type: string; test: (context: TContext, event: TEvent) => boolean };
  /** The transition's `assign`: its name in the config and the partial context it returns. */
  assign: { type: string; update: (context: TContext, event: TEvent) => Partial<TContext> };
  /** The transition's one other action, whose implementation the machine provides. */
  action: { type: string; params: (context: TContext, event: TEvent) => unknown };
}

/** The inspection call every XState actor system has (`system._sendInspectionEvent`), untyped. */
interface InspectableSystem {
  _sendInspectionEvent?: (event: Record<string, unknown>) => void;
}

/** What {@link markUninspected} needs of an actor system: its one way to add an inspector. */
interface ObservableSystem {
  inspect: (observer: never) => unknown;
}

/** Systems their creator marked as having no inspector (see {@link markUninspected}). */
const uninspected = new WeakSet<object>();

/**
 * Tells the lanes that nobody inspects `system` (an engine made without `inspect`): they then
 * skip the `@xstate.microstep` record of each step, which XState's system would take and drop.
 * Skipping it saved 2–7 % of a token's CPU in process (`bench/compare-builds.ts --concurrent`).
 * The mark holds until anything inspects the system: `system.inspect(…)` lifts it first.
 *
 * @example
 * const root = createActor(parleyMachine, { input }).start();
 * markUninspected(root.system);
 */
export function markUninspected(system: ObservableSystem): void {
  if (uninspected.has(system)) return;
  uninspected.add(system);
  const inspect = system.inspect.bind(system);
  system.inspect = (observer: never) => {
    uninspected.delete(system);
    return inspect(observer);
  };
}

/** A state node's parts the check reads. */
interface NodeShape {
  type: string;
  parent?: NodeShape;
  always?: unknown[];
  transitions: Map<string, { target?: unknown[]; guard?: unknown; actions: unknown[] }[]>;
}

function nameOf(reference: unknown): string | undefined {
  if (typeof reference === 'string') return reference;
  if (typeof reference === 'object' && reference !== null && 'type' in reference) {
    return String(reference.type);
  }
  return undefined;
}

/**
 * Gives `machine` a lane for one transition, and returns it (the same object: its `transition`
 * method tries the lane first). Throws when the machine's config does not have the transition as
 * `lane` describes it.
 *
 * @example
 * export const conversationMachine = withTransitionLane(machine, {
 *   stateId: 'conversation.working.streaming', eventType: 'turn.text_delta', …
 * });
 */
export function withTransitionLane<
  TMachine extends AnyStateMachine,
  TContext,
  TEvent extends EventObject,
>(machine: TMachine, lane: TransitionLane<TContext, TEvent>): TMachine {
  const state = machine.getStateNodeById(lane.stateId) as unknown as NodeShape;
  const problem = (what: string) =>
    new Error(`The lane for ${lane.eventType} in ${lane.stateId} does not fit: ${what}.`);
  if (state.type !== 'atomic') throw problem('the state is not atomic');
  for (let node: NodeShape | undefined = state; node !== undefined; node = node.parent) {
    if ((node.always?.length ?? 0) > 0) throw problem('an eventless transition could follow');
  }
  const candidates = state.transitions.get(lane.eventType) ?? [];
  const [transition] = candidates;
  if (candidates.length !== 1 || transition === undefined) {
    throw problem('the state needs exactly one transition for the event');
  }
  if ((transition.target?.length ?? 0) > 0) throw problem('the transition has a target');
  if (nameOf(transition.guard) !== lane.guard.type) throw problem('its guard is another');
  const actionNames = transition.actions.map(nameOf);
  if (
    actionNames.length !== 2 ||
    actionNames[0] !== lane.assign.type ||
    actionNames[1] !== lane.action.type
  ) {
    throw problem(`its actions are ${JSON.stringify(actionNames)}`);
  }
  const exec = (machine.implementations.actions as Record<string, unknown>)[lane.action.type];
  if (typeof exec !== 'function') throw problem(`the machine has no action ${lane.action.type}`);

  type Step = (
    snapshot: AnyMachineSnapshot,
    event: EventObject,
    scope: AnyActorScope,
  ) => AnyMachineSnapshot;
  const interpret = machine.transition.bind(machine) as Step;
  const laned: Step = (snapshot, event, scope) => {
    if (
      event.type !== lane.eventType ||
      snapshot.status !== 'active' ||
      !(snapshot._nodes as unknown[]).includes(state)
    ) {
      return interpret(snapshot, event, scope);
    }
    const context = snapshot.context as TContext;
    const typed = event as TEvent;
    if (!lane.guard.test(context, typed)) return interpret(snapshot, event, scope);
    // As XState's `assign`: a copy of the context with the update; the snapshot is the same
    // otherwise (same state nodes, value, tags, children, history).
    const next = { ...context, ...lane.assign.update(context, typed) };
    const nextSnapshot: AnyMachineSnapshot = { ...snapshot, context: next };
    // As the interpreter: the action's params and arguments see the context after the assign.
    const self: unknown = scope.self;
    const system: unknown = scope.system;
    const action = {
      type: lane.action.type,
      info: { context: next, event, self, system },
      params: lane.action.params(next, typed),
      exec,
    };
    scope.actionExecutor(action as ExecutableActionObject);
    if (uninspected.has(scope.system)) return nextSnapshot;
    (scope.system as InspectableSystem)._sendInspectionEvent?.({
      type: '@xstate.microstep',
      actorRef: scope.self,
      event,
      snapshot: nextSnapshot,
      _transitions: [transition],
    });
    return nextSnapshot;
  };
  machine.transition = laned;
  return machine;
}
