/**
 * The behaviour every {@link EventStore} shares, as one suite that each backend's test file runs
 * against its own store (memory-store, sqlite-store, worker-sqlite-store tests). One file so that every
 * backend provably runs the same cases; a test suite, hence a little over 300 lines.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ParleyError } from '../errors.js';
import type { EventStore } from './event-store.js';
import type { FrameEntry, LogEntry } from './log-entry.js';

/** What the suite asks of a backend's factory. */
export interface ContractStoreOptions {
  /** Entries to keep per conversation, for the retention tests. */
  retention?: number;
}

/** Makes a store for one test; the suite closes it afterwards. */
export type ContractStoreFactory = (
  options: ContractStoreOptions,
) => EventStore | Promise<EventStore>;

/** A frame entry with the given seq; `to` makes it a direct frame. */
export function frameEntry(
  conversationId: string,
  position: number,
  seq: number,
  options: { type?: string; to?: string; at?: number } = {},
): FrameEntry {
  return {
    v: 1,
    kind: 'frame',
    conversation_id: conversationId,
    position,
    at: options.at ?? 1_000 + position,
    seq,
    ...(options.to === undefined ? {} : { to: options.to }),
    frame: { type: options.type ?? 'agent_response_chunk', seq, delta: `token ${seq}` },
  };
}

/** A non-frame entry (a model stream part). */
export function partEntry(
  conversationId: string,
  position: number,
  at = 1_000 + position,
): LogEntry {
  return {
    v: 1,
    kind: 'model.part',
    conversation_id: conversationId,
    position,
    at,
    turn_id: 'turn_1',
    step: 1,
    offset_ms: position,
    part: { type: 'text-delta', text: `part ${position}` },
  };
}

/** Frames with seq `from`..`to`, one per position starting at `firstPosition`. */
function frames(
  conversationId: string,
  from: number,
  to: number,
  firstPosition = from,
): FrameEntry[] {
  const result: FrameEntry[] = [];
  for (let seq = from; seq <= to; seq++) {
    result.push(frameEntry(conversationId, firstPosition + seq - from, seq));
  }
  return result;
}

const seqs = (entries: readonly FrameEntry[]) => entries.map((entry) => entry.seq);

/**
 * Runs the shared event store suite.
 *
 * @example
 * describeEventStoreContract('MemoryEventStore', ({ retention }) =>
 *   new MemoryEventStore(retention === undefined ? {} : { maxEntriesPerConversation: retention }),
 * );
 */
export function describeEventStoreContract(name: string, factory: ContractStoreFactory): void {
  describe(`${name} (event store contract)`, () => {
    const opened: EventStore[] = [];
    const open = async (options: ContractStoreOptions = {}) => {
      const store = await factory(options);
      opened.push(store);
      return store;
    };

    afterEach(async () => {
      await Promise.all(opened.splice(0).map((store) => store.close()));
    });

    it('reads entries back in position order, per conversation', async () => {
      const store = await open();
      await store.append([partEntry('a', 1), frameEntry('b', 1, 1), frameEntry('a', 2, 1)]);
      await store.append([frameEntry('a', 3, 2), partEntry('b', 2)]);

      expect(await store.readEntries('a')).toEqual([
        partEntry('a', 1),
        frameEntry('a', 2, 1),
        frameEntry('a', 3, 2),
      ]);
      expect(await store.readEntries('b')).toEqual([frameEntry('b', 1, 1), partEntry('b', 2)]);
    });

    it('reads entries after a position, at most limit', async () => {
      const store = await open();
      await store.append(frames('a', 1, 10));

      const positions = (entries: LogEntry[]) => entries.map((entry) => entry.position);
      expect(positions(await store.readEntries('a', { afterPosition: 7 }))).toEqual([8, 9, 10]);
      expect(positions(await store.readEntries('a', { afterPosition: 2, limit: 3 }))).toEqual([
        3, 4, 5,
      ]);
      expect(positions(await store.readEntries('a', { limit: 2 }))).toEqual([1, 2]);
      expect(await store.readEntries('a', { afterPosition: 10 })).toEqual([]);
    });

    it('knows nothing of a conversation it never stored', async () => {
      const store = await open();
      await store.append(frames('a', 1, 3));

      expect(await store.readEntries('unknown')).toEqual([]);
      expect(await store.readFrames('unknown')).toEqual([]);
      expect(await store.lastPosition('unknown')).toBeUndefined();
      expect(await store.firstRetainedSeq('unknown')).toBeUndefined();
    });

    it('reads frames after a seq, oldest first, 100 by default', async () => {
      const store = await open();
      await store.append(frames('a', 1, 150));

      expect(seqs(await store.readFrames('a', { after: 145 }))).toEqual([146, 147, 148, 149, 150]);
      const page = await store.readFrames('a');
      expect(page).toHaveLength(100);
      expect(page[0]?.seq).toBe(1);
      expect(page.at(-1)?.seq).toBe(100);
      expect(seqs(await store.readFrames('a', { after: 10, limit: 3 }))).toEqual([11, 12, 13]);
    });

    it('reads the newest frames before a seq, still oldest first', async () => {
      const store = await open();
      await store.append(frames('a', 1, 20));

      expect(seqs(await store.readFrames('a', { before: 11, limit: 3 }))).toEqual([8, 9, 10]);
      expect(seqs(await store.readFrames('a', { before: 3 }))).toEqual([1, 2]);
    });

    it('reads frames between two seqs from the oldest', async () => {
      const store = await open();
      await store.append(frames('a', 1, 20));

      expect(seqs(await store.readFrames('a', { after: 4, before: 9 }))).toEqual([5, 6, 7, 8]);
      expect(seqs(await store.readFrames('a', { after: 4, before: 9, limit: 2 }))).toEqual([5, 6]);
      expect(await store.readFrames('a', { after: 5, before: 6 })).toEqual([]);
      expect(await store.readFrames('a', { limit: 0 })).toEqual([]);
    });

    it('reads seq ranges over entries that are not frames and direct frames that repeat a seq', async () => {
      const store = await open();
      // Each seq: its event frame, a model part, and for every third a direct frame with its seq.
      const entries: LogEntry[] = [];
      let position = 0;
      for (let seq = 1; seq <= 100; seq += 1) {
        entries.push(frameEntry('a', ++position, seq, { type: 'agent_response_chunk' }));
        entries.push(partEntry('a', ++position));
        if (seq % 3 === 0) {
          entries.push(frameEntry('a', ++position, seq, { type: 'error', to: 'conn_1' }));
        }
      }
      await store.append(entries);

      expect(seqs(await store.readFrames('a', { after: 50, limit: 3 }))).toEqual([51, 52, 53]);
      expect(seqs(await store.readFrames('a', { before: 50, limit: 3 }))).toEqual([47, 48, 49]);
      const sixty = await store.readFrames('a', { after: 59, before: 61, eventsOnly: false });
      expect(sixty.map((entry) => [entry.seq, entry.to ?? null])).toEqual([
        [60, null],
        [60, 'conn_1'],
      ]);
      expect(seqs(await store.readFrames('a', { after: 99 }))).toEqual([100]);
      expect(await store.readFrames('a', { after: 100 })).toEqual([]);
      expect(seqs(await store.readFrames('a', { before: 2 }))).toEqual([1]);
      expect(seqs(await store.readFrames('a', { after: 0, limit: 2 }))).toEqual([1, 2]);
      expect(await store.lastPosition('a')).toEqual({ position, seq: 100 });
    });

    it('leaves out direct frames unless eventsOnly is false, and skips entries that are not frames', async () => {
      const store = await open();
      await store.append([
        frameEntry('a', 1, 0, { type: 'welcome', to: 'conn_1' }),
        frameEntry('a', 2, 1, { type: 'user_message' }),
        partEntry('a', 3),
        frameEntry('a', 4, 1, { type: 'error', to: 'conn_1' }),
        frameEntry('a', 5, 2, { type: 'agent_response_chunk' }),
      ]);

      const events = await store.readFrames('a');
      expect(events.map((entry) => entry.position)).toEqual([2, 5]);
      const all = await store.readFrames('a', { eventsOnly: false });
      expect(all.map((entry) => entry.position)).toEqual([1, 2, 4, 5]);
      expect(all[2]).toEqual(frameEntry('a', 4, 1, { type: 'error', to: 'conn_1' }));
    });

    it('reads only the frame types asked for', async () => {
      const store = await open();
      const types = ['user_message', 'agent_response_chunk', 'agent_response_chunk', 'tool_call'];
      await store.append([
        ...types.map((type, index) => frameEntry('a', index + 1, index + 1, { type })),
        frameEntry('a', 5, 5, { type: 'agent_response_complete' }),
      ]);

      const typesOf = (entries: FrameEntry[]) => entries.map((entry) => entry.frame.type);
      expect(
        typesOf(
          await store.readFrames('a', { types: ['user_message', 'agent_response_complete'] }),
        ),
      ).toEqual(['user_message', 'agent_response_complete']);
      expect(
        seqs(await store.readFrames('a', { types: ['agent_response_chunk'], before: 6, limit: 1 })),
      ).toEqual([3]);
      expect(await store.readFrames('a', { types: [] })).toEqual([]);
    });

    it('gives the last position and the highest frame seq', async () => {
      const store = await open();
      await store.append([partEntry('a', 1)]);
      expect(await store.lastPosition('a')).toEqual({ position: 1, seq: 0 });

      await store.append([frameEntry('a', 2, 1), frameEntry('a', 3, 2), partEntry('a', 4)]);
      expect(await store.lastPosition('a')).toEqual({ position: 4, seq: 2 });
    });

    it('gives the lowest retained seq of an event frame', async () => {
      const store = await open();
      await store.append([partEntry('a', 1)]);
      expect(await store.firstRetainedSeq('a')).toBeUndefined();

      await store.append([
        frameEntry('a', 2, 0, { type: 'welcome', to: 'conn_1' }),
        frameEntry('a', 3, 1),
        frameEntry('a', 4, 2),
      ]);
      expect(await store.firstRetainedSeq('a')).toBe(1);
    });

    it('lists conversations with their summaries, latest first, at most limit', async () => {
      const store = await open();
      await store.append([partEntry('a', 1, 100), frameEntry('a', 2, 1, { at: 300 })]);
      await store.append([frameEntry('b', 1, 1, { at: 200 }), frameEntry('b', 2, 2, { at: 400 })]);
      await store.append([partEntry('c', 1, 50)]);

      expect(await store.listConversations()).toEqual([
        { conversation_id: 'b', entries: 2, last_seq: 2, first_at: 200, last_at: 400 },
        { conversation_id: 'a', entries: 2, last_seq: 1, first_at: 100, last_at: 300 },
        { conversation_id: 'c', entries: 1, last_seq: 0, first_at: 50, last_at: 50 },
      ]);
      const first = await store.listConversations({ limit: 1 });
      expect(first.map((summary) => summary.conversation_id)).toEqual(['b']);
    });

    it('lists the conversations idle since before a time, oldest first, at most limit', async () => {
      const store = await open();
      if (store.idleConversations === undefined) return;
      await store.append([frameEntry('a', 1, 1, { at: 100 }), frameEntry('a', 2, 2, { at: 300 })]);
      await store.append([frameEntry('b', 1, 1, { at: 200 })]);
      await store.append([frameEntry('c', 1, 1, { at: 500 })]);

      expect(await store.idleConversations(400)).toEqual(['b', 'a']);
      expect(await store.idleConversations(250)).toEqual(['b']);
      expect(await store.idleConversations(600, 1)).toEqual(['b']);
      expect(await store.idleConversations(100)).toEqual([]);
    });

    it('deletes one conversation entirely, which then starts again from position 1', async () => {
      const store = await open();
      await store.append([...frames('a', 1, 3), ...frames('b', 1, 2)]);
      expect(await store.deleteConversation?.('a')).toBe(3);
      expect(await store.lastPosition('a')).toBeUndefined();
      expect(await store.readFrames('a')).toEqual([]);
      expect((await store.listConversations()).map((c) => c.conversation_id)).toEqual(['b']);
      expect(await store.deleteConversation?.('a')).toBe(0);
      await store.append(frames('a', 1, 1));
      expect(await store.lastPosition('a')).toEqual({ position: 1, seq: 1 });
      expect(await store.readFrames('b')).toHaveLength(2);
    });

    it('stores a batch entirely or not at all', async () => {
      const store = await open();
      await store.append(frames('a', 1, 3));

      const failing = store.append([
        frameEntry('b', 1, 1),
        frameEntry('a', 4, 4),
        frameEntry('a', 3, 5),
      ]);
      await expect(failing).rejects.toBeInstanceOf(ParleyError);
      await expect(failing).rejects.toMatchObject({ code: 'log_unavailable' });

      expect(await store.readEntries('b')).toEqual([]);
      expect(seqs((await store.readEntries('a')) as FrameEntry[])).toEqual([1, 2, 3]);
      expect(await store.lastPosition('a')).toEqual({ position: 3, seq: 3 });
    });

    it('keeps what it stored whatever callers do with the objects', async () => {
      const store = await open();
      const entry = frameEntry('a', 1, 1);
      await store.append([entry]);
      entry.frame.delta = 'changed by the writer';

      const [read] = await store.readFrames('a');
      try {
        if (read !== undefined) read.frame.delta = 'changed by a reader';
      } catch {
        // A store may hand out frozen entries instead of copies.
      }
      expect(await store.readFrames('a')).toEqual([frameEntry('a', 1, 1)]);
    });

    it('drops the oldest entries past its retention, which moves firstRetainedSeq', async () => {
      const store = await open({ retention: 5 });
      await store.append(frames('a', 1, 4));
      await store.append(frames('a', 5, 10));
      await store.append(frames('b', 1, 3));

      expect(seqs((await store.readEntries('a')) as FrameEntry[])).toEqual([6, 7, 8, 9, 10]);
      expect(await store.firstRetainedSeq('a')).toBe(6);
      expect(await store.lastPosition('a')).toEqual({ position: 10, seq: 10 });
      expect(seqs(await store.readFrames('a', { before: 100, limit: 3 }))).toEqual([8, 9, 10]);
      expect(await store.firstRetainedSeq('b')).toBe(1);

      await store.append(frames('a', 11, 12));
      expect(await store.firstRetainedSeq('a')).toBe(8);
    });

    it('keeps the last seq when retention has trimmed every older frame', async () => {
      const store = await open({ retention: 3 });
      await store.append(frames('a', 1, 3));
      await store.append([4, 5, 6, 7, 8].map((position) => partEntry('a', position)));

      expect(await store.lastPosition('a')).toEqual({ position: 8, seq: 3 });
    });

    it('rejects with log_unavailable once closed', async () => {
      const store = await factory({});
      await store.append(frames('a', 1, 1));
      await store.close();

      await expect(store.readEntries('a')).rejects.toMatchObject({ code: 'log_unavailable' });
      await expect(store.append(frames('a', 2, 2))).rejects.toMatchObject({
        code: 'log_unavailable',
      });
    });
  });
}
