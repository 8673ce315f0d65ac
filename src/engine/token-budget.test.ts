import { describe, expect, it } from 'vitest';
import { TokenBudget } from './token-budget.js';

describe('TokenBudget', () => {
  it('allows a user under the limit and refuses one at it, until the spending leaves the window', () => {
    let now = 1_000_000;
    const budget = new TokenBudget({ limit: 1_000, windowMs: 10_000, now: () => now });
    budget.spend('alice', 600);
    expect(budget.check('alice')).toEqual({ allowed: true });
    now += 5_000;
    budget.spend('alice', 400);
    const refused = budget.check('alice');
    expect(refused.allowed).toBe(false);
    // The first 600 leave the window 10 s after their bucket: alice is under the limit again.
    const wait = refused.allowed ? 0 : refused.retryAfterMs;
    expect(wait).toBeGreaterThan(4_000);
    expect(wait).toBeLessThanOrEqual(5_100);
    now += wait;
    expect(budget.check('alice')).toEqual({ allowed: true });
    expect(budget.spentBy('alice')).toBe(400);
    expect(budget.check('bob')).toEqual({ allowed: true });
  });

  it('forgets a user once nothing they spent is in the window', () => {
    let now = 0;
    const budget = new TokenBudget({ limit: 10, windowMs: 1_000, now: () => now });
    budget.spend('alice', 50);
    expect(budget.exceeded('alice')).toBe(true);
    now += 1_011;
    expect(budget.spentBy('alice')).toBe(0);
    expect(budget.exceeded('alice')).toBe(false);
  });

  it('refuses a limit below 1 with a RangeError', () => {
    expect(() => new TokenBudget({ limit: 0, windowMs: 1, now: () => 0 })).toThrow(RangeError);
  });
});
