import { Redis } from 'ioredis';
import { filter, firstValueFrom } from 'rxjs';
import { afterEach, expect, it } from 'vitest';
import { LeaseKeeper } from '../src/cluster/lease-keeper.js';
import { RedisLeases } from '../src/cluster/redis-lease.js';
import { frameEntry } from '../src/event-log/event-store.contract.js';
import type { FrameEntry } from '../src/event-log/log-entry.js';
import { PostgresEventStore } from '../src/event-log/postgres-store.js';
import { describeWithPostgres, probePostgres } from './support/services.js';
import { describeWithPrivateRedis, probeRedisServer } from './support/private-redis.js';

const [postgresProbe, serverProbe] = await Promise.all([probePostgres(), probeRedisServer()]);

/** A frame entry written by one instance, so the stored log shows who wrote each seq. */
const written = (by: string, seq: number): FrameEntry => {
  const entry = frameEntry('demo', seq, seq);
  entry.frame.delta = `by ${by}`;
  return entry;
};

describeWithPostgres(postgresProbe, 'cluster fencing', (postgres) => {
  describeWithPrivateRedis(serverProbe, 'a lease and the event log together', (servers) => {
    const closers: (() => Promise<unknown>)[] = [];

    afterEach(async () => {
      await Promise.allSettled(closers.splice(0).map((close) => close()));
    });

    /** One instance: its Redis connection, lease keeper and event store. */
    const instance = async (instanceId: string, redisUrl: string, schema: string) => {
      const redis = new Redis(redisUrl);
      redis.on('error', () => undefined);
      const keeper = new LeaseKeeper(new RedisLeases(redis, { instanceId, leaseMs: 300 }));
      const store = await PostgresEventStore.open(postgres.url, { schema, requireFence: true });
      closers.push(
        () => store.close(),
        async () => {
          await keeper.close().catch(() => undefined);
          redis.disconnect();
        },
      );
      return { redis, keeper, store };
    };

    it('refuses every write of an owner that was paused past its lease once another took over', async () => {
      const { url } = await servers.start();
      const schema = postgres.freshSchema();
      const one = await instance('one', url, schema);
      const two = await instance('two', url, schema);

      const first = await one.keeper.acquire('demo');
      if (!first.acquired) throw new Error('expected the lease to be free');
      await one.store.fence('demo', first.lease.epoch);
      await one.store.append([written('one', 1), written('one', 2)]);
      const lost = firstValueFrom(
        one.keeper.events$.pipe(filter((event) => event.type === 'lost')),
      );

      // The owner cannot reach Redis past its lease; the other instance waits, then takes over.
      const admin = new Redis(url);
      await admin.call('CLIENT', 'PAUSE', '1000', 'ALL');
      admin.disconnect();
      expect(await lost).toMatchObject({ reason: 'expired' });
      const second = await two.keeper.acquire('demo');
      if (!second.acquired) throw new Error('expected the lease to have expired');
      expect(second.lease.epoch).toBeGreaterThan(first.lease.epoch);
      await two.store.fence('demo', second.lease.epoch);
      expect(await two.store.lastPosition('demo')).toEqual({ position: 2, seq: 2 });
      await two.store.append([written('two', 3)]);

      // The old owner goes on as a process woken by SIGCONT would, unaware of its loss.
      await expect(one.store.append([written('one', 3)])).rejects.toMatchObject({
        code: 'cluster_fenced',
        details: { conversation_ids: ['demo'] },
      });
      await expect(one.store.append([written('one', 4)])).rejects.toMatchObject({
        code: 'cluster_fenced',
      });
      const stored = (await two.store.readEntries('demo')) as FrameEntry[];
      expect(stored.map((entry) => [entry.seq, entry.frame.delta])).toEqual([
        [1, 'by one'],
        [2, 'by one'],
        [3, 'by two'],
      ]);
    });
  });
});
