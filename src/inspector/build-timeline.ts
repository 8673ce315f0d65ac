import type { AnyActorRef, InspectionEvent } from 'xstate';
import type { LogEntry } from '../event-log/log-entry.js';
import type { Recording } from '../replay/read-recording.js';
import { replayRecording } from '../replay/replay-recording.js';
import { pathOf } from './actor-paths.js';
import type { TimelinePoint } from './inspector-protocol.js';
import { sanitize, stateToString, type SanitizeLimits } from './sanitize.js';

/** A conversation's history as points in time, for the inspector's slider. */
export interface Timeline {
  points: TimelinePoint[];
  entries: Record<string, unknown>[];
  truncated: boolean;
}

/** Bounds of a timeline sent to the page. */
export interface TimelineLimits {
  /** @default 20_000 */
  maxPoints: number;
  /** Log entries kept for the sequence view. @default 5_000 */
  maxEntries: number;
}

/**
 * Time travel over the persisted log: replays the recording through a fresh engine (virtual
 * time, recorded model and tools) and notes, for every seq, the state of every actor and the
 * conversation's context right after that frame was sent. The same works for a conversation's
 * live log and for a recording file.
 *
 * @example
 * const timeline = await buildTimeline(recording, sanitizeLimits);
 * timeline.points[41].states['conversation:demo'] // 'working.calling_tool'
 */
export async function buildTimeline(
  recording: Recording,
  sanitizeLimits: SanitizeLimits,
  { maxPoints = 20_000, maxEntries = 5_000 }: Partial<TimelineLimits> = {},
): Promise<Timeline> {
  const frames = new Map<number, Extract<LogEntry, { kind: 'frame' }>>();
  for (const entry of recording.entries) {
    if (entry.kind === 'frame' && entry.to === undefined) frames.set(entry.seq, entry);
  }
  const states = new Map<string, string>();
  const points: TimelinePoint[] = [];
  let lastSeq = 0;
  const inspect = (event: InspectionEvent) => {
    if (event.type !== '@xstate.snapshot') return;
    const path = pathOf(event.actorRef as AnyActorRef);
    if (path === 'parley') return;
    const snapshot = event.snapshot as { value?: unknown; context?: { seq?: number } };
    const state = stateToString(snapshot.value);
    states.set(path, state);
    const seq = path.startsWith('conversation:') ? (snapshot.context?.seq ?? 0) : lastSeq;
    // A point shows every actor as it was after its frame and until the next one: actors that
    // move on in the same step (a connection told it has joined) update the latest point.
    const latest = points.at(-1);
    if (seq <= lastSeq && latest !== undefined) latest.states[path] = state;
    for (let next = lastSeq + 1; next <= seq && points.length < maxPoints; next += 1) {
      const frame = frames.get(next);
      points.push({
        seq: next,
        at: frame?.at ?? 0,
        frame: (sanitize(frame?.frame ?? {}, sanitizeLimits) ?? {}) as Record<string, unknown>,
        states: Object.fromEntries(states),
        context: (sanitize(snapshot.context ?? {}, sanitizeLimits) ?? {}) as Record<
          string,
          unknown
        >,
      });
    }
    lastSeq = Math.max(lastSeq, seq);
  };
  await replayRecording(recording, { inspect });
  return {
    points,
    entries: recording.entries
      .slice(0, maxEntries)
      .map((entry) => (sanitize(entry, sanitizeLimits) ?? {}) as Record<string, unknown>),
    truncated: points.length >= maxPoints || recording.entries.length > maxEntries,
  };
}
