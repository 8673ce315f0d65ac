import { describe, expect, it } from 'vitest';
import { describeEventStoreContract, frameEntry, partEntry } from './event-store.contract.js';
import { MemoryEventStore } from './memory-store.js';

describeEventStoreContract('MemoryEventStore', ({ retention }) =>
  retention === undefined
    ? new MemoryEventStore()
    : new MemoryEventStore({ maxEntriesPerConversation: retention }),
);

describe('MemoryEventStore', () => {
  it('drops the conversation appended to least recently past maxConversations', async () => {
    const store = new MemoryEventStore({ maxConversations: 2 });
    await store.append([frameEntry('a', 1, 1)]);
    await store.append([frameEntry('b', 1, 1)]);
    await store.append([frameEntry('a', 2, 2)]);
    await store.append([frameEntry('c', 1, 1)]);

    expect(await store.lastPosition('b')).toBeUndefined();
    expect(await store.lastPosition('a')).toEqual({ position: 2, seq: 2 });
    expect(await store.lastPosition('c')).toEqual({ position: 1, seq: 1 });
  });

  it('hands out frozen entries', async () => {
    const store = new MemoryEventStore();
    await store.append([frameEntry('a', 1, 1)]);

    const [entry] = await store.readEntries('a');
    expect(Object.isFrozen(entry)).toBe(true);
    expect(() => {
      if (entry?.kind === 'frame') entry.frame.delta = 'changed';
    }).toThrow(TypeError);
  });

  it('keeps a copy the caller cannot change, own __proto__ keys and nested arrays included', async () => {
    const store = new MemoryEventStore();
    const entry = frameEntry('a', 1, 1);
    const payload = JSON.parse(
      '{"__proto__": {"polluted": true}, "list": [1, {"x": 2}]}',
    ) as Record<string, unknown>;
    entry.frame.payload = payload;
    await store.append([entry]);
    (payload.list as unknown[]).push(3);
    entry.frame.delta = 'changed by the caller';

    const [stored] = await store.readEntries('a');
    if (stored?.kind !== 'frame') throw new Error('expected a frame entry');
    expect(stored.frame.delta).not.toBe('changed by the caller');
    const copy = stored.frame.payload as Record<string, unknown>;
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.keys(copy)).toEqual(['__proto__', 'list']);
    expect(JSON.stringify(copy)).toBe('{"__proto__":{"polluted":true},"list":[1,{"x":2}]}');
    expect(Object.isFrozen(copy.list)).toBe(true);
  });

  it('stays bounded over many appends past maxEntriesPerConversation', async () => {
    const store = new MemoryEventStore({ maxEntriesPerConversation: 10 });
    for (let position = 1; position <= 5_000; position++) {
      await store.append([partEntry('a', position)]);
    }

    const entries = await store.readEntries('a');
    expect(entries.map((entry) => entry.position)).toEqual([
      4991, 4992, 4993, 4994, 4995, 4996, 4997, 4998, 4999, 5000,
    ]);
    expect((await store.listConversations())[0]?.entries).toBe(10);
  });

  it('rejects a position that does not grow', async () => {
    const store = new MemoryEventStore();
    await store.append([partEntry('a', 5)]);

    await expect(store.append([partEntry('a', 4)])).rejects.toThrow(
      'Position 4 of conversation a is not after its last position 5.',
    );
  });
});
