/**
 * The selected actor as it is live: its state, the transitions that led there, and its context
 * with the one before, folded from the records the engine streams. Pure, so the rule for what a
 * record changes lives in one place.
 */
import type { InspectionRecord } from '../../inspector/inspector-protocol.js';
import { field } from './dom.js';
import { stateOf, transitionsOf, type TakenTransition } from './events-view.js';

/** What the page knows of the selected actor right now. */
export interface LiveActor {
  /** The actor followed, or null when the selection is not a live actor. */
  path: string | null;
  state: string;
  context: unknown;
  previous: unknown;
  /**
   * The transitions of the microsteps since the diagram last showed the state, in order: a batch
   * can hold several (`turn.finished` to `ending`, then `always` to `idle.occupied`).
   */
  taken: TakenTransition[] | undefined;
}

/** A live actor with nothing received yet. */
export function liveActor(path: string | null = null, state = ''): LiveActor {
  return { path, state, context: undefined, previous: undefined, taken: undefined };
}

/** What a batch of records changed: the diagram (state, transition), the context. */
export interface LiveChange {
  diagram: boolean;
  context: boolean;
}

/**
 * Folds a batch of records into `live` (in place): a record of another actor changes nothing; a
 * state or microstep moves the diagram; a snapshot replaces the context, keeping the one before.
 *
 * @example
 * const { diagram } = applyRecords(live, message.records);
 */
export function applyRecords(live: LiveActor, records: readonly InspectionRecord[]): LiveChange {
  const change: LiveChange = { diagram: false, context: false };
  for (const record of records) {
    if (record.path !== live.path) continue;
    const state = stateOf(record.detail);
    const taken = record.kind === 'microstep' ? transitionsOf(record.detail) : [];
    if (state !== undefined && state !== live.state) {
      live.state = state;
      change.diagram = true;
    }
    if (taken.length > 0) {
      live.taken = [...(live.taken ?? []), ...taken];
      change.diagram = true;
    }
    const context = field(record.detail, 'context');
    if (record.kind === 'snapshot' && typeof context === 'object' && context !== null) {
      live.previous = live.context;
      live.context = context;
      change.context = true;
    }
  }
  return change;
}
