/**
 * Ownership leases in Redis with fencing epochs. A conversation is written by the instance that
 * holds its lease: a key set with `SET NX PX` whose value names the holder and its epoch. Each
 * acquisition takes the next epoch of the conversation's counter in the same script, so epochs
 * only grow; the event log (PostgreSQL) refuses appends from any epoch but the newest.
 *
 * Renew and release compare the whole value (holder and epoch) before touching the key, so an
 * instance can never extend or delete a lease that expired and was taken by someone else, nor an
 * older lease of its own.
 */
import type { Redis } from 'ioredis';
import { clusterUnavailable } from './cluster-error.js';
import { clusterKeys, type ClusterKeys } from './cluster-keys.js';
import { RedisScript } from './redis-script.js';

/** A lease this instance holds. */
export interface Lease {
  readonly conversationId: string;
  readonly holder: string;
  /** The fencing token: give it to the event log's `fence`. */
  readonly epoch: number;
  /** The value at the lease key, `<epoch>:<holder>`, which renew and release compare. */
  readonly token: string;
}

/** Who holds a lease, as read from Redis. */
export interface LeaseHolder {
  holder: string;
  epoch: number;
  /** Milliseconds before the lease expires unless renewed. */
  remainingMs: number;
}

/** What {@link RedisLeases.acquire} found. */
export type AcquireResult =
  { acquired: true; lease: Lease } | { acquired: false; current: LeaseHolder };

/** Options for {@link RedisLeases}. */
export interface RedisLeasesOptions {
  /** This instance's id, stored in its leases so that others can route to it. */
  instanceId: string;
  /** How long a lease lives unless renewed (`PARLEY_LEASE_MS`). @default 10_000 */
  leaseMs?: number;
  /** Key names. @default clusterKeys('parley:') */
  keys?: ClusterKeys;
}

// KEYS: lease, epoch counter. ARGV: holder, lease ms, lowest acceptable epoch.
const ACQUIRE = new RedisScript(
  `
  local current = redis.call('GET', KEYS[1])
  if current then return {0, current, redis.call('PTTL', KEYS[1])} end
  local epoch = redis.call('INCR', KEYS[2])
  local floor = tonumber(ARGV[3])
  if epoch < floor then
    epoch = floor
    redis.call('SET', KEYS[2], epoch)
  end
  local token = string.format('%d', epoch) .. ':' .. ARGV[1]
  redis.call('SET', KEYS[1], token, 'NX', 'PX', ARGV[2])
  return {1, token, tonumber(ARGV[2])}
  `,
  2,
);

// KEYS: lease. ARGV: token, lease ms.
const RENEW = new RedisScript(
  `
  if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('PEXPIRE', KEYS[1], ARGV[2])
  end
  return 0
  `,
  1,
);

// KEYS: lease. ARGV: token.
const RELEASE = new RedisScript(
  `
  if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
  return 0
  `,
  1,
);

/** An instance id Parley accepts: it goes into lease values and key names. */
const INSTANCE_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

/**
 * Acquires, renews and releases conversation leases on one Redis connection. Redis errors reject
 * with `cluster_unavailable`.
 *
 * @example
 * const leases = new RedisLeases(redis, { instanceId: 'parley-1' });
 * const result = await leases.acquire('demo');
 * if (result.acquired) await store.fence('demo', result.lease.epoch);
 * else forwardTo(result.current.holder);
 */
export class RedisLeases {
  readonly instanceId: string;
  readonly leaseMs: number;
  readonly #redis: Redis;
  readonly #keys: ClusterKeys;

  constructor(redis: Redis, options: RedisLeasesOptions) {
    if (!INSTANCE_ID.test(options.instanceId)) {
      throw new TypeError(
        `instanceId must be 1-128 characters of A-Za-z0-9_.:-, got ${JSON.stringify(options.instanceId)}.`,
      );
    }
    const leaseMs = options.leaseMs ?? 10_000;
    if (!Number.isInteger(leaseMs) || leaseMs < 10) {
      throw new RangeError(`leaseMs must be an integer of at least 10, got ${leaseMs}.`);
    }
    this.#redis = redis;
    this.instanceId = options.instanceId;
    this.leaseMs = leaseMs;
    this.#keys = options.keys ?? clusterKeys();
  }

  /**
   * Takes the lease of a free conversation with the next epoch (at least `minEpoch`: pass the
   * event log's epoch + 1 after Redis lost its counters), or says who holds it.
   */
  async acquire(
    conversationId: string,
    options: { minEpoch?: number } = {},
  ): Promise<AcquireResult> {
    const reply = await this.#run(`Acquiring the lease of ${conversationId}`, () =>
      ACQUIRE.run(
        this.#redis,
        [this.#keys.lease(conversationId), this.#keys.epoch(conversationId)],
        [this.instanceId, this.leaseMs, options.minEpoch ?? 0],
      ),
    );
    const [acquired, token, remainingMs] = reply as [number, string, number];
    const { holder, epoch } = parseToken(token);
    if (acquired === 1) {
      return { acquired: true, lease: { conversationId, holder, epoch, token } };
    }
    return { acquired: false, current: { holder, epoch, remainingMs } };
  }

  /** Extends a held lease by `leaseMs`; false when it is no longer this lease (expired or taken). */
  async renew(lease: Lease): Promise<boolean> {
    const reply = await this.#run(`Renewing the lease of ${lease.conversationId}`, () =>
      RENEW.run(this.#redis, [this.#keys.lease(lease.conversationId)], [lease.token, this.leaseMs]),
    );
    return reply === 1;
  }

  /** Deletes a held lease so that another instance can take over at once; false when it was gone. */
  async release(lease: Lease): Promise<boolean> {
    const reply = await this.#run(`Releasing the lease of ${lease.conversationId}`, () =>
      RELEASE.run(this.#redis, [this.#keys.lease(lease.conversationId)], [lease.token]),
    );
    return reply === 1;
  }

  /** Who holds the conversation's lease now, or undefined when nobody does. */
  async holder(conversationId: string): Promise<LeaseHolder | undefined> {
    const key = this.#keys.lease(conversationId);
    const [token, remainingMs] = await this.#run(`Reading the lease of ${conversationId}`, () =>
      Promise.all([this.#redis.get(key), this.#redis.pttl(key)]),
    );
    if (token === null || remainingMs < 0) return undefined;
    return { ...parseToken(token), remainingMs };
  }

  async #run<TResult>(context: string, work: () => Promise<TResult>): Promise<TResult> {
    try {
      return await work();
    } catch (error) {
      throw clusterUnavailable(`${context} failed`, error);
    }
  }
}

function parseToken(token: string): { holder: string; epoch: number } {
  const colon = token.indexOf(':');
  return { epoch: Number(token.slice(0, colon)), holder: token.slice(colon + 1) };
}
