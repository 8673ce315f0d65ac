/**
 * Keeps this instance's leases alive and says at once when one is lost. Each held lease is renewed
 * every third of its lease time (compare-and-renew); a lease counts as valid until its last
 * successful renewal was *sent* plus the lease time, less a margin for clock drift, so the holder
 * stops before Redis lets anyone else in. A lease is lost when a renewal is refused (someone else
 * holds it) or when that validity runs out without a successful renewal (Redis paused, slow or
 * unreachable): a timer fires at the deadline whatever the pending command does.
 */
import { Subject, type Observable } from 'rxjs';
import { clusterUnavailable } from './cluster-error.js';
import type { AcquireResult, Lease, RedisLeases } from './redis-lease.js';

/** What happened to a held lease. */
export type LeaseEvent =
  | { type: 'acquired'; lease: Lease }
  | { type: 'renewed'; lease: Lease }
  | { type: 'released'; lease: Lease }
  /** `refused`: someone else holds it now; `expired`: no renewal succeeded in time. */
  | { type: 'lost'; lease: Lease; reason: 'refused' | 'expired' };

/** Options for {@link LeaseKeeper}. */
export interface LeaseKeeperOptions {
  /** Renew every `leaseMs × renewFraction`. @default 1/3 */
  renewFraction?: number;
  /** Taken off each lease's validity for clock drift with Redis. @default leaseMs / 100 + 2 */
  driftMs?: number;
  /** Told about renewals that failed without losing the lease yet (Redis errors). */
  onError?: (error: Error) => void;
  /** A monotonic clock in ms. @default performance.now */
  now?: () => number;
}

interface Held {
  lease: Lease;
  /** The lease is valid before this time (on `now`). */
  validUntil: number;
  renewing: boolean;
  renewTimer: NodeJS.Timeout;
  expiryTimer: NodeJS.Timeout | undefined;
}

/**
 * Holds leases and renews them until they are released or lost.
 *
 * @example
 * const keeper = new LeaseKeeper(new RedisLeases(redis, { instanceId: 'parley-1' }));
 * keeper.events$.subscribe((event) => { if (event.type === 'lost') stopWriting(event.lease); });
 * const result = await keeper.acquire('demo');
 */
export class LeaseKeeper {
  readonly #leases: RedisLeases;
  readonly #renewEveryMs: number;
  readonly #driftMs: number;
  readonly #now: () => number;
  readonly #onError: (error: Error) => void;
  readonly #held = new Map<string, Held>();
  readonly #events = new Subject<LeaseEvent>();
  /** Every acquisition, renewal, release and loss, as it happens. */
  readonly events$: Observable<LeaseEvent> = this.#events.asObservable();

  constructor(leases: RedisLeases, options: LeaseKeeperOptions = {}) {
    const fraction = options.renewFraction ?? 1 / 3;
    if (!(fraction > 0 && fraction < 1)) {
      throw new RangeError(`renewFraction must be between 0 and 1 (exclusive), got ${fraction}.`);
    }
    this.#leases = leases;
    this.#renewEveryMs = Math.max(1, Math.floor(leases.leaseMs * fraction));
    this.#driftMs = options.driftMs ?? Math.floor(leases.leaseMs / 100) + 2;
    if (!(this.#driftMs >= 0 && this.#driftMs < leases.leaseMs)) {
      throw new RangeError(`driftMs must be at least 0 and below leaseMs, got ${this.#driftMs}.`);
    }
    this.#now = options.now ?? (() => performance.now());
    this.#onError = options.onError ?? (() => undefined);
  }

  /** Acquires the conversation's lease (see {@link RedisLeases.acquire}) and keeps it. */
  async acquire(
    conversationId: string,
    options: { minEpoch?: number } = {},
  ): Promise<AcquireResult> {
    const held = this.#held.get(conversationId);
    if (held !== undefined) return { acquired: true, lease: held.lease };
    const sentAt = this.#now();
    const result = await this.#leases.acquire(conversationId, options);
    // Two acquisitions at once: the second finds the first's lease in Redis, which is ours.
    const heldMeanwhile = this.#held.get(conversationId);
    if (heldMeanwhile !== undefined) return { acquired: true, lease: heldMeanwhile.lease };
    if (result.acquired) this.#hold(result.lease, sentAt);
    return result;
  }

  /** The lease held for a conversation while it is valid. */
  lease(conversationId: string): Lease | undefined {
    const held = this.#held.get(conversationId);
    return held !== undefined && this.#now() < held.validUntil ? held.lease : undefined;
  }

  /** Conversations whose lease this instance holds. */
  conversations(): string[] {
    return [...this.#held.keys()];
  }

  /**
   * Stops renewing and deletes the lease in Redis, so that another instance can take over at
   * once. Rejects with `cluster_unavailable` when Redis cannot be told; the lease then expires.
   */
  async release(conversationId: string): Promise<void> {
    const held = this.#held.get(conversationId);
    if (held === undefined) return;
    this.#forget(held);
    this.#events.next({ type: 'released', lease: held.lease });
    await this.#leases.release(held.lease);
  }

  /** Releases every held lease (a draining shutdown), then completes `events$`. */
  async close(): Promise<void> {
    const results = await Promise.allSettled(
      this.conversations().map((conversationId) => this.release(conversationId)),
    );
    this.#events.complete();
    const failed = results.find((result) => result.status === 'rejected');
    if (failed !== undefined) throw clusterUnavailable('Releasing leases failed', failed.reason);
  }

  #hold(lease: Lease, sentAt: number): void {
    const held: Held = {
      lease,
      validUntil: sentAt + this.#leases.leaseMs - this.#driftMs,
      renewing: false,
      renewTimer: setInterval(() => {
        this.#renew(held);
      }, this.#renewEveryMs).unref(),
      expiryTimer: undefined,
    };
    this.#held.set(lease.conversationId, held);
    this.#armExpiry(held);
    this.#events.next({ type: 'acquired', lease });
  }

  #renew(held: Held): void {
    // A renewal still waiting (Redis paused or slow) is not doubled; the expiry timer decides.
    if (held.renewing) return;
    held.renewing = true;
    const sentAt = this.#now();
    this.#leases.renew(held.lease).then(
      (renewed) => {
        held.renewing = false;
        if (this.#held.get(held.lease.conversationId) !== held) return;
        if (!renewed) {
          this.#lose(held, 'refused');
          return;
        }
        held.validUntil = Math.max(held.validUntil, sentAt + this.#leases.leaseMs - this.#driftMs);
        this.#events.next({ type: 'renewed', lease: held.lease });
      },
      (error: unknown) => {
        held.renewing = false;
        this.#onError(
          clusterUnavailable(`Renewing the lease of ${held.lease.conversationId} failed`, error),
        );
      },
    );
  }

  /** Fires at the lease's deadline; a renewal that moved the deadline re-arms it. */
  #armExpiry(held: Held): void {
    clearTimeout(held.expiryTimer);
    held.expiryTimer = setTimeout(
      () => {
        if (this.#held.get(held.lease.conversationId) !== held) return;
        if (this.#now() >= held.validUntil) this.#lose(held, 'expired');
        else this.#armExpiry(held);
      },
      Math.max(0, held.validUntil - this.#now()),
    ).unref();
  }

  #lose(held: Held, reason: 'refused' | 'expired'): void {
    this.#forget(held);
    this.#events.next({ type: 'lost', lease: held.lease, reason });
  }

  #forget(held: Held): void {
    clearInterval(held.renewTimer);
    clearTimeout(held.expiryTimer);
    this.#held.delete(held.lease.conversationId);
  }
}
