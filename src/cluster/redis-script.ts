/**
 * A Lua script run by its SHA1 (`EVALSHA`), loaded with `EVAL` the first time a server does not
 * know it (`NOSCRIPT`: a new or restarted Redis). Scripts make the lease's check-and-set steps
 * atomic.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * One Lua script with a fixed number of keys.
 *
 * @example
 * const renew = new RedisScript(`return redis.call('PEXPIRE', KEYS[1], ARGV[1])`, 1);
 * await renew.run(redis, ['parley:lease:{demo}'], [10_000]);
 */
export class RedisScript {
  readonly #lua: string;
  readonly #sha: string;
  readonly #keys: number;

  constructor(lua: string, numberOfKeys: number) {
    this.#lua = lua;
    this.#sha = createHash('sha1').update(lua).digest('hex');
    this.#keys = numberOfKeys;
  }

  /** Runs the script; its reply is returned as Redis sent it (legacy reply shapes). */
  async run(
    redis: Redis,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> {
    if (keys.length !== this.#keys) {
      throw new RangeError(`This script takes ${this.#keys} keys, got ${keys.length}.`);
    }
    try {
      return await redis.evalsha(this.#sha, this.#keys, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return redis.eval(this.#lua, this.#keys, ...keys, ...args);
    }
  }
}
