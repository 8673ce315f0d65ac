/**
 * WAL checkpoints off the server's thread, for {@link SqliteEventStore}.
 *
 * SQLite's own (inline) checkpoint runs inside the commit that crosses the threshold, and with
 * `synchronous = NORMAL` it fsyncs the WAL and the database: 10-15 ms on these machines, during
 * which the event loop, and every conversation's tokens with it, waits. Here a worker thread opens
 * its own connection to the same file and runs PASSIVE checkpoints when asked. A PASSIVE
 * checkpoint never blocks the writer, which keeps committing meanwhile; SQLite restarts the WAL
 * at the first commit after a checkpoint that copied everything.
 *
 * Bounds:
 * - One checkpoint at a time, asked for every `everyCommits` commits.
 * - When the WAL still holds more than `maxWalPages` after a background checkpoint (the writer
 *   never paused long enough for the WAL to restart), the writer's thread runs one PASSIVE
 *   checkpoint itself, exactly what SQLite would have done inline.
 * - When the worker fails (it cannot open the file, throws, or exits), the store goes back to
 *   SQLite's inline checkpoints for good and says why through `onFailure`.
 * - The worker starts at the first checkpoint, so a store that is barely written never has one,
 *   and stops after `idleMs` without one, so an idle server does not keep its ~10 MiB.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';

/** What one checkpoint reported, in WAL pages. */
export interface CheckpointResult {
  /** Pages in the WAL when the checkpoint ran. */
  walPages: number;
  /** Of those, pages now copied into the database file. */
  checkpointedPages: number;
}

/** Counters of a store's checkpoints, for metrics and tests. */
export interface CheckpointStats {
  /** Where checkpoints run now: `background` until the worker fails, then `inline`. */
  mode: 'background' | 'inline';
  /** Checkpoints the worker completed. */
  background: number;
  /** Checkpoints the writer's thread ran because the WAL outgrew `maxWalPages`. */
  inline: number;
  /** WAL pages reported by the last checkpoint. */
  walPages: number;
  /** Worker threads started so far (one at a time; a new one after each idle stop). */
  threads: number;
}

/** Options of {@link BackgroundCheckpointer}. */
export interface BackgroundCheckpointerOptions {
  /** The database file, already in WAL mode. */
  path: string;
  /** Commits between two requests for a checkpoint. */
  everyCommits: number;
  /** WAL pages above which the writer's thread checkpoints itself. */
  maxWalPages: number;
  /** How long the worker waits for its next checkpoint before it stops. @default 10000 */
  idleMs?: number;
  /** Runs a PASSIVE checkpoint on the writer's own connection. */
  checkpointInline: () => CheckpointResult;
  /** Turns SQLite's inline autocheckpoint back on, once the worker has failed. */
  fallBack: () => void;
  /** Told about a worker failure (the store has already fallen back). */
  onFailure?: ((error: Error) => void) | undefined;
  /** Told about every completed checkpoint, background or inline. */
  onCheckpoint?: ((result: CheckpointResult, where: 'background' | 'inline') => void) | undefined;
}

type Reply =
  { ok: true; walPages: number; checkpointedPages: number } | { ok: false; message: string };

/**
 * The worker, as CommonJS source (`eval`), so that it runs the same from `src/` under tsx and
 * from `dist/`, and loads nothing but better-sqlite3. `fileMustExist`: a file that is gone is a
 * failure, not a new empty database.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
let db;
parentPort.on('message', (message) => {
  if (message === 'close') {
    if (db !== undefined) db.close();
    parentPort.close();
    return;
  }
  try {
    db ??= new Database(workerData.path, { fileMustExist: true, timeout: 0 });
    const [result] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ ok: true, walPages: result.log, checkpointedPages: result.checkpointed });
  } catch (error) {
    parentPort.postMessage({ ok: false, message: error instanceof Error ? error.message : String(error) });
  }
});
`;

/**
 * Asks a worker thread for a WAL checkpoint every `everyCommits` commits.
 *
 * @example
 * const checkpointer = new BackgroundCheckpointer({ path, everyCommits: 100, maxWalPages: 4000, checkpointInline, fallBack });
 * transaction(entries);
 * checkpointer.committed();
 */
export class BackgroundCheckpointer {
  readonly stats: CheckpointStats = {
    mode: 'background',
    background: 0,
    inline: 0,
    walPages: 0,
    threads: 0,
  };
  readonly #options: BackgroundCheckpointerOptions;
  #worker: Worker | undefined;
  #commits = 0;
  #running = false;
  #closed = false;
  #idleTimer: NodeJS.Timeout | undefined;

  constructor(options: BackgroundCheckpointerOptions) {
    this.#options = options;
  }

  /** Counts one commit; asks for a checkpoint when enough have been made and none is running. */
  committed(): void {
    if (this.stats.mode === 'inline' || this.#closed) return;
    this.#commits += 1;
    if (this.#running || this.#commits < this.#options.everyCommits) return;
    this.#commits = 0;
    this.#running = true;
    clearTimeout(this.#idleTimer);
    try {
      this.#worker ??= this.#start();
      this.#worker.postMessage('checkpoint');
    } catch (error) {
      this.#fail(error);
    }
  }

  /** Stops the worker after its current checkpoint, and closes its connection. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#idleTimer);
    await this.#stopWorker();
  }

  /** Lets the worker close its connection and end; its exit is not a failure. */
  async #stopWorker(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    if (worker === undefined) return;
    worker.removeAllListeners('exit');
    // Referenced until it has gone: a caller awaiting close() must keep the process alive.
    worker.ref();
    const exited = new Promise<void>((resolve) => {
      worker.once('exit', () => {
        resolve();
      });
    });
    worker.postMessage('close');
    await exited;
  }

  #start(): Worker {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { path: this.#options.path, driver },
      // The worker holds one connection and a few small objects.
      resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 2 },
    });
    // Checkpoints are housekeeping: they must not keep a process alive that is otherwise done.
    worker.unref();
    this.stats.threads += 1;
    worker.on('message', (reply: Reply) => {
      this.#settled(reply);
    });
    worker.on('error', (error) => {
      this.#fail(error);
    });
    worker.on('exit', (code) => {
      if (!this.#closed) this.#fail(new Error(`the checkpoint worker exited with code ${code}`));
    });
    return worker;
  }

  #settled(reply: Reply): void {
    this.#running = false;
    if (this.#closed || this.stats.mode === 'inline') return;
    if (!reply.ok) {
      this.#fail(new Error(reply.message));
      return;
    }
    this.#record(reply, 'background');
    if (reply.walPages > this.#options.maxWalPages) {
      this.#record(this.#options.checkpointInline(), 'inline');
    }
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => void this.#stopWorker(), this.#options.idleMs ?? 10_000);
    this.#idleTimer.unref();
  }

  #record(result: CheckpointResult, where: 'background' | 'inline'): void {
    this.stats[where] += 1;
    this.stats.walPages = result.walPages;
    this.#options.onCheckpoint?.(result, where);
  }

  #fail(cause: unknown): void {
    if (this.stats.mode === 'inline' || this.#closed) return;
    this.stats.mode = 'inline';
    this.#running = false;
    clearTimeout(this.#idleTimer);
    const worker = this.#worker;
    this.#worker = undefined;
    void worker?.terminate();
    this.#options.fallBack();
    const reason = cause instanceof Error ? cause.message : String(cause);
    this.#options.onFailure?.(
      new Error(
        `Background WAL checkpoints of ${this.#options.path} failed (${reason}); SQLite checkpoints inline from now on.`,
        { cause },
      ),
    );
  }
}

/**
 * Turns SQLite's inline checkpoint off on `db` (open on the WAL file at `path`) and hands its
 * checkpoints to a {@link BackgroundCheckpointer}, whose fallbacks run on `db`.
 *
 * @example
 * const checkpointer = startBackgroundCheckpoints(db, '/data/parley.db', { everyCommits: 100, walAutocheckpointPages: 4000 });
 */
export function startBackgroundCheckpoints(
  db: Database.Database,
  path: string,
  options: Pick<BackgroundCheckpointerOptions, 'everyCommits' | 'onFailure' | 'onCheckpoint'> & {
    walAutocheckpointPages: number;
  },
): BackgroundCheckpointer {
  const { walAutocheckpointPages: walPages, ...rest } = options;
  db.pragma('wal_autocheckpoint = 0');
  return new BackgroundCheckpointer({
    ...rest,
    path,
    // 0 turns SQLite's inline checkpoints off; here it leaves the worker alone to do them.
    maxWalPages: walPages === 0 ? Number.POSITIVE_INFINITY : walPages,
    checkpointInline: () => {
      const [row] = db.pragma('wal_checkpoint(PASSIVE)') as { log: number; checkpointed: number }[];
      return { walPages: row?.log ?? 0, checkpointedPages: row?.checkpointed ?? 0 };
    },
    fallBack: () => {
      if (db.open) db.pragma(`wal_autocheckpoint = ${walPages}`);
    },
  });
}
