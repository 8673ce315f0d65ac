import type { Redis } from 'ioredis';
import { expect, it } from 'vitest';
import { describeWithRedis, probeRedis } from '../../test/support/services.js';
import { ParleyError } from '../errors.js';
import { clusterKeys } from './cluster-keys.js';
import { RedisLeases } from './redis-lease.js';

const redisProbe = await probeRedis();

describeWithRedis(redisProbe, 'RedisLeases', (service) => {
  /** Two instances sharing one fresh key prefix. */
  const twoInstances = (redis: Redis = service.connect()) => {
    const keys = clusterKeys(service.freshPrefix());
    return {
      keys,
      redis,
      first: new RedisLeases(redis, { instanceId: 'one', leaseMs: 5_000, keys }),
      second: new RedisLeases(redis, { instanceId: 'two', leaseMs: 5_000, keys }),
    };
  };

  it('gives a free lease with the next epoch and tells others who holds it', async () => {
    const { first, second, redis, keys } = twoInstances();

    const taken = await first.acquire('demo');
    const refused = await second.acquire('demo');

    expect(taken).toEqual({
      acquired: true,
      lease: { conversationId: 'demo', holder: 'one', epoch: 1, token: '1:one' },
    });
    expect(refused).toMatchObject({ acquired: false, current: { holder: 'one', epoch: 1 } });
    if (refused.acquired) throw new Error('unreachable');
    expect(refused.current.remainingMs).toBeGreaterThan(0);
    expect(refused.current.remainingMs).toBeLessThanOrEqual(5_000);
    expect(await redis.get(keys.lease('demo'))).toBe('1:one');
    expect(await redis.pttl(keys.lease('demo'))).toBeGreaterThan(0);
    expect(await first.holder('demo')).toMatchObject({ holder: 'one', epoch: 1 });
    expect(await first.holder('other')).toBeUndefined();
  });

  it('hands out growing epochs across releases and holders', async () => {
    const { first, second } = twoInstances();
    const epochs: number[] = [];
    for (const leases of [first, second, first, second]) {
      const result = await leases.acquire('demo');
      if (!result.acquired) throw new Error('expected the lease to be free');
      epochs.push(result.lease.epoch);
      expect(await leases.release(result.lease)).toBe(true);
    }

    expect(epochs).toEqual([1, 2, 3, 4]);
  });

  it('renews and releases only the exact lease it holds, never a newer one', async () => {
    const { first, second, redis, keys } = twoInstances();
    const old = await first.acquire('demo');
    if (!old.acquired) throw new Error('expected the lease to be free');
    expect(await first.renew(old.lease)).toBe(true);

    // The key is gone as after an expiry, and the other instance takes it.
    await redis.del(keys.lease('demo'));
    const taken = await second.acquire('demo');
    if (!taken.acquired) throw new Error('expected the lease to be free');

    expect(await first.renew(old.lease)).toBe(false);
    expect(await first.release(old.lease)).toBe(false);
    expect(await redis.get(keys.lease('demo'))).toBe('2:two');
    expect(taken.lease.epoch).toBe(2);
  });

  it('starts from minEpoch when the counter is behind the event log', async () => {
    const { first, redis, keys } = twoInstances();
    // Redis restarted without persistence: the counter is gone, PostgreSQL holds epoch 7.
    const result = await first.acquire('demo', { minEpoch: 8 });

    expect(result).toMatchObject({ acquired: true, lease: { epoch: 8, token: '8:one' } });
    expect(await redis.get(keys.epoch('demo'))).toBe('8');
  });

  it('rejects with cluster_unavailable when Redis cannot be reached, naming no URL', async () => {
    const { Redis } = await import('ioredis');
    const unreachable = new Redis('redis://:sesame-secret@127.0.0.1:1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    unreachable.on('error', () => undefined);
    const leases = new RedisLeases(unreachable, { instanceId: 'one' });

    const error: unknown = await leases.acquire('demo').catch((caught: unknown) => caught);
    unreachable.disconnect();

    expect(error).toBeInstanceOf(ParleyError);
    expect(error).toMatchObject({ code: 'cluster_unavailable' });
    expect((error as Error).message).toMatch(/^Acquiring the lease of demo failed: /);
    expect((error as Error).cause).toBeInstanceOf(Error);
    expect(String(error) + JSON.stringify(error)).not.toContain('sesame');
  });

  it('refuses instance ids that cannot go into a lease value or key', () => {
    const redis = service.connect();
    expect(() => new RedisLeases(redis, { instanceId: 'has space' })).toThrow(TypeError);
    expect(() => new RedisLeases(redis, { instanceId: 'one', leaseMs: 1.5 })).toThrow(RangeError);
  });
});
