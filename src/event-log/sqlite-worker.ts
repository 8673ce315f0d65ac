/**
 * The worker thread behind {@link WorkerSqliteEventStore}: it owns the SQLite file and runs a
 * {@link SqliteEventStore} on it, one request at a time, in the order they were posted.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { LogEntry } from './log-entry.js';
import { SqliteEventStore } from './sqlite-store.js';
import type { WorkerSqliteEventStoreOptions } from './worker-sqlite-store.js';
import { toWorkerFailure, type WorkerReply, type WorkerRequest } from './sqlite-worker-protocol.js';

const port = parentPort;
if (port === null) throw new Error('sqlite-worker must run in a worker thread.');
const { path, options } = workerData as { path: string; options: WorkerSqliteEventStoreOptions };

let store: SqliteEventStore;
try {
  // This thread is already off the server's: checkpoints can run inline here.
  store = SqliteEventStore.open(path, { ...options, checkpoints: 'inline' });
  port.postMessage({ id: 0, ok: true, value: undefined } satisfies WorkerReply);
} catch (error) {
  port.postMessage({ id: 0, ok: false, error: toWorkerFailure(error) } satisfies WorkerReply);
  port.close();
  process.exit(0);
}

async function run(request: WorkerRequest): Promise<unknown> {
  switch (request.op) {
    case 'append':
      // The batch comes as one JSON string: one serialization on the caller's thread, no
      // structured clone of every entry object.
      return store.append(JSON.parse(request.batch) as LogEntry[]);
    case 'readEntries':
      return store.readEntries(request.conversationId, request.options);
    case 'readFrames':
      return store.readFrames(request.conversationId, request.range);
    case 'lastPosition':
      return store.lastPosition(request.conversationId);
    case 'firstRetainedSeq':
      return store.firstRetainedSeq(request.conversationId);
    case 'listConversations':
      return store.listConversations(request.options);
    case 'idleConversations':
      return store.idleConversations(request.before, request.limit);
    case 'deleteConversation':
      return store.deleteConversation(request.conversationId);
    case 'sizeBytes':
      return store.sizeBytes();
    case 'close':
      return store.close();
  }
}

port.on('message', (request: WorkerRequest) => {
  // better-sqlite3 is synchronous: each promise is already settled, so requests run in order.
  run(request).then(
    (value) => {
      port.postMessage({ id: request.id, ok: true, value } satisfies WorkerReply);
      if (request.op === 'close') port.close();
    },
    (error: unknown) => {
      port.postMessage({
        id: request.id,
        ok: false,
        error: toWorkerFailure(error),
      } satisfies WorkerReply);
    },
  );
});
