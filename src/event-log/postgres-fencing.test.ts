import { afterEach, expect, it } from 'vitest';
import { describeWithPostgres, probePostgres } from '../../test/support/services.js';
import { ParleyError } from '../errors.js';
import { frameEntry, partEntry } from './event-store.contract.js';
import type { FrameEntry } from './log-entry.js';
import { PostgresEventStore, type PostgresEventStoreOptions } from './postgres-store.js';

const postgres = await probePostgres();

describeWithPostgres(postgres, 'PostgresEventStore fencing', (service) => {
  const stores: PostgresEventStore[] = [];
  const open = async (schema: string, options: PostgresEventStoreOptions = {}) => {
    const store = await PostgresEventStore.open(service.url, { schema, ...options });
    stores.push(store);
    return store;
  };
  /** Two instances on one fresh schema, as two processes of a cluster would be. */
  const twoInstances = async (options: PostgresEventStoreOptions = {}) => {
    const schema = service.freshSchema();
    return [await open(schema, options), await open(schema, options)] as const;
  };

  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
  });

  it('refuses the whole batch of a taken-over owner and names the fenced conversations', async () => {
    const [first, second] = await twoInstances();
    await first.fence('a', 1);
    await first.fence('b', 1);
    await first.append([frameEntry('a', 1, 1), frameEntry('b', 1, 1)]);

    await second.fence('a', 2);
    const refused = first.append([frameEntry('a', 2, 2), frameEntry('b', 2, 2), partEntry('c', 1)]);

    await expect(refused).rejects.toThrow(
      'The event log refused a batch of 3 entries: a is taken over from this instance.',
    );
    await expect(refused).rejects.toBeInstanceOf(ParleyError);
    await expect(refused).rejects.toMatchObject({
      code: 'cluster_fenced',
      details: { conversation_ids: ['a'] },
    });
    expect(await second.lastPosition('a')).toEqual({ position: 1, seq: 1 });
    expect(await second.lastPosition('b')).toEqual({ position: 1, seq: 1 });
    expect(await second.lastPosition('c')).toBeUndefined();

    // Dropping the fenced conversation lets the rest through, as the log's writer will.
    await first.append([frameEntry('b', 2, 2), partEntry('c', 1)]);
    await second.append([frameEntry('a', 2, 2)]);
    expect(await second.lastPosition('b')).toEqual({ position: 2, seq: 2 });
    expect((await first.readFrames('a')).map((entry) => entry.seq)).toEqual([1, 2]);
  });

  it('never lowers an epoch: a late fence with an older epoch is refused and stays fenced', async () => {
    const [first, second] = await twoInstances();
    await second.fence('a', 5);

    await expect(first.fence('a', 4)).rejects.toMatchObject({
      code: 'cluster_fenced',
      details: { conversation_ids: ['a'], current_epoch: 5 },
    });
    expect(await first.currentEpoch('a')).toBe(5);
    await expect(first.append([frameEntry('a', 1, 1)])).rejects.toMatchObject({
      code: 'cluster_fenced',
    });
    await second.append([frameEntry('a', 1, 1)]);
    expect(await second.lastPosition('a')).toEqual({ position: 1, seq: 1 });
  });

  it('with requireFence refuses a conversation it has not fenced, or has unfenced', async () => {
    const [store] = await twoInstances({ requireFence: true });
    await store.fence('a', 1);
    await store.append([frameEntry('a', 1, 1)]);

    await expect(store.append([frameEntry('a', 2, 2), frameEntry('b', 1, 1)])).rejects.toThrow(
      'The event log refused a batch of 2 entries: b is not fenced by this instance.',
    );
    store.unfence('a');
    await expect(store.append([frameEntry('a', 2, 2)])).rejects.toMatchObject({
      code: 'cluster_fenced',
      details: { conversation_ids: ['a'] },
    });
    expect(await store.lastPosition('b')).toBeUndefined();
    expect(await store.lastPosition('a')).toEqual({ position: 1, seq: 1 });
  });

  it('writes unfenced conversations unchecked without requireFence (one node)', async () => {
    const [first, second] = await twoInstances();
    await first.append([frameEntry('a', 1, 1)]);
    await second.append([frameEntry('a', 2, 2)]);

    expect(await first.lastPosition('a')).toEqual({ position: 2, seq: 2 });
    expect(await first.currentEpoch('a')).toBeUndefined();
  });

  it('lets no append of the old owner commit once a newer fence has resolved (race, 40 rounds)', async () => {
    const [first, second] = await twoInstances();
    for (let round = 1; round <= 40; round++) {
      const conversation = `race-${round}`;
      await first.fence(conversation, 1);
      let next = 1;
      const control = { stop: false };
      // The old owner appends as fast as it can while the new owner fences.
      const writer = (async () => {
        const landed: number[] = [];
        while (!control.stop) {
          const seq = next++;
          try {
            await first.append([frameEntry(conversation, seq, seq)]);
            landed.push(seq);
          } catch (error) {
            expect(error).toMatchObject({ code: 'cluster_fenced' });
            return landed;
          }
        }
        return landed;
      })();
      // Let a few appends land first, at a point that varies with the round.
      for (let wait = 0; wait < round % 7; wait++) await first.readEntries(conversation);
      await second.fence(conversation, 2);
      const seenByNewOwner = await second.lastPosition(conversation);
      control.stop = true;
      const landed = await writer;

      const stored = (await second.readEntries(conversation)) as FrameEntry[];
      expect(stored.map((entry) => entry.seq)).toEqual(landed);
      expect(seenByNewOwner?.position ?? 0).toBe(landed.at(-1) ?? 0);
    }
  });
});
