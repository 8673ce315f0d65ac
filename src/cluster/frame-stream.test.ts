import type { Redis } from 'ioredis';
import { firstValueFrom, take, toArray, type Observable } from 'rxjs';
import { afterEach, expect, it } from 'vitest';
import {
  describeWithPostgres,
  describeWithRedis,
  probePostgres,
  probeRedis,
} from '../../test/support/services.js';
import { frameEntry } from '../event-log/event-store.contract.js';
import type { FrameEntry } from '../event-log/log-entry.js';
import { PostgresEventStore } from '../event-log/postgres-store.js';
import { clusterKeys, type ClusterKeys } from './cluster-keys.js';
import { FrameFollower, type FrameFollowerOptions } from './frame-follower.js';
import { FramePublisher } from './frame-publisher.js';
import { decodeEntryFields, type ClusterFrame } from './frame-stream-entry.js';

const [postgresProbe, redisProbe] = await Promise.all([probePostgres(), probeRedis()]);

/** The frame an owner publishes for a logged entry: the same JSON text the log holds. */
const published = (entry: FrameEntry): ClusterFrame => ({
  seq: entry.seq,
  ...(entry.to === undefined ? {} : { to: entry.to }),
  text: JSON.stringify(entry.frame),
});
const events = (conversationId: string, from: number, to: number): FrameEntry[] =>
  Array.from({ length: to - from + 1 }, (_, index) =>
    frameEntry(conversationId, from + index, from + index),
  );
const collect = (frames: Observable<ClusterFrame>, count: number) =>
  firstValueFrom(frames.pipe(take(count), toArray()));

describeWithPostgres(postgresProbe, 'frame streams with their event log', (postgres) => {
  describeWithRedis(redisProbe, 'FramePublisher and FrameFollower', (redisService) => {
    const followers: FrameFollower[] = [];
    const stores: PostgresEventStore[] = [];
    let redis: Redis;
    let keys: ClusterKeys;

    const setUp = async (options: Partial<FrameFollowerOptions> = {}) => {
      redis = redisService.connect();
      keys = clusterKeys(redisService.freshPrefix());
      const schema = postgres.freshSchema();
      const store = await PostgresEventStore.open(postgres.url, { schema });
      stores.push(store);
      const follower = new FrameFollower(redis, { store, keys, ...options });
      followers.push(follower);
      return { store, follower, publisher: new FramePublisher(redis, { keys }), schema };
    };

    afterEach(async () => {
      await Promise.all(followers.splice(0).map((follower) => follower.close()));
      await Promise.all(stores.splice(0).map((store) => store.close()));
    });

    it('delivers events after a seq and direct frames in published order, live', async () => {
      const { follower, publisher, store } = await setUp();
      const logged = [
        ...events('demo', 1, 3),
        frameEntry('demo', 4, 3, { type: 'welcome', to: 'conn_2' }),
        frameEntry('demo', 5, 4),
      ];
      await store.append(logged);
      await publisher.publish('demo', logged.slice(0, 2).map(published));
      const received = collect(follower.follow('demo', 1), 4);
      await publisher.publish('demo', logged.slice(2).map(published));

      expect(await received).toEqual([
        { seq: 2, text: JSON.stringify(logged[1]?.frame) },
        { seq: 3, text: JSON.stringify(logged[2]?.frame) },
        { seq: 3, to: 'conn_2', text: JSON.stringify(logged[3]?.frame) },
        { seq: 4, text: JSON.stringify(logged[4]?.frame) },
      ]);
    });

    it('puts the frames published together in one entry numbered by its highest seq, strictly growing', async () => {
      const { publisher } = await setUp();
      await publisher.publish('demo', [
        { seq: 0, to: 'conn_1', text: '{}' },
        { seq: 1, text: '{}' },
        { seq: 1, to: 'conn_1', text: '{}' },
      ]);
      await publisher.publish('demo', [{ seq: 1, to: 'conn_1', text: '', ack: 'b:1' }]);
      // A new owner after a takeover goes on from the same seq.
      await new FramePublisher(redis, { keys }).publish('demo', [
        { seq: 1, to: 'conn_2', text: '{}' },
        { seq: 2, text: '{}' },
      ]);

      const entries = await redis.xrange(keys.frames('demo'), '-', '+');
      expect(entries.map(([id]) => id)).toEqual(['1-0', '1-1', '2-0']);
      expect(entries.map(([, fields]) => decodeEntryFields(fields).frames.length)).toEqual([
        3, 1, 2,
      ]);
      expect(await redis.pttl(keys.frames('demo'))).toBeGreaterThan(0);
    });

    it('numbers an entry by its highest seq when a direct frame says a seq its events have not reached', async () => {
      const { publisher } = await setUp();
      await publisher.publish('demo', [
        { seq: 3, to: 'conn_1', text: '', ack: 'b:1' },
        { seq: 2, text: '{}' },
      ]);
      await publisher.publish('demo', [{ seq: 3, text: '{}' }]);

      const entries = await redis.xrange(keys.frames('demo'), '-', '+');
      expect(entries.map(([id]) => id)).toEqual(['3-0', '3-1']);
    });

    it('publishes several conversations in one call, each in its own stream', async () => {
      const { publisher, follower } = await setUp();
      const a = collect(follower.follow('a', 0), 2);
      await publisher.publishAll(
        new Map([
          ['a', events('a', 1, 2).map(published)],
          ['b', events('b', 1, 3).map(published)],
        ]),
      );

      expect(await redis.xlen(keys.frames('a'))).toBe(1);
      expect(await redis.xlen(keys.frames('b'))).toBe(1);
      expect(await a).toEqual(events('a', 1, 2).map(published));
    });

    it('splits what exceeds maxFramesPerEntry into several entries', async () => {
      const { follower } = await setUp();
      const splitting = new FramePublisher(redis, { keys, maxFramesPerEntry: 4 });
      await splitting.publish('demo', events('demo', 1, 10).map(published));

      const entries = await redis.xrange(keys.frames('demo'), '-', '+');
      expect(entries.map(([id]) => id)).toEqual(['4-0', '8-0', '10-0']);
      const received = await collect(follower.follow('demo', 0), 10);
      expect(received.map((frame) => frame.seq)).toEqual(events('demo', 1, 10).map((e) => e.seq));
    });

    it('starts in the middle of an entry: later events and the direct frames of its seq, not earlier ones', async () => {
      const { follower, publisher, store } = await setUp();
      const logged = events('demo', 1, 4);
      await store.append(logged);
      await publisher.publish('demo', [
        { seq: 1, text: 'e1' },
        { seq: 1, to: 'conn_1', text: 'd1' },
        { seq: 2, text: 'e2' },
        { seq: 2, to: 'conn_2', text: 'd2' },
        { seq: 3, text: 'e3' },
        { seq: 3, to: 'conn_3', text: 'd3' },
      ]);
      const received = collect(follower.follow('demo', 2), 4);
      await publisher.publish('demo', [{ seq: 4, text: 'e4' }]);

      expect(await received).toEqual([
        { seq: 2, to: 'conn_2', text: 'd2' },
        { seq: 3, text: 'e3' },
        { seq: 3, to: 'conn_3', text: 'd3' },
        { seq: 4, text: 'e4' },
      ]);
    });

    it('repairs a gap in the middle of an entry and delivers each of its frames once', async () => {
      const { follower, publisher, store } = await setUp();
      const logged = events('demo', 1, 5);
      await store.append(logged);
      // Frames 3-4 were logged by an owner that died before publishing them.
      await publisher.publish('demo', [
        { seq: 1, text: 'e1' },
        { seq: 1, to: 'conn_1', text: 'd1' },
        { seq: 2, text: 'e2' },
        { seq: 5, text: 'e5' },
        { seq: 5, to: 'conn_1', text: 'd5' },
      ]);

      // A direct frame delivered again after the repair would come before e5.
      const received = await collect(follower.follow('demo', 0), 7);

      expect(received).toEqual([
        { seq: 1, text: 'e1' },
        { seq: 1, to: 'conn_1', text: 'd1' },
        { seq: 2, text: 'e2' },
        ...logged.slice(2, 4).map(published),
        { seq: 5, text: 'e5' },
        { seq: 5, to: 'conn_1', text: 'd5' },
      ]);
    });

    it('reads the missing frames from the event log before delivering anything later', async () => {
      const { follower, publisher, store } = await setUp();
      const logged = events('demo', 1, 10);
      await store.append(logged);
      // The old owner logged 4-7 and died before publishing them; the new owner goes on at 8.
      await publisher.publish('demo', [...logged.slice(0, 3), ...logged.slice(7)].map(published));

      const received = await collect(follower.follow('demo', 0), 10);

      expect(received).toEqual(logged.map(published));
    });

    it('trims the stream with MAXLEN ~, and a follower far behind still gets every frame once', async () => {
      const { follower, store } = await setUp();
      const logged = events('demo', 1, 1000);
      await store.append(logged);
      const trimming = new FramePublisher(redis, { keys, maxLength: 10 });
      for (let from = 0; from < 1000; from += 10) {
        await trimming.publish('demo', logged.slice(from, from + 10).map(published));
      }

      const length = await redis.xlen(keys.frames('demo'));
      expect(length).toBeGreaterThanOrEqual(10);
      expect(length).toBeLessThan(100);
      const received = await collect(follower.follow('demo', 0), 1000);
      expect(received.map((frame) => frame.seq)).toEqual(logged.map((entry) => entry.seq));
    });

    it('wakes its blocked read for a conversation followed later', async () => {
      // A read that blocks for a minute: only the wake-up can make this pass within the timeout.
      const { follower, publisher, store } = await setUp({ blockMs: 60_000 });
      await store.append([...events('a', 1, 1), ...events('b', 1, 2)]);
      const fromA = collect(follower.follow('a', 0), 1);
      await publisher.publish('a', events('a', 1, 1).map(published));
      await fromA;

      const fromB = collect(follower.follow('b', 0), 2);
      await publisher.publish('b', events('b', 1, 2).map(published));
      expect((await fromB).map((frame) => frame.seq)).toEqual([1, 2]);
    });

    it('fails a follow with resume_unavailable when the event log lacks the missing frames', async () => {
      const { follower, publisher, store } = await setUp();
      await store.append(events('demo', 5, 6));
      await publisher.publish('demo', events('demo', 6, 6).map(published));

      await expect(collect(follower.follow('demo', 2), 3)).rejects.toMatchObject({
        code: 'resume_unavailable',
        message:
          'Frames 3-5 of conversation demo are neither in its frame stream nor in the event log.',
      });
    });

    it('keeps repairing through an event log that fails, and delivers once it is back', async () => {
      const errors: Error[] = [];
      let reportFirstError: () => void = () => undefined;
      const firstError = new Promise<void>((resolve) => (reportFirstError = resolve));
      const { follower, publisher, store, schema } = await setUp({
        retryDelaysMs: [20],
        onError: (error) => {
          errors.push(error);
          reportFirstError();
        },
      });
      const logged = events('demo', 1, 3);
      await store.append(logged);
      const client = await postgres.connect();
      // A real fault: the log's tables disappear from under the store.
      await client.query(`ALTER SCHEMA ${schema} RENAME TO ${schema}_away`);
      try {
        const received = collect(follower.follow('demo', 0), 3);
        await publisher.publish('demo', logged.slice(2).map(published));
        await firstError;
        await client.query(`ALTER SCHEMA ${schema}_away RENAME TO ${schema}`);

        expect(await received).toEqual(logged.map(published));
        expect(errors[0]).toMatchObject({ code: 'log_unavailable' });
      } finally {
        // Rename it back if the test failed before it did, so that the schema is dropped after.
        const away = await client.query(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [
          `${schema}_away`,
        ]);
        if (away.rowCount === 1) {
          await client.query(`ALTER SCHEMA ${schema}_away RENAME TO ${schema}`);
        }
      }
    });

    it('refuses a second follow of the same conversation', async () => {
      const { follower } = await setUp();
      const first = follower.follow('demo', 0).subscribe();

      await expect(collect(follower.follow('demo', 0), 1)).rejects.toThrow(
        'Conversation demo is already followed; share that follow.',
      );
      first.unsubscribe();
    });
  });
});
