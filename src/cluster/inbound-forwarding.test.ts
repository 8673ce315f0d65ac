import { Redis } from 'ioredis';
import { firstValueFrom, take, toArray, type Observable } from 'rxjs';
import { afterEach, expect, it } from 'vitest';
import { describeWithRedis, probeRedis } from '../../test/support/services.js';
import { describeWithPrivateRedis, probeRedisServer } from '../../test/support/private-redis.js';
import { ParleyError } from '../errors.js';
import { clusterKeys, type ClusterKeys } from './cluster-keys.js';
import { InboundSender } from './inbound-sender.js';
import { InboxReader, type InboxDelivery } from './inbox-reader.js';

const [redisProbe, serverProbe] = await Promise.all([probeRedis(), probeRedisServer()]);

const message = (content: string) => ({
  conversation_id: 'demo',
  connection_id: 'conn_7',
  input: { type: 'user_message', content },
});
const collect = (records: Observable<InboxDelivery>, count: number) =>
  firstValueFrom(records.pipe(take(count), toArray()));
const contents = (deliveries: InboxDelivery[]) =>
  deliveries.map((delivery) => delivery.record.input.content);

describeWithRedis(redisProbe, 'InboundSender and InboxReader', (service) => {
  let counter = 0;
  const setUp = () => {
    const redis = service.connect();
    const keys = clusterKeys(service.freshPrefix());
    const sender = new InboundSender(redis, {
      instanceId: 'two',
      keys,
      nextId: () => `two:${++counter}`,
      now: () => 1_700_000_000_000,
    });
    const reader = new InboxReader(redis, { instanceId: 'one', keys });
    return { redis, keys, sender, reader };
  };

  it('delivers forwarded inputs to the owner in order, as records with ids', async () => {
    const { sender, reader } = setUp();
    // Forwarded before the owner reads: the group starts at the stream's beginning.
    const first = await sender.forward('one', message('first'));
    await sender.forward('one', message('second'));

    const received = collect(reader.records(), 3);
    await sender.forward('one', message('third'));

    const deliveries = await received;
    expect(contents(deliveries)).toEqual(['first', 'second', 'third']);
    expect(deliveries[0]?.record).toEqual({
      id: first.id,
      from: 'two',
      conversation_id: 'demo',
      connection_id: 'conn_7',
      input: { type: 'user_message', content: 'first' },
      sent_at: 1_700_000_000_000,
    });
  });

  it('drops a resent record with an id it delivered', async () => {
    const { redis, keys, sender, reader } = setUp();
    const record = await sender.forward('one', message('once'));
    // A resend after a lost reply: the same record lands twice.
    await redis.xadd(keys.inbox('one'), '*', 'r', JSON.stringify(record));
    await sender.forward('one', message('after'));

    expect(contents(await collect(reader.records(), 2))).toEqual(['once', 'after']);
  });

  it('delivers unacknowledged records again after a restart, and acknowledged ones never', async () => {
    const { redis, keys, sender, reader } = setUp();
    for (const content of ['a', 'b', 'c']) await sender.forward('one', message(content));
    const firstRun = await collect(reader.records(), 3);
    await firstRun[0]?.ack();
    await firstRun[2]?.ack();

    // The first run stopped with `b` unacknowledged; the next one gets it before new records.
    const secondRun = collect(reader.records(), 2);
    await sender.forward('one', message('d'));
    const again = await secondRun;
    expect(contents(again)).toEqual(['b', 'd']);
    await Promise.all(again.map((delivery) => delivery.ack()));
    const pending = (await redis.xpending(keys.inbox('one'), 'parley')) as [number, ...unknown[]];
    expect(pending[0]).toBe(0);
  });

  it('skips entries that are not records, and says so', async () => {
    const redis = service.connect();
    const keys = clusterKeys(service.freshPrefix());
    const errors: Error[] = [];
    const reader = new InboxReader(redis, {
      instanceId: 'one',
      keys,
      onError: (error) => errors.push(error),
    });
    await redis.xadd(keys.inbox('one'), '*', 'r', '{"not":"a record"}');
    await new InboundSender(redis, { instanceId: 'two', keys }).forward('one', message('real'));

    expect(contents(await collect(reader.records(), 1))).toEqual(['real']);
    expect(errors.map((error) => error.message)).toEqual([
      expect.stringMatching(
        /^Entry \d+-\d+ of .*inbox:\{one\} is not an inbound record; skipped\.$/,
      ),
    ]);
  });
});

describeWithPrivateRedis(serverProbe, 'InboundSender with a paused or missing Redis', (servers) => {
  const connections: Redis[] = [];
  const connect = (url: string, options: { retries?: number } = {}) => {
    const redis = new Redis(url, {
      ...(options.retries === undefined ? {} : { maxRetriesPerRequest: options.retries }),
    });
    redis.on('error', () => undefined);
    connections.push(redis);
    return redis;
  };

  afterEach(() => {
    for (const redis of connections.splice(0)) redis.disconnect();
  });

  it('resends through a pause, and the owner gets the input once although it landed twice', async () => {
    const { url } = await servers.start();
    const keys: ClusterKeys = clusterKeys('parley:');
    const redis = connect(url);
    const sender = new InboundSender(redis, {
      instanceId: 'two',
      keys,
      attemptTimeoutMs: 200,
      retryDelaysMs: [600],
    });
    // A real fault: nobody is answered for 500 ms, so the first attempt times out and is resent.
    await connect(url).call('CLIENT', 'PAUSE', '500', 'ALL');
    await sender.forward('one', message('during the pause'));
    await sender.forward('one', message('after it'));

    expect(await redis.xlen(keys.inbox('one'))).toBe(3);
    const reader = new InboxReader(redis, { instanceId: 'one', keys });
    expect(contents(await collect(reader.records(), 2))).toEqual(['during the pause', 'after it']);
  });

  it('rejects with cluster_unavailable once every attempt failed', async () => {
    const { url, process } = await servers.start();
    const redis = connect(url, { retries: 0 });
    await redis.ping();
    process.kill('SIGKILL');
    const sender = new InboundSender(redis, {
      instanceId: 'two',
      attemptTimeoutMs: 200,
      retryDelaysMs: [10, 10],
    });

    const error: unknown = await sender
      .forward('one', message('lost'))
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ParleyError);
    expect(error).toMatchObject({ code: 'cluster_unavailable' });
    expect((error as Error).message).toMatch(
      /^Forwarding user_message of demo to one failed after 3 attempts: /,
    );
  });
});
