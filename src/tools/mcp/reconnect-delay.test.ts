import { describe, expect, it } from 'vitest';
import { DEFAULT_RECONNECT_BACKOFF, reconnectDelay } from './reconnect-delay.js';

describe('reconnectDelay', () => {
  it('doubles from 500 ms after each failure, up to 30 s', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8].map((failures) =>
      reconnectDelay(failures, DEFAULT_RECONNECT_BACKOFF, () => 1),
    );
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  });

  it('takes a random part of the second half off, never more', () => {
    expect(reconnectDelay(3, DEFAULT_RECONNECT_BACKOFF, () => 0)).toBe(1000);
    expect(reconnectDelay(3, DEFAULT_RECONNECT_BACKOFF, () => 0.5)).toBe(1500);
  });

  it('treats zero failures like the first', () => {
    expect(reconnectDelay(0, { initialMs: 100, maxMs: 1000, factor: 3 }, () => 1)).toBe(100);
  });
});
