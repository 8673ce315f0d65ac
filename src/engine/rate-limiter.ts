/**
 * A token-bucket rate limiter keyed by user id, with bounded memory and an injected clock.
 */
import { ParleyError } from '../errors.js';

/** How many messages a key may send, over what window, and how many keys to remember. */
export interface RateLimiterOptions {
  /**
   * Bucket capacity: the burst a key may send at once, and the number of messages it regains
   * over each window.
   *
   * @default 20
   */
  messages?: number;
  /**
   * Time, in milliseconds, for an empty bucket to refill completely.
   *
   * @default 10_000
   */
  windowMs?: number;
  /** The clock, in milliseconds; injected so tests and simulations control time. */
  now: () => number;
  /**
   * Most buckets held at once. At the limit, full buckets go first (a full bucket behaves exactly
   * like a missing one), then the least recently used.
   *
   * @default 100_000
   */
  maxKeys?: number;
}

/** The outcome of {@link RateLimiter.take}. */
export type RateLimitDecision = { allowed: true } | { allowed: false; retryAfterMs: number };

// Credit is kept in integer units, one message costing `windowMs` units and the bucket gaining
// `messages` units a millisecond, so retry times come out exact instead of off by a float's ulp.
interface Bucket {
  credit: number;
  updatedAt: number;
}

/**
 * Token-bucket rate limiter: each key holds up to `messages` tokens, refilled continuously at
 * `messages / windowMs`, and every accepted message takes one.
 *
 * @example
 * const limiter = new RateLimiter({ messages: 20, windowMs: 10_000, now: Date.now });
 * const decision = limiter.take(userId);
 * if (!decision.allowed) reportRateLimited(decision.retryAfterMs);
 */
export class RateLimiter {
  readonly #messages: number;
  readonly #windowMs: number;
  readonly #capacity: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  // Map order is recency order: a used bucket is deleted and set again, so the first is the LRU.
  readonly #buckets = new Map<string, Bucket>();
  // No bucket can be full before this moment, so sweeping earlier would find nothing. Takes only
  // lower it; a sweep sets it exactly.
  #nextSweepAt = Number.NEGATIVE_INFINITY;

  constructor(options: RateLimiterOptions) {
    this.#messages = options.messages ?? 20;
    this.#windowMs = options.windowMs ?? 10_000;
    this.#maxKeys = options.maxKeys ?? 100_000;
    this.#now = options.now;
    requirePositiveInteger('messages', this.#messages);
    requirePositiveInteger('maxKeys', this.#maxKeys);
    if (!(this.#windowMs > 0 && Number.isFinite(this.#windowMs))) {
      throw new ParleyError('internal_error', `windowMs must be a positive number of milliseconds`);
    }
    this.#capacity = this.#messages * this.#windowMs;
  }

  /** Number of buckets currently held. */
  get size(): number {
    return this.#buckets.size;
  }

  /**
   * Takes one token from `key`'s bucket, or says how long until one is back.
   *
   * @example
   * const decision = limiter.take('alice');
   * if (!decision.allowed) console.log(`retry in ${decision.retryAfterMs} ms`);
   */
  take(key: string): RateLimitDecision {
    const now = this.#now();
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      if (this.#buckets.size >= this.#maxKeys) this.#makeRoom(now);
      bucket = { credit: this.#capacity, updatedAt: now };
    } else {
      // A clock that steps backwards must not drain the bucket.
      const elapsed = Math.max(0, now - bucket.updatedAt);
      bucket.credit = Math.min(this.#capacity, bucket.credit + elapsed * this.#messages);
      bucket.updatedAt = now;
      this.#buckets.delete(key);
    }
    this.#buckets.set(key, bucket);

    if (bucket.credit < this.#windowMs) {
      const missing = this.#windowMs - bucket.credit;
      return { allowed: false, retryAfterMs: Math.ceil(missing / this.#messages) };
    }
    bucket.credit -= this.#windowMs;
    this.#nextSweepAt = Math.min(this.#nextSweepAt, this.#fullAt(bucket));
    return { allowed: true };
  }

  #fullAt(bucket: Bucket): number {
    return bucket.updatedAt + Math.ceil((this.#capacity - bucket.credit) / this.#messages);
  }

  #makeRoom(now: number): void {
    if (now >= this.#nextSweepAt) {
      let earliestFullAt = Number.POSITIVE_INFINITY;
      // Deleting the entry being visited is safe while iterating a Map.
      for (const [key, bucket] of this.#buckets) {
        const fullAt = this.#fullAt(bucket);
        if (fullAt <= now) this.#buckets.delete(key);
        else earliestFullAt = Math.min(earliestFullAt, fullAt);
      }
      this.#nextSweepAt = earliestFullAt;
    }
    // Every bucket is still draining: forgetting the least recently used one gives that key a
    // fresh burst, the price of bounded memory.
    if (this.#buckets.size >= this.#maxKeys) {
      const leastRecentlyUsed = this.#buckets.keys().next();
      if (leastRecentlyUsed.done !== true) this.#buckets.delete(leastRecentlyUsed.value);
    }
  }
}

function requirePositiveInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new ParleyError('internal_error', `${name} must be a positive integer`);
  }
}
