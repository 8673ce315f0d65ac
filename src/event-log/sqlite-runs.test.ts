/**
 * The SQLite log's index by position (schema version 3): the tail kept in memory, the runs stored
 * in bulk, the position check that replaced version 2's primary key, and the upgrade from
 * version 2. The store contract runs against the same store in sqlite-store.test.ts, with runs
 * stored after every batch and every third entry.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { closedAfterEach } from '../../test/support/closed-after-each.js';
import { frameEntry, partEntry } from './event-store.contract.js';
import type { FrameEntry, LogEntry } from './log-entry.js';
import { RUN_PAIRS } from './sqlite-schema.js';
import { SqliteEventStore } from './sqlite-store.js';
import { VERSION_2_TABLES, writeVersion2Rows } from './sqlite-test-files.js';

const directory = mkdtempSync(join(tmpdir(), 'parley-sqlite-runs-'));
let files = 0;
const nextPath = () => join(directory, `log-${++files}.db`);

afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

/** Frames of one conversation at positions `from`..`to`, each with seq = position. */
const framesAt = (conversationId: string, from: number, to: number): FrameEntry[] =>
  Array.from({ length: to - from + 1 }, (_, index) =>
    frameEntry(conversationId, from + index, from + index),
  );
const positionsOf = (entries: readonly LogEntry[]) => entries.map((entry) => entry.position);
const seqsOf = (entries: readonly FrameEntry[]) => entries.map((entry) => entry.seq);

/** What the file holds, read by a second connection. */
function inspect(path: string): { runs: { c: string; n: number }[]; indexedThrough: number } {
  const db = new Database(path, { readonly: true });
  try {
    return {
      runs: db
        .prepare<[], { c: string; n: number }>(
          `SELECT conversation_id AS c, length(pairs) / 16 AS n FROM runs
           ORDER BY conversation_id, first_position`,
        )
        .all(),
      indexedThrough: db
        .prepare<[], number>(`SELECT indexed_through FROM log_index`)
        .pluck()
        .get() as number,
    };
  } finally {
    db.close();
  }
}

describe('SqliteEventStore index by position', () => {
  const open = closedAfterEach((...args: Parameters<typeof SqliteEventStore.open>) =>
    SqliteEventStore.open(...args),
  );

  it('keeps the tail in memory until it reaches indexTailEntries, then stores one run per conversation', async () => {
    const path = nextPath();
    const store = open(path, { indexTailEntries: 8 });
    await store.append([...framesAt('a', 1, 3), ...framesAt('b', 1, 2)]);
    expect(inspect(path)).toEqual({ runs: [], indexedThrough: 0 });
    expect(seqsOf(await store.readFrames('a'))).toEqual([1, 2, 3]);

    await store.append([...framesAt('a', 4, 5), frameEntry('b', 3, 3)]);
    expect(inspect(path)).toEqual({
      runs: [
        { c: 'a', n: 5 },
        { c: 'b', n: 3 },
      ],
      indexedThrough: 8,
    });
    await store.append(framesAt('a', 6, 7));
    expect(inspect(path).runs).toHaveLength(2);
    expect(seqsOf(await store.readFrames('a'))).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(seqsOf(await store.readFrames('a', { before: 7, limit: 3 }))).toEqual([4, 5, 6]);
    expect(await store.lastPosition('b')).toEqual({ position: 3, seq: 3 });
  });

  it(`stores a run longer than ${RUN_PAIRS} entries as several, and reads across their ends`, async () => {
    const path = nextPath();
    const store = open(path, { indexTailEntries: 1 });
    const count = 2 * RUN_PAIRS + 452;
    await store.append(framesAt('a', 1, count));
    expect(inspect(path).runs.map((run) => run.n)).toEqual([RUN_PAIRS, RUN_PAIRS, 452]);

    const edge = RUN_PAIRS;
    expect(
      positionsOf(await store.readEntries('a', { afterPosition: edge - 3, limit: 6 })),
    ).toEqual([edge - 2, edge - 1, edge, edge + 1, edge + 2, edge + 3]);
    expect(seqsOf(await store.readFrames('a', { after: edge - 2, limit: 4 }))).toEqual([
      edge - 1,
      edge,
      edge + 1,
      edge + 2,
    ]);
    expect(seqsOf(await store.readFrames('a', { before: 2 * edge + 2, limit: 3 }))).toEqual([
      2 * edge - 1,
      2 * edge,
      2 * edge + 1,
    ]);
    expect(await store.lastPosition('a')).toEqual({ position: count, seq: count });
    expect(await store.readEntries('a')).toHaveLength(count);
  });

  it('refuses a position that does not follow its conversation’s last: in the tail, in a stored run, and after a reopen', async () => {
    const path = nextPath();
    const first = open(path, { indexTailEntries: 4 });
    await first.append(framesAt('stored', 1, 4));
    await first.append(framesAt('tail', 1, 2));
    expect(inspect(path).runs).toEqual([{ c: 'stored', n: 4 }]);

    const refused = first.append([frameEntry('stored', 4, 9)]);
    await expect(refused).rejects.toMatchObject({ code: 'log_unavailable' });
    await expect(refused).rejects.toThrow(
      'position 4 of conversation stored is not after its last, 4',
    );
    await expect(first.append([frameEntry('tail', 2, 9)])).rejects.toMatchObject({
      code: 'log_unavailable',
    });
    await first.close();

    // The tail is read back from the file: its entries are still known.
    const second = open(path, { indexTailEntries: 4 });
    await expect(second.append([frameEntry('tail', 1, 9)])).rejects.toMatchObject({
      code: 'log_unavailable',
    });
    await second.append([frameEntry('tail', 3, 3), frameEntry('stored', 5, 5)]);
    expect(seqsOf(await second.readFrames('tail'))).toEqual([1, 2, 3]);
    expect(seqsOf(await second.readFrames('stored'))).toEqual([1, 2, 3, 4, 5]);
  });

  it('never gives a deleted entry’s id to a new one, so a new entry is never hidden behind the index', async () => {
    const path = nextPath();
    const store = open(path, { indexTailEntries: 3 });
    await store.append([...framesAt('a', 1, 2), frameEntry('b', 1, 1)]);
    // b holds the newest id, which the stored runs cover.
    expect(inspect(path).indexedThrough).toBe(3);
    expect(await store.deleteConversation('b')).toBe(1);

    await store.append([frameEntry('c', 1, 1)]);
    expect(seqsOf(await store.readFrames('c'))).toEqual([1]);
    await store.close();
    const reopened = open(path, { indexTailEntries: 3 });
    expect(seqsOf(await reopened.readFrames('c'))).toEqual([1]);
    expect(await reopened.readEntries('b')).toEqual([]);
  });

  it('keeps a reader on the same file in step with the writer as the writer stores its tail', async () => {
    const path = nextPath();
    const writer = open(path, { indexTailEntries: 5 });
    await writer.append(framesAt('a', 1, 3));
    const reader = open(path, { lock: false });
    expect(seqsOf(await reader.readFrames('a'))).toEqual([1, 2, 3]);

    await writer.append([frameEntry('a', 4, 4)]);
    expect(seqsOf(await reader.readFrames('a'))).toEqual([1, 2, 3, 4]);
    await writer.append([frameEntry('a', 5, 5), partEntry('a', 6)]);
    expect(inspect(path).indexedThrough).toBe(6);
    expect(positionsOf(await reader.readEntries('a'))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await reader.lastPosition('a')).toEqual({ position: 6, seq: 5 });
    await writer.append([frameEntry('a', 7, 6)]);
    expect(seqsOf(await reader.readFrames('a', { after: 4 }))).toEqual([5, 6]);
  });

  it('upgrades a version 2 file of 70,000 entries: the same reads, its runs per conversation, and appends after them', async () => {
    const path = nextPath();
    const old = new Database(path);
    old.pragma('journal_mode = WAL');
    old.exec(`${VERSION_2_TABLES} INSERT INTO meta (key, value) VALUES ('schema_version', '2');`);
    // Three conversations written interleaved, as a server writes them.
    const written: LogEntry[] = [];
    const next = { a: 0, b: 0, c: 0 };
    for (let index = 0; index < 70_000; index += 1) {
      const conversation = (['a', 'b', 'c'] as const)[index % 7 < 4 ? 0 : index % 7 < 6 ? 1 : 2];
      next[conversation] += 1;
      const position = next[conversation];
      written.push(
        position % 5 === 0
          ? partEntry(conversation, position)
          : frameEntry(conversation, position, position),
      );
    }
    old.transaction(() => {
      writeVersion2Rows(old, written);
    })();
    old.close();

    const store = open(path);
    const runs = inspect(path).runs;
    for (const conversation of ['a', 'b', 'c'] as const) {
      const count = next[conversation];
      const ofConversation = runs.filter((run) => run.c === conversation);
      expect(ofConversation).toHaveLength(Math.ceil(count / RUN_PAIRS));
      expect(ofConversation.reduce((sum, run) => sum + run.n, 0)).toBe(count);
      expect(await store.lastPosition(conversation)).toEqual({
        position: count,
        seq: count % 5 === 0 ? count - 1 : count,
      });
    }
    const middle = 20_000;
    expect(await store.readEntries('a', { afterPosition: middle, limit: 3 })).toEqual(
      written.filter((entry) => entry.conversation_id === 'a').slice(middle, middle + 3),
    );
    expect(seqsOf(await store.readFrames('b', { after: 9_998, limit: 3 }))).toEqual([
      9_999, 10_001, 10_002,
    ]);
    await expect(store.append([frameEntry('c', next.c, 1)])).rejects.toMatchObject({
      code: 'log_unavailable',
    });
    await store.append([frameEntry('c', next.c + 1, next.c + 1)]);
    expect((await store.lastPosition('c'))?.position).toBe(next.c + 1);
  });
});
