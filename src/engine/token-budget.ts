/**
 * Per-user token budgets (OWASP LLM10, unbounded consumption): the model tokens a user's turns
 * spent over a sliding window, counted from the providers' usage. Bounded memory: spending is
 * kept in buckets of a hundredth of the window, and users with nothing left in the window are
 * forgotten.
 */

/** Options of {@link TokenBudget}. */
export interface TokenBudgetOptions {
  /** Tokens (input + output) a user may spend per window. */
  limit: number;
  /** The sliding window, in milliseconds. */
  windowMs: number;
  /** The clock, in milliseconds. */
  now: () => number;
}

/** The outcome of {@link TokenBudget.check}. */
export type BudgetDecision = { allowed: true } | { allowed: false; retryAfterMs: number };

/** Buckets per window: spending leaves the window a hundredth of it at a time. */
const BUCKETS = 100;

/**
 * A sliding-window token budget per user.
 *
 * @example
 * const budget = new TokenBudget({ limit: 100_000, windowMs: 86_400_000, now: Date.now });
 * budget.spend('alice', 1_200);
 * budget.check('alice'); // { allowed: true }
 */
export class TokenBudget {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #bucketMs: number;
  readonly #now: () => number;
  /** Per user: [bucket start, tokens] pairs, oldest first. */
  readonly #spent = new Map<string, [number, number][]>();

  constructor({ limit, windowMs, now }: TokenBudgetOptions) {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new RangeError(`limit must be a whole number >= 1, got ${String(limit)}.`);
    }
    this.#limit = limit;
    this.#windowMs = windowMs;
    this.#bucketMs = Math.max(1, Math.ceil(windowMs / BUCKETS));
    this.#now = now;
  }

  /** Counts tokens a user's turn spent now. */
  spend(userId: string, tokens: number): void {
    if (!(tokens > 0)) return;
    const start = Math.floor(this.#now() / this.#bucketMs) * this.#bucketMs;
    const buckets = this.#current(userId) ?? [];
    const last = buckets.at(-1);
    if (last?.[0] === start) last[1] += tokens;
    else buckets.push([start, tokens]);
    this.#spent.set(userId, buckets);
  }

  /** Tokens the user spent within the window. */
  spentBy(userId: string): number {
    return (this.#current(userId) ?? []).reduce((sum, [, tokens]) => sum + tokens, 0);
  }

  /**
   * Whether the user may start a turn: allowed while under the limit; otherwise, how long until
   * enough of the spending leaves the window to bring the user under it.
   */
  check(userId: string): BudgetDecision {
    const buckets = this.#current(userId);
    if (buckets === undefined) return { allowed: true };
    let over = buckets.reduce((sum, [, tokens]) => sum + tokens, 0) - this.#limit;
    if (over < 0) return { allowed: true };
    for (const [start, tokens] of buckets) {
      over -= tokens;
      if (over < 0) {
        return {
          allowed: false,
          retryAfterMs: Math.max(1, start + this.#bucketMs + this.#windowMs - this.#now()),
        };
      }
    }
    return { allowed: false, retryAfterMs: this.#windowMs };
  }

  /** Whether the user's spending has reached the limit. */
  exceeded(userId: string): boolean {
    return !this.check(userId).allowed;
  }

  /** The user's buckets still in the window (forgetting the user when none is). */
  #current(userId: string): [number, number][] | undefined {
    const buckets = this.#spent.get(userId);
    if (buckets === undefined) return undefined;
    const oldest = this.#now() - this.#windowMs;
    let drop = 0;
    while (drop < buckets.length && (buckets[drop]?.[0] ?? 0) + this.#bucketMs <= oldest) drop += 1;
    if (drop > 0) buckets.splice(0, drop);
    if (buckets.length === 0) {
      this.#spent.delete(userId);
      return undefined;
    }
    return buckets;
  }
}
