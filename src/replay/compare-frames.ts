import type { FrameEntry } from '../event-log/log-entry.js';

/**
 * Fields that are wall-clock readings, not behaviour: a replay under virtual time cannot and
 * need not reproduce them, so they are left out of the comparison.
 */
export const TIMING_FIELDS = ['timestamp', 'duration_ms'] as const;

/** The first frame where a replay differs from its recording. */
export interface FrameDivergence {
  /** Index among the conversation's frames (0-based). */
  index: number;
  /** The seq where it happened (of the recorded frame, or the replayed one if extra). */
  seq: number;
  expected: FrameEntry['frame'] | undefined;
  actual: FrameEntry['frame'] | undefined;
  /** A readable diff: one line per differing field. */
  diff: string[];
}

/**
 * Compares recorded and replayed frames in order (seq, recipient and content, timing fields
 * aside) and returns the first difference, or undefined when they match.
 *
 * @example
 * const divergence = firstDivergence(recordedFrames, replayedFrames);
 * if (divergence) console.log(divergence.diff.join('\n'));
 */
export function firstDivergence(
  expected: readonly FrameEntry[],
  actual: readonly FrameEntry[],
): FrameDivergence | undefined {
  const length = Math.max(expected.length, actual.length);
  for (let index = 0; index < length; index += 1) {
    const want = expected[index];
    const got = actual[index];
    const diff =
      want === undefined || got === undefined
        ? [
            want === undefined
              ? '+ (a frame the recording does not have)'
              : '- (a frame the replay did not send)',
          ]
        : diffEntries(want, got);
    if (diff.length > 0) {
      return {
        index,
        seq: want?.seq ?? got?.seq ?? 0,
        expected: want?.frame,
        actual: got?.frame,
        diff,
      };
    }
  }
  return undefined;
}

function diffEntries(expected: FrameEntry, actual: FrameEntry): string[] {
  const lines: string[] = [];
  if (expected.seq !== actual.seq) lines.push(`- seq: ${expected.seq}`, `+ seq: ${actual.seq}`);
  if (expected.to !== actual.to) {
    lines.push(`- to: ${String(expected.to)}`, `+ to: ${String(actual.to)}`);
  }
  diffValues('', withoutTiming(expected.frame), withoutTiming(actual.frame), lines);
  return lines;
}

function withoutTiming(frame: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(frame).filter(([key]) => !(TIMING_FIELDS as readonly string[]).includes(key)),
  );
}

function diffValues(path: string, expected: unknown, actual: unknown, lines: string[]): void {
  if (isObject(expected) && isObject(actual)) {
    for (const key of new Set([...Object.keys(expected), ...Object.keys(actual)])) {
      diffValues(path === '' ? key : `${path}.${key}`, expected[key], actual[key], lines);
    }
    return;
  }
  if (JSON.stringify(expected) === JSON.stringify(actual)) return;
  if (expected !== undefined) lines.push(`- ${path}: ${JSON.stringify(expected)}`);
  if (actual !== undefined) lines.push(`+ ${path}: ${JSON.stringify(actual)}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
