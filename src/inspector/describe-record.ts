import type { RawRecord } from './inspection-hub.js';
import { sanitize, stateToString, type SanitizeLimits } from './sanitize.js';

type InspectedSnapshot = { value?: unknown; status?: string; context?: unknown } | undefined;

/**
 * The details of a record as the inspector sees them: live snapshots, events and actions turned
 * into bounded, sanitized JSON. Only called for records an inspector actually receives.
 *
 * @example
 * describeRecord(record, limits) // { state: 'working.streaming', status: 'active', context: {...} }
 */
export function describeRecord(record: RawRecord, limits: SanitizeLimits): Record<string, unknown> {
  const { raw } = record;
  switch (record.kind) {
    case 'snapshot': {
      const snapshot = raw.snapshot as InspectedSnapshot;
      return {
        state: stateToString(snapshot?.value),
        status: snapshot?.status ?? 'active',
        context: sanitize(snapshot?.context ?? {}, limits),
      };
    }
    case 'microstep': {
      const snapshot = raw.snapshot as InspectedSnapshot;
      const transitions = (
        raw.transitions as {
          source?: { id?: string };
          target?: { id?: string }[];
          eventType?: string;
        }[]
      ).map((transition) => ({
        source: transition.source?.id ?? null,
        targets: (transition.target ?? []).map((target) => target.id ?? ''),
        event_type: transition.eventType ?? '',
      }));
      return {
        state: stateToString(snapshot?.value),
        event_type: (raw.event as { type?: string } | undefined)?.type ?? '',
        transitions,
      };
    }
    case 'event':
      return { event: sanitize(raw.event, limits), source: raw.source };
    case 'action': {
      const action = raw.action as { type?: string; params?: unknown };
      return { action_type: action.type ?? '', params: sanitize(action.params, limits) ?? null };
    }
    case 'actor.created':
    case 'actor.stopped':
    case 'actor.hibernated':
    case 'actor.woken':
    case 'pipeline':
    case 'timer.scheduled':
    case 'timer.cancelled':
      return (sanitize(raw, limits) ?? {}) as Record<string, unknown>;
  }
}
