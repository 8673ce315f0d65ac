import type { FrameEntry } from '../event-log/log-entry.js';

/**
 * Fields that are wall-clock readings, not behaviour: a replay under virtual time cannot and
 * need not reproduce them, so they are left out of the comparison.
 */
export const TIMING_FIELDS = ['timestamp', 'duration_ms', 'deadline'] as const;

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
  // Nearly every frame of a replay matches: a plain equality check settles those without the
  // copies and JSON of the readable diff (which was a tenth of a whole replay's time).
  if (
    expected.seq === actual.seq &&
    expected.to === actual.to &&
    sameFrame(expected.frame, actual.frame)
  ) {
    return [];
  }
  const lines: string[] = [];
  if (expected.seq !== actual.seq) lines.push(`- seq: ${expected.seq}`, `+ seq: ${actual.seq}`);
  if (expected.to !== actual.to) {
    lines.push(`- to: ${String(expected.to)}`, `+ to: ${String(actual.to)}`);
  }
  diffValues('', withoutTiming(expected.frame), withoutTiming(actual.frame), lines);
  return lines;
}

/** Whether two frames have the same fields in the same order and the same values, timing aside. */
function sameFrame(expected: Record<string, unknown>, actual: Record<string, unknown>): boolean {
  const expectedKeys = Object.keys(expected);
  const actualKeys = Object.keys(actual);
  let other = 0;
  for (const key of expectedKeys) {
    if (isTiming(key)) continue;
    while (other < actualKeys.length && isTiming(actualKeys[other] ?? '')) other += 1;
    if (actualKeys[other] !== key || !samePlainValue(expected[key], actual[key])) return false;
    other += 1;
  }
  while (other < actualKeys.length && isTiming(actualKeys[other] ?? '')) other += 1;
  return other === actualKeys.length;
}

/**
 * Strict equality of JSON data: the same primitives, arrays of the same length, plain objects with
 * the same keys in the same order. It only answers "equal" where {@link diffValues} finds no
 * difference either; anything it is unsure of (a class instance, `undefined`, NaN, a function)
 * is left to that slower, readable comparison.
 */
function samePlainValue(expected: unknown, actual: unknown): boolean {
  if (expected === actual) {
    return (
      expected === null ||
      typeof expected === 'string' ||
      typeof expected === 'number' ||
      typeof expected === 'boolean'
    );
  }
  if (typeof expected !== 'object' || typeof actual !== 'object') return false;
  if (expected === null || actual === null) return false;
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || expected.length !== actual.length) return false;
    for (let index = 0; index < expected.length; index += 1) {
      if (!samePlainValue(expected[index], actual[index])) return false;
    }
    return true;
  }
  if (!isPlainObject(expected) || !isPlainObject(actual)) return false;
  const expectedKeys = Object.keys(expected);
  const actualKeys = Object.keys(actual);
  if (expectedKeys.length !== actualKeys.length) return false;
  for (let index = 0; index < expectedKeys.length; index += 1) {
    const key = expectedKeys[index] ?? '';
    if (actualKeys[index] !== key || !samePlainValue(expected[key], actual[key])) return false;
  }
  return true;
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

function isTiming(key: string): boolean {
  return (TIMING_FIELDS as readonly string[]).includes(key);
}

function withoutTiming(frame: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(frame).filter(([key]) => !isTiming(key)));
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
