import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { runModuleScript } from '../../test/support/module-script.js';
import { ParleyError } from '../errors.js';
import { describeEventStoreContract, frameEntry, partEntry } from './event-store.contract.js';
import { SqliteEventStore } from './sqlite-store.js';
import { WorkerSqliteEventStore } from './worker-sqlite-store.js';

const directory = mkdtempSync(join(tmpdir(), 'parley-worker-store-'));
let files = 0;
const nextPath = () => join(directory, `log-${++files}.db`);

afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

describeEventStoreContract('WorkerSqliteEventStore', ({ retention }) =>
  WorkerSqliteEventStore.open(
    nextPath(),
    retention === undefined ? {} : { retentionPerConversation: retention },
  ),
);

describe('WorkerSqliteEventStore', () => {
  const stores: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
  });

  it('writes the same file as SqliteEventStore, readable by either', async () => {
    const path = nextPath();
    const threaded = await WorkerSqliteEventStore.open(path);
    await threaded.append([partEntry('a', 1), frameEntry('a', 2, 1)]);
    await threaded.close();

    const direct = SqliteEventStore.open(path);
    stores.push(direct);
    expect(await direct.readEntries('a')).toEqual([partEntry('a', 1), frameEntry('a', 2, 1)]);
    await direct.append([frameEntry('a', 3, 2)]);
    await direct.close();

    const again = await WorkerSqliteEventStore.open(path);
    stores.push(again);
    expect((await again.readFrames('a')).map((entry) => entry.seq)).toEqual([1, 2]);
    expect(await again.lastPosition('a')).toEqual({ position: 3, seq: 2 });
  });

  it('rejects a file that is not a Parley log with log_unavailable, saying which file', async () => {
    const path = nextPath();
    writeFileSync(path, 'not a database at all, just some text that is long enough '.repeat(200));
    const opening = WorkerSqliteEventStore.open(path);
    await expect(opening).rejects.toBeInstanceOf(ParleyError);
    await expect(opening).rejects.toMatchObject({ code: 'log_unavailable' });
    await expect(opening).rejects.toThrow(path);
  });

  it('settles requests in the order they were made, appends before later reads', async () => {
    const store = await WorkerSqliteEventStore.open(nextPath());
    stores.push(store);
    const appends = Array.from({ length: 50 }, (_, index) =>
      store.append([frameEntry('a', index + 1, index + 1)]),
    );
    const read = store.readFrames('a', { limit: 1000 });
    await Promise.all(appends);
    expect((await read).map((entry) => entry.seq)).toEqual(
      Array.from({ length: 50 }, (_, index) => index + 1),
    );
  });

  it('keeps a process alive until every request in flight has its reply', async () => {
    // Two appends made at once, then nothing else keeps the event loop busy: a worker left
    // unreferenced with a request in flight would let Node exit (code 13, top-level await unsettled).
    const script = `
      const { WorkerSqliteEventStore } = await import(${JSON.stringify(new URL('./worker-sqlite-store.ts', import.meta.url).href)});
      const store = await WorkerSqliteEventStore.open(${JSON.stringify(nextPath())});
      const entry = (position) => ({ v: 1, kind: 'frame', conversation_id: 'a', position, at: 1, seq: position, frame: { type: 'presence' } });
      await Promise.all([store.append([entry(1)]), store.append([entry(2)])]);
      console.log('frames', (await store.readFrames('a')).length);
      await store.close();
    `;
    expect(await runModuleScript(script)).toBe('frames 2');
  });

  it('rejects calls after close with log_unavailable', async () => {
    const store = await WorkerSqliteEventStore.open(nextPath());
    await store.close();
    await expect(store.append([partEntry('a', 1)])).rejects.toMatchObject({
      code: 'log_unavailable',
    });
    await store.close();
  });
});
