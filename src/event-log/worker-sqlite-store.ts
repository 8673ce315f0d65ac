/**
 * The embedded {@link EventStore} with SQLite on a worker thread: the same file, schema and
 * guarantees as {@link SqliteEventStore}, whose code the worker runs, but the inserts, commits and
 * WAL checkpoints (several ms each) no longer hold up the server's event loop. A batch is
 * serialized once on the caller's thread and committed in one transaction on the worker; its
 * promise settles when the commit is done, so "logged before sent" still holds.
 */
import type { Worker } from 'node:worker_threads';
import { ParleyError } from '../errors.js';
import { startModuleWorker } from '../start-worker.js';
import type { ConversationSummary, EventStore, FrameRange } from './event-store.js';
import { entryJson } from './entry-json.js';
import type { FrameEntry, LogEntry } from './log-entry.js';
import type { SqliteEventStoreOptions } from './sqlite-store.js';
import { toWorkerFailure, type WorkerReply, type WorkerRequest } from './sqlite-worker-protocol.js';

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };
/**
 * Options of {@link WorkerSqliteEventStore.open}: those of {@link SqliteEventStoreOptions} that
 * can cross to the worker. Checkpoints run inline there, already off the server's thread.
 */
export type WorkerSqliteEventStoreOptions = Pick<
  SqliteEventStoreOptions,
  'retentionPerConversation' | 'walAutocheckpointPages' | 'maxPageCount' | 'lock'
>;

type Request = WorkerRequest extends infer TRequest
  ? TRequest extends WorkerRequest
    ? Omit<TRequest, 'id'>
    : never
  : never;

/**
 * Stores log entries in a SQLite file written by a worker thread.
 *
 * @example
 * const store = await WorkerSqliteEventStore.open('data/parley.db');
 * const log = createEventLog({ store });
 */
export class WorkerSqliteEventStore implements EventStore {
  readonly #path: string;
  readonly #options: WorkerSqliteEventStoreOptions;
  readonly #pending = new Map<number, Pending>();
  #worker: Promise<Worker>;
  #nextId = 1;
  #closed = false;

  private constructor(path: string, options: WorkerSqliteEventStoreOptions) {
    this.#path = path;
    this.#options = options;
    this.#worker = this.#start();
  }

  /**
   * Starts the worker and opens (or creates) the log file at `path` in it. Rejects with a
   * `log_unavailable` {@link ParleyError} when the file cannot be opened, is not a Parley log, or
   * has another schema version.
   */
  static async open(
    path: string,
    options: WorkerSqliteEventStoreOptions = {},
  ): Promise<WorkerSqliteEventStore> {
    const store = new WorkerSqliteEventStore(path, options);
    await store.#worker;
    return store;
  }

  append(entries: readonly LogEntry[]): Promise<void> {
    // The batch's JSON array, each frame's text spliced in as it was made for the sockets.
    let batch = '[';
    for (let index = 0; index < entries.length; index += 1) {
      if (index > 0) batch += ',';
      batch += entryJson(entries[index] as LogEntry);
    }
    return this.#call({ op: 'append', batch: `${batch}]` }) as Promise<void>;
  }

  readEntries(
    conversationId: string,
    options?: { afterPosition?: number; limit?: number },
  ): Promise<LogEntry[]> {
    return this.#call({
      op: 'readEntries',
      conversationId,
      ...(options === undefined ? {} : { options }),
    }) as Promise<LogEntry[]>;
  }

  readFrames(conversationId: string, range?: FrameRange): Promise<FrameEntry[]> {
    return this.#call({
      op: 'readFrames',
      conversationId,
      ...(range === undefined ? {} : { range }),
    }) as Promise<FrameEntry[]>;
  }

  lastPosition(conversationId: string): Promise<{ position: number; seq: number } | undefined> {
    return this.#call({ op: 'lastPosition', conversationId }) as Promise<
      { position: number; seq: number } | undefined
    >;
  }

  firstRetainedSeq(conversationId: string): Promise<number | undefined> {
    return this.#call({ op: 'firstRetainedSeq', conversationId }) as Promise<number | undefined>;
  }

  listConversations(options?: { limit?: number }): Promise<ConversationSummary[]> {
    return this.#call({
      op: 'listConversations',
      ...(options === undefined ? {} : { options }),
    }) as Promise<ConversationSummary[]>;
  }

  /** Conversations whose newest entry is older than `before` (epoch ms), oldest first. */
  idleConversations(before: number, limit?: number): Promise<string[]> {
    return this.#call({
      op: 'idleConversations',
      before,
      ...(limit === undefined ? {} : { limit }),
    }) as Promise<string[]>;
  }

  /** Removes every entry of a conversation; resolves with how many there were. */
  deleteConversation(conversationId: string): Promise<number> {
    return this.#call({ op: 'deleteConversation', conversationId }) as Promise<number>;
  }

  /** The file's size in bytes. */
  sizeBytes(): Promise<number> {
    return this.#call({ op: 'sizeBytes' }) as Promise<number>;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    const closing = this.#call({ op: 'close' });
    this.#closed = true;
    try {
      await closing;
    } finally {
      await (await this.#worker.catch(() => undefined))?.terminate();
    }
  }

  /** Posts a request once the worker is up; settles with the worker's reply. */
  #call(request: Request): Promise<unknown> {
    if (this.#closed) {
      return Promise.reject(
        new ParleyError('log_unavailable', `The event log at ${this.#path} is closed.`),
      );
    }
    const id = this.#nextId++;
    const reply = new Promise<unknown>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
    });
    this.#worker.then(
      (worker) => {
        // Only a worker with work to do keeps the process alive: referenced with each request,
        // unreferenced when the last reply is in.
        worker.ref();
        worker.postMessage({ ...request, id });
      },
      (error: unknown) => {
        this.#settle({ id, ok: false, error: toWorkerFailure(error) });
      },
    );
    return reply;
  }

  #settle(reply: WorkerReply): void {
    const pending = this.#pending.get(reply.id);
    if (pending === undefined) return;
    this.#pending.delete(reply.id);
    if (reply.ok) pending.resolve(reply.value);
    else pending.reject(new ParleyError(reply.error.code, reply.error.message));
  }

  /** Starts a worker; resolves once it has opened the file, rejects if it cannot. */
  #start(): Promise<Worker> {
    const worker = startWorker({ path: this.#path, options: this.#options });
    return new Promise<Worker>((resolve, reject) => {
      let opened = false;
      let dead = false;
      worker.on('message', (reply: WorkerReply) => {
        if (reply.id !== 0) {
          this.#settle(reply);
          if (this.#pending.size === 0) worker.unref();
          return;
        }
        if (reply.ok) {
          opened = true;
          worker.unref();
          resolve(worker);
        } else {
          reject(new ParleyError(reply.error.code, reply.error.message));
        }
      });
      const fail = (reason: string) => {
        if (dead) return;
        dead = true;
        const error = new ParleyError(
          'log_unavailable',
          `The event log worker for ${this.#path} ${reason}.`,
        );
        if (!opened) {
          reject(error);
          return;
        }
        // Every request in flight fails, and so does every later one: the event log reports
        // them (log_unavailable) and delivery goes on, as with a main-thread store whose disk
        // fails. A server whose log worker died needs a restart.
        this.#worker = Promise.reject(error);
        this.#worker.catch(() => undefined);
        for (const [id] of this.#pending) {
          this.#settle({ id, ok: false, error: toWorkerFailure(error) });
        }
      };
      worker.on('error', (error) => {
        fail(`failed: ${error.message}`);
      });
      worker.on('exit', (code) => {
        fail(`exited with code ${code}`);
      });
    });
  }
}

/** Starts sqlite-worker.js (or .ts, under tsx and vitest) next to this module. */
function startWorker(workerData: { path: string; options: WorkerSqliteEventStoreOptions }): Worker {
  return startModuleWorker(import.meta.url, 'sqlite-worker', workerData);
}
