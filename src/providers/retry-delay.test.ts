import { describe, expect, it } from 'vitest';
import { backoffDelayMs, retryAfterMs } from './retry-delay.js';

describe('backoffDelayMs', () => {
  it('doubles its ceiling with each attempt and draws the wait below it (full jitter)', () => {
    const top = () => 0.999_999;
    expect([1, 2, 3, 4].map((attempt) => backoffDelayMs(attempt, { random: top }))).toEqual([
      499, 999, 1_999, 3_999,
    ]);
    expect(backoffDelayMs(3, { random: () => 0.5 })).toBe(1_000);
    expect(backoffDelayMs(3, { random: () => 0 })).toBe(0);
  });

  it('never waits longer than maxDelayMs', () => {
    expect(backoffDelayMs(20, { random: () => 0.999_999, maxDelayMs: 8_000 })).toBe(7_999);
  });
});

describe('retryAfterMs', () => {
  const now = () => Date.parse('2026-01-01T00:00:00Z');

  it('prefers retry-after-ms, in any header case', () => {
    expect(retryAfterMs({ 'Retry-After-Ms': '1500.2', 'retry-after': '9' }, now)).toBe(1_501);
  });

  it('reads retry-after in seconds', () => {
    expect(retryAfterMs({ 'retry-after': '2' }, now)).toBe(2_000);
  });

  it('reads retry-after as an HTTP date', () => {
    expect(retryAfterMs({ 'retry-after': 'Thu, 01 Jan 2026 00:00:03 GMT' }, now)).toBe(3_000);
  });

  it('says nothing when there is no usable header', () => {
    expect(retryAfterMs(undefined, now)).toBeUndefined();
    expect(retryAfterMs({ 'retry-after': 'soon' }, now)).toBeUndefined();
    expect(retryAfterMs({ 'content-type': 'application/json' }, now)).toBeUndefined();
  });
});
