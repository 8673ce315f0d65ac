import { Redis } from 'ioredis';
import { filter, firstValueFrom, take, toArray } from 'rxjs';
import { afterEach, expect, it } from 'vitest';
import { describeWithPrivateRedis, probeRedisServer } from '../../test/support/private-redis.js';
import { LeaseKeeper, type LeaseEvent } from './lease-keeper.js';
import { RedisLeases } from './redis-lease.js';

const serverProbe = await probeRedisServer();

describeWithPrivateRedis(serverProbe, 'LeaseKeeper', (servers) => {
  const connections: Redis[] = [];
  const keepers: LeaseKeeper[] = [];
  const connect = (url: string) => {
    const redis = new Redis(url);
    redis.on('error', () => undefined);
    connections.push(redis);
    return redis;
  };
  const keeper = (redis: Redis, instanceId: string, leaseMs: number) => {
    const created = new LeaseKeeper(new RedisLeases(redis, { instanceId, leaseMs }));
    keepers.push(created);
    return created;
  };
  const next = (events: LeaseKeeper, type: LeaseEvent['type']) =>
    firstValueFrom(events.events$.pipe(filter((event) => event.type === type)));

  afterEach(async () => {
    await Promise.allSettled(keepers.splice(0).map((created) => created.close()));
    for (const redis of connections.splice(0)) redis.disconnect();
  });

  it('keeps a lease past its lease time by renewing it', async () => {
    const { url } = await servers.start();
    const redis = connect(url);
    const holder = keeper(redis, 'one', 600);
    const renewals = firstValueFrom(
      holder.events$.pipe(
        filter((event) => event.type === 'renewed'),
        take(5),
        toArray(),
      ),
    );
    await holder.acquire('demo');

    // Five renewals at a third of the lease each span more than one lease time.
    expect(await renewals).toHaveLength(5);
    expect(await redis.get('parley:lease:{demo}')).toBe('1:one');
    expect(holder.lease('demo')?.epoch).toBe(1);
    expect(await keeper(connect(url), 'two', 600).acquire('demo')).toMatchObject({
      acquired: false,
      current: { holder: 'one' },
    });
  });

  it('reports a lost lease as soon as a renewal is refused', async () => {
    const { url } = await servers.start();
    const redis = connect(url);
    const holder = keeper(redis, 'one', 300);
    await holder.acquire('demo');
    const lost = next(holder, 'lost');

    await redis.set('parley:lease:{demo}', '9:someone-else', 'PX', 10_000);

    expect(await lost).toMatchObject({ reason: 'refused', lease: { epoch: 1 } });
    expect(holder.lease('demo')).toBeUndefined();
    expect(holder.conversations()).toEqual([]);
  });

  it('loses its lease while Redis is paused, and another instance takes it with a higher epoch', async () => {
    const { url } = await servers.start();
    const holder = keeper(connect(url), 'one', 300);
    const other = keeper(connect(url), 'two', 300);
    const acquired = await holder.acquire('demo');
    if (!acquired.acquired) throw new Error('expected the lease to be free');
    const order: string[] = [];
    const lost = next(holder, 'lost').then((event) => {
      order.push('lost');
      return event;
    });

    // A real fault: the server answers nobody (but the admin's own PAUSE) for 1.2 s.
    await connect(url).call('CLIENT', 'PAUSE', '1200', 'ALL');
    const takeover = other.acquire('demo').then((result) => {
      order.push('taken over');
      return result;
    });

    expect(await lost).toMatchObject({ type: 'lost', reason: 'expired', lease: { epoch: 1 } });
    expect(await takeover).toMatchObject({
      acquired: true,
      lease: { holder: 'two', epoch: 2 },
    });
    expect(order).toEqual(['lost', 'taken over']);
    expect(holder.lease('demo')).toBeUndefined();
    expect(await new RedisLeases(connect(url), { instanceId: 'one' }).renew(acquired.lease)).toBe(
      false,
    );
  });

  it('gives two acquisitions at once the same lease', async () => {
    const { url } = await servers.start();
    const holder = keeper(connect(url), 'one', 60_000);

    const [first, second] = await Promise.all([holder.acquire('demo'), holder.acquire('demo')]);

    expect(first).toMatchObject({ acquired: true, lease: { epoch: 1 } });
    expect(second).toEqual(first);
  });

  it('releases on close so that another instance takes over at once', async () => {
    const { url } = await servers.start();
    const holder = keeper(connect(url), 'one', 60_000);
    await holder.acquire('a');
    await holder.acquire('b');
    await holder.close();

    const other = keeper(connect(url), 'two', 60_000);
    expect(await other.acquire('a')).toMatchObject({ acquired: true, lease: { epoch: 2 } });
    expect(await other.acquire('b')).toMatchObject({ acquired: true, lease: { epoch: 2 } });
  });

  it('loads its scripts again into a Redis that forgot them', async () => {
    const { url } = await servers.start();
    const redis = connect(url);
    const leases = new RedisLeases(redis, { instanceId: 'one' });
    await leases.acquire('a');
    await redis.script('FLUSH');

    expect(await leases.acquire('b')).toMatchObject({ acquired: true });
  });
});
