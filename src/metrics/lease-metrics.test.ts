import { Redis } from 'ioredis';
import { filter, firstValueFrom } from 'rxjs';
import { afterEach, expect, it } from 'vitest';
import { describeWithPrivateRedis, probeRedisServer } from '../../test/support/private-redis.js';
import { parseScrape } from '../../test/support/metrics.js';
import { LeaseKeeper } from '../cluster/lease-keeper.js';
import { RedisLeases } from '../cluster/redis-lease.js';
import { ParleyMetrics } from './parley-metrics.js';

const serverProbe = await probeRedisServer();

describeWithPrivateRedis(serverProbe, 'cluster lease metrics', (servers) => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const instance = (url: string, instanceId: string) => {
    const redis = new Redis(url);
    redis.on('error', () => undefined);
    const keeper = new LeaseKeeper(new RedisLeases(redis, { instanceId, leaseMs: 5_000 }));
    const metrics = new ParleyMetrics();
    const subscription = metrics.observeLeases(keeper.events$);
    cleanups.push(
      () => {
        redis.disconnect();
      },
      async () => {
        await keeper.close();
        subscription.unsubscribe();
      },
    );
    return { redis, keeper, read: async () => parseScrape(await metrics.registry.metrics()) };
  };

  it('counts leases held, acquisitions, takeovers and losses from a real lease keeper', async () => {
    const { url } = await servers.start();
    const one = instance(url, 'one');
    const two = instance(url, 'two');

    await one.keeper.acquire('first');
    await one.keeper.acquire('second');
    let scraped = await one.read();
    expect(scraped.value('parley_cluster_leases_held')).toBe(2);
    expect(scraped.value('parley_cluster_lease_acquisitions_total')).toBe(2);
    expect(scraped.value('parley_cluster_takeovers_total')).toBe(0);

    // Another instance takes `first` over after it was released: its epoch is 2.
    await one.keeper.release('first');
    await two.keeper.acquire('first');
    expect((await one.read()).value('parley_cluster_leases_held')).toBe(1);
    scraped = await two.read();
    expect(scraped.value('parley_cluster_takeovers_total')).toBe(1);
    expect(scraped.value('parley_cluster_leases_held')).toBe(1);

    // Someone else writes the lease key: the next renewal of `second` is refused.
    const lost = firstValueFrom(one.keeper.events$.pipe(filter((event) => event.type === 'lost')));
    await one.redis.set('parley:lease:{second}', '9:someone-else', 'PX', 10_000);
    await lost;
    scraped = await one.read();
    expect(scraped.value('parley_cluster_leases_lost_total', { reason: 'refused' })).toBe(1);
    expect(scraped.value('parley_cluster_leases_held')).toBe(0);
  });
});
