import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { runModuleScript } from '../../test/support/module-script.js';
import { partEntry } from './event-store.contract.js';
import { startBackgroundCheckpoints, type CheckpointResult } from './sqlite-checkpointer.js';
import { SqliteEventStore, type SqliteEventStoreOptions } from './sqlite-store.js';

const directory = mkdtempSync(join(tmpdir(), 'parley-checkpoints-'));
let files = 0;
const nextPath = () => join(directory, `log-${++files}.db`);

afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

type Event =
  | { type: 'checkpoint'; where: 'background' | 'inline'; result: CheckpointResult }
  | { type: 'failure'; error: Error };

/** A store whose checkpoint events can be awaited one by one. */
function observedStore(path: string, options: SqliteEventStoreOptions = {}) {
  const events: Event[] = [];
  let wake: (() => void) | undefined;
  const push = (event: Event) => {
    events.push(event);
    wake?.();
  };
  const store = SqliteEventStore.open(path, {
    ...options,
    onCheckpoint: (result, where) => {
      push({ type: 'checkpoint', where, result });
    },
    onCheckpointFailure: (error) => {
      push({ type: 'failure', error });
    },
  });
  const next = async (): Promise<Event> => {
    while (events.length === 0) await new Promise<void>((resolve) => (wake = resolve));
    return events.shift() as Event;
  };
  return { store, next, events };
}

/** `count` commits of one entry each, positions after `from`. */
async function commit(store: SqliteEventStore, count: number, from = 0): Promise<void> {
  for (let position = from + 1; position <= from + count; position += 1) {
    await store.append([partEntry('a', position)]);
  }
}

/** Pages in the WAL of `path`, read from another connection (which checkpoints it too). */
function walPages(path: string): number {
  const other = new Database(path);
  try {
    const [row] = other.pragma('wal_checkpoint(PASSIVE)') as { log: number }[];
    return row?.log ?? 0;
  } finally {
    other.close();
  }
}

describe('SqliteEventStore checkpoints', () => {
  const stores: SqliteEventStore[] = [];
  afterEach(async () => {
    vi.useRealTimers();
    await Promise.all(stores.splice(0).map((store) => store.close()));
  });

  it('leaves checkpoints out of the commits: SQLite does not checkpoint inline', async () => {
    const path = nextPath();
    const { store } = observedStore(path, { walAutocheckpointPages: 10 });
    stores.push(store);
    // 50 commits, fewer than one request's worth: with SQLite's inline checkpoint at 10 pages,
    // the WAL would have restarted several times and held a few pages only.
    await commit(store, 50);

    expect(store.checkpointStats).toMatchObject({ mode: 'background', background: 0 });
    expect(walPages(path)).toBeGreaterThan(50);
  });

  it('checkpoints in a worker thread every 100 commits', async () => {
    const path = nextPath();
    const { store, next } = observedStore(path);
    stores.push(store);
    await commit(store, 100);

    const event = await next();
    expect(event).toMatchObject({ type: 'checkpoint', where: 'background' });
    const { result } = event as Extract<Event, { type: 'checkpoint' }>;
    expect(result.walPages).toBeGreaterThan(100);
    // Nothing was written while it ran, so it copied the whole WAL.
    expect(result.checkpointedPages).toBe(result.walPages);
    expect(store.checkpointStats).toMatchObject({ mode: 'background', background: 1, inline: 0 });
    // The next commit restarts the WAL from its start: only that commit's pages are in it.
    await commit(store, 1, 100);
    expect(walPages(path)).toBeLessThan(10);
  });

  it('stops its worker after 10 s without a checkpoint, and starts another when one is due', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { store, next } = observedStore(nextPath());
    stores.push(store);
    await commit(store, 100);
    await next();

    vi.advanceTimersByTime(9_999);
    await commit(store, 100, 100);
    await next();
    expect(store.checkpointStats).toMatchObject({ background: 2, threads: 1 });

    vi.advanceTimersByTime(10_000);
    await commit(store, 100, 200);
    expect(await next()).toMatchObject({ type: 'checkpoint', where: 'background' });
    expect(store.checkpointStats).toMatchObject({ mode: 'background', background: 3, threads: 2 });
  });

  it('holds the next commit for a catch-up in the worker when the WAL outgrows walAutocheckpointPages', async () => {
    const path = nextPath();
    // 100 commits of one entry each write about 200 pages: over 100, under 4 × 100.
    const { store, next, events } = observedStore(path, { walAutocheckpointPages: 100 });
    stores.push(store);
    await commit(store, 100);
    expect(await next()).toMatchObject({ type: 'checkpoint', where: 'background' });

    // The 101st commit waits for a second checkpoint, which nothing was written during: it
    // copies the whole WAL, and that commit restarts the WAL from its start.
    const held = store.append([partEntry('a', 101)]);
    const catchUp = await next();
    expect(catchUp).toMatchObject({ type: 'checkpoint', where: 'background' });
    const { result } = catchUp as Extract<Event, { type: 'checkpoint' }>;
    expect(result.checkpointedPages).toBe(result.walPages);
    await held;
    expect(walPages(path)).toBeLessThan(10);
    expect(store.checkpointStats).toMatchObject({ background: 2, catchUps: 1, inline: 0 });
    // No checkpoint ran on this thread, and the next commits do not wait.
    await commit(store, 10, 101);
    expect(events).toEqual([]);
  });

  it("checkpoints on the writer's thread once the WAL outgrows 4 × walAutocheckpointPages", async () => {
    // 100 commits of one entry each write about 200 pages: over 4 × 20.
    const { store, next } = observedStore(nextPath(), { walAutocheckpointPages: 20 });
    stores.push(store);
    await commit(store, 100);

    expect(await next()).toMatchObject({ type: 'checkpoint', where: 'background' });
    expect(await next()).toMatchObject({ type: 'checkpoint', where: 'inline' });
    expect(store.checkpointStats).toMatchObject({ background: 1, inline: 1, catchUps: 0 });
  });

  it('writes a held commit before it closes', async () => {
    const path = nextPath();
    const { store, next } = observedStore(path, { walAutocheckpointPages: 100 });
    await commit(store, 100);
    await next();
    const held = store.append([partEntry('a', 101)]);
    await store.close();
    await held;

    const reopened = SqliteEventStore.open(path);
    stores.push(reopened);
    expect(
      (await reopened.readEntries('a', { afterPosition: 100 })).map((entry) => entry.position),
    ).toEqual([101]);
  });

  it("closes the worker's connection too, so that closing removes the WAL", async () => {
    const path = nextPath();
    const { store, next } = observedStore(path);
    await commit(store, 100);
    await next();
    expect(existsSync(`${path}-wal`)).toBe(true);

    await store.close();
    expect(existsSync(`${path}-wal`)).toBe(false);
  });

  it('keeps a process alive while close() waits for the worker', async () => {
    // After the last append nothing else keeps the event loop busy: awaiting an unreferenced
    // worker's exit would let Node end the script (code 13, top-level await unsettled).
    const script = `
      const { SqliteEventStore } = await import(${JSON.stringify(new URL('./sqlite-store.ts', import.meta.url).href)});
      const store = SqliteEventStore.open(${JSON.stringify(nextPath())});
      for (let position = 1; position <= 100; position += 1) {
        await store.append([{ v: 1, kind: 'model.part', conversation_id: 'a', position, at: 1, part: { type: 'finish' } }]);
      }
      await store.close();
      console.log('closed', store.checkpointStats.threads);
    `;
    expect(await runModuleScript(script)).toBe('closed 1');
  });

  it('goes back to inline checkpoints, and says why, when the worker cannot open the file', async () => {
    // The store rebuilds a removed file before its next commit (sqlite-store.test.ts), so the
    // worker is pointed at a path with no file instead: its open fails as it would on a file gone.
    const path = nextPath();
    const missing = nextPath();
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE rows (body TEXT NOT NULL)');
    const failures: Error[] = [];
    let failed: () => void = () => undefined;
    const failure = new Promise<void>((resolve) => (failed = resolve));
    const checkpointer = startBackgroundCheckpoints(db, missing, {
      everyCommits: 100,
      walAutocheckpointPages: 10,
      onFailure: (error) => {
        failures.push(error);
        failed();
      },
    });
    const insert = db.prepare('INSERT INTO rows (body) VALUES (?)');
    const commits = (count: number) => {
      for (let index = 0; index < count; index += 1) {
        insert.run('x'.repeat(3000));
        checkpointer.committed();
      }
    };
    try {
      commits(100);
      await failure;
      expect(failures[0]?.message).toMatch(
        new RegExp(
          `^Background WAL checkpoints of ${missing} failed \\(.+\\); SQLite checkpoints inline from now on\\.$`,
        ),
      );
      expect(checkpointer.stats.mode).toBe('inline');

      // SQLite's own checkpoint at 10 pages is back: after the commit that crosses it, the WAL
      // restarts from its start, so 300 more commits (~300 pages without it) add a few pages only.
      const before = statSync(`${path}-wal`).size;
      commits(300);
      expect(statSync(`${path}-wal`).size - before).toBeLessThan(10 * 4096);
    } finally {
      await checkpointer.close();
      db.close();
    }
  });

  it('never starts a worker for a store that checkpoints inline', async () => {
    const { store, events } = observedStore(nextPath(), { checkpoints: 'inline' });
    stores.push(store);
    await commit(store, 200);

    expect(store.checkpointStats).toBeUndefined();
    expect(events).toEqual([]);
  });
});
