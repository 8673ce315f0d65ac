import { describe, expect, it } from 'vitest';
import { ParleyError } from '../errors.js';
import { RateLimiter, type RateLimiterOptions } from './rate-limiter.js';

function createLimiter(options: Omit<RateLimiterOptions, 'now'> = {}) {
  const clock = { time: 0 };
  const limiter = new RateLimiter({ ...options, now: () => clock.time });
  return { limiter, clock };
}

function takeMany(limiter: RateLimiter, key: string, count: number): boolean[] {
  return Array.from({ length: count }, () => limiter.take(key).allowed);
}

describe('RateLimiter', () => {
  it('allows a burst up to the capacity', () => {
    const { limiter } = createLimiter({ messages: 3, windowMs: 1000 });
    expect(takeMany(limiter, 'alice', 3)).toEqual([true, true, true]);
  });

  it('refuses the next message with the exact time until a token is back', () => {
    const { limiter } = createLimiter({ messages: 3, windowMs: 1000 });
    takeMany(limiter, 'alice', 3);
    expect(limiter.take('alice')).toEqual({ allowed: false, retryAfterMs: 334 });
  });

  it('uses 20 messages per 10 seconds by default', () => {
    const { limiter } = createLimiter();
    expect(takeMany(limiter, 'alice', 20).every(Boolean)).toBe(true);
    expect(limiter.take('alice')).toEqual({ allowed: false, retryAfterMs: 500 });
  });

  it('allows again exactly when retryAfterMs has passed', () => {
    const { limiter, clock } = createLimiter({ messages: 3, windowMs: 1000 });
    takeMany(limiter, 'alice', 3);
    clock.time = 333;
    expect(limiter.take('alice')).toEqual({ allowed: false, retryAfterMs: 1 });
    clock.time = 334;
    expect(limiter.take('alice')).toEqual({ allowed: true });
    expect(limiter.take('alice')).toEqual({ allowed: false, retryAfterMs: 333 });
  });

  it('refills continuously but never beyond the capacity', () => {
    const { limiter, clock } = createLimiter({ messages: 3, windowMs: 1000 });
    takeMany(limiter, 'alice', 3);
    clock.time = 500;
    expect(takeMany(limiter, 'alice', 2)).toEqual([true, false]);
    clock.time = 60_000;
    expect(takeMany(limiter, 'alice', 4)).toEqual([true, true, true, false]);
  });

  it('does not drain a bucket when the clock steps backwards', () => {
    const { limiter, clock } = createLimiter({ messages: 2, windowMs: 1000 });
    clock.time = 1000;
    limiter.take('alice');
    clock.time = 0;
    expect(limiter.take('alice')).toEqual({ allowed: true });
  });

  it('keeps keys independent', () => {
    const { limiter } = createLimiter({ messages: 2, windowMs: 1000 });
    expect(takeMany(limiter, 'alice', 3)).toEqual([true, true, false]);
    expect(takeMany(limiter, 'bob', 2)).toEqual([true, true]);
  });

  it('never holds more than maxKeys buckets', () => {
    const { limiter, clock } = createLimiter({ messages: 1, windowMs: 1000, maxKeys: 50 });
    for (let index = 0; index < 500; index++) {
      clock.time = index;
      limiter.take(`user-${index}`);
      expect(limiter.size).toBeLessThanOrEqual(50);
    }
    expect(limiter.size).toBe(50);
  });

  it('drops full buckets before the least recently used one', () => {
    const { limiter, clock } = createLimiter({ messages: 2, windowMs: 1000, maxKeys: 2 });
    takeMany(limiter, 'bob', 2);
    clock.time = 100;
    limiter.take('alice');
    clock.time = 700;
    // alice is full again (at 600) while bob, the least recently used, is still draining.
    limiter.take('carol');
    expect(limiter.size).toBe(2);
    expect(takeMany(limiter, 'bob', 2)).toEqual([true, false]);
  });

  it('drops the least recently used bucket when none is full', () => {
    const { limiter, clock } = createLimiter({ messages: 1, windowMs: 1000, maxKeys: 2 });
    limiter.take('alice');
    limiter.take('bob');
    clock.time = 10;
    limiter.take('alice');
    limiter.take('carol');
    expect(limiter.take('alice')).toEqual({ allowed: false, retryAfterMs: 990 });
    expect(limiter.take('bob')).toEqual({ allowed: true });
  });

  it('drops a bucket that filled up after an earlier sweep found nothing to drop', () => {
    const { limiter, clock } = createLimiter({ messages: 2, windowMs: 1000, maxKeys: 3 });
    takeMany(limiter, 'alice', 2);
    takeMany(limiter, 'bob', 2);
    takeMany(limiter, 'erin', 2);
    clock.time = 10;
    // Nothing is full yet, so alice goes; carol's single message leaves her full again at 510.
    limiter.take('carol');
    clock.time = 600;
    limiter.take('dave');
    expect(limiter.size).toBe(3);
    // bob, now the least recently used, kept his draining bucket because carol's full one went.
    expect(takeMany(limiter, 'bob', 2)).toEqual([true, false]);
  });

  it.each([
    [{ messages: 0 }, 'messages must be a positive integer'],
    [{ messages: 1.5 }, 'messages must be a positive integer'],
    [{ maxKeys: 0 }, 'maxKeys must be a positive integer'],
    [{ windowMs: 0 }, 'windowMs must be a positive number of milliseconds'],
  ])('refuses the options %j', (options, message) => {
    const create = () => new RateLimiter({ ...options, now: () => 0 });
    expect(create).toThrow(ParleyError);
    expect(create).toThrow(message);
  });
});
