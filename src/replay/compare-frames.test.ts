import { describe, expect, it } from 'vitest';
import type { FrameEntry } from '../event-log/log-entry.js';
import { firstDivergence } from './compare-frames.js';

function entry(seq: number, frame: Record<string, unknown>, to?: string): FrameEntry {
  return {
    v: 1,
    kind: 'frame',
    conversation_id: 'demo',
    position: seq + 1,
    at: 1_000 + seq,
    seq,
    frame: { type: 'tool_result', ...frame },
    ...(to === undefined ? {} : { to }),
  };
}

describe('firstDivergence', () => {
  it('finds none when frames differ only in their timing fields', () => {
    const expected = [entry(1, { result: { values: [1, 2] }, timestamp: 10, duration_ms: 3 })];
    const actual = [entry(1, { result: { values: [1, 2] }, timestamp: 99, duration_ms: 7 })];
    expect(firstDivergence(expected, actual)).toBeUndefined();
  });

  it('finds none when nested fields come in another order or an absent field is undefined', () => {
    const expected = [entry(1, { result: { a: 1, b: 2 } })];
    const actual = [entry(1, { result: { b: 2, a: 1 }, error: undefined })];
    expect(firstDivergence(expected, actual)).toBeUndefined();
  });

  it('reports a changed value deep inside a frame as a diff line pair', () => {
    const expected = [entry(1, { ok: true }), entry(2, { result: { values: [1, 2] } })];
    const actual = [entry(1, { ok: true }), entry(2, { result: { values: [1, 3] } })];
    expect(firstDivergence(expected, actual)).toMatchObject({
      index: 1,
      seq: 2,
      diff: ['- result.values: [1,2]', '+ result.values: [1,3]'],
    });
  });

  it('reports a different recipient and a missing frame', () => {
    expect(firstDivergence([entry(1, {}, 'conn_a')], [entry(1, {}, 'conn_b')])?.diff).toEqual([
      '- to: conn_a',
      '+ to: conn_b',
    ]);
    expect(firstDivergence([entry(1, {}), entry(2, {})], [entry(1, {})])?.diff).toEqual([
      '- (a frame the replay did not send)',
    ]);
  });
});
