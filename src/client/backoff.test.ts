import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_BACKOFF } from './backoff.js';

const options = { initialDelayMs: 100, maxDelayMs: 1_000 };

describe('backoffDelay', () => {
  it('stays below initialDelayMs on the first attempt', () => {
    expect(backoffDelay(0, options, () => 0)).toBe(0);
    expect(backoffDelay(0, options, () => 0.999_999)).toBe(99);
  });

  it('doubles the ceiling with each attempt', () => {
    const top = () => 0.999_999;
    expect([0, 1, 2, 3].map((attempt) => backoffDelay(attempt, options, top))).toEqual([
      99, 199, 399, 799,
    ]);
  });

  it('never exceeds maxDelayMs, even for very large attempts', () => {
    const top = () => 0.999_999;
    expect(backoffDelay(4, options, top)).toBe(999);
    expect(backoffDelay(5_000, options, top)).toBe(999);
  });

  it('spreads delays over the whole window (full jitter)', () => {
    expect(backoffDelay(3, options, () => 0.5)).toBe(400);
    for (let index = 0; index < 1_000; index += 1) {
      const delay = backoffDelay(2, options);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(400);
    }
  });

  it('defaults to 250 ms growing to 10 s', () => {
    expect(DEFAULT_BACKOFF).toEqual({ initialDelayMs: 250, maxDelayMs: 10_000 });
  });
});
