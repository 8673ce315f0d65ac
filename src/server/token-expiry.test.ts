import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TokenExpiry } from './token-expiry.js';

const socket = (name: string) => ({ name, close: () => undefined });

describe('TokenExpiry', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('expires each socket at its second, with one timer, and forgets untracked ones', () => {
    const expired: string[] = [];
    const expiry = new TokenExpiry<ReturnType<typeof socket>>({
      onExpired: (item) => expired.push(item.name),
    });
    const [a, b, c] = [socket('a'), socket('b'), socket('c')];
    expiry.track(a, 1_003_000);
    expiry.track(b, 1_001_500);
    expiry.track(c, 1_003_000);
    expiry.untrack(c);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(1_999);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual(['b']);
    vi.advanceTimersByTime(1_000);
    expect(expired).toEqual(['b', 'a']);
    expect(expiry.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('moves a renewed socket to its new expiry', () => {
    const expired: string[] = [];
    const expiry = new TokenExpiry<ReturnType<typeof socket>>({
      onExpired: (item) => expired.push(item.name),
    });
    const a = socket('a');
    expiry.track(a, 1_002_000);
    expiry.track(a, 1_010_000);
    vi.advanceTimersByTime(5_000);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(5_000);
    expect(expired).toEqual(['a']);
  });
});
