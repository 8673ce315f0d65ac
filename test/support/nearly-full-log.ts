/**
 * A real full disk for the event log: a SQLite log file whose `filler` conversation takes most of
 * it, for a store opened with `maxPageCount` a few pages above its size, so that the server's
 * next writes fail with a real `SQLITE_FULL`. `makeRoom()` deletes the filler, and the writes
 * succeed again.
 */
import Database from 'better-sqlite3';
import { SqliteEventStore } from '../../src/event-log/sqlite-store.js';

export async function nearlyFullLog(path: string) {
  await SqliteEventStore.open(path).close();
  const editor = new Database(path);
  const filler = editor.prepare(
    `INSERT INTO entries (conversation_id, position, seq, kind, frame_type, to_connection, at, body)
     VALUES ('filler', ?, NULL, 'input', NULL, NULL, 0, ?)`,
  );
  for (let position = 1; position <= 40; position += 1) filler.run(position, 'x'.repeat(2000));
  const pages = editor.pragma('page_count', { simple: true }) as number;
  editor.pragma('wal_checkpoint(TRUNCATE)');
  return {
    /** The page cap to open the server's store with. */
    maxPageCount: pages + 4,
    /** Frees the filler's pages (and closes the file's second connection). */
    makeRoom() {
      editor.prepare(`DELETE FROM entries WHERE conversation_id = 'filler'`).run();
      editor.close();
    },
  };
}
