/**
 * WAL checkpoints off the server's thread, for {@link SqliteEventStore}.
 *
 * Over 300 lines because the bounds listed below share one piece of state, the checkpoint in flight: the
 * catch-up waits for it, the inline bound and the fallback end it, the idle stop follows it.
 * Split apart, each part would have to reach into the others'.
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
 *   never paused long enough for the WAL to restart), the next commit waits for one more
 *   background checkpoint, the catch-up ({@link BackgroundCheckpointer.beforeCommit}). Nothing is
 *   written while it runs, so it copies everything and the WAL restarts at that commit. The event
 *   loop goes on meanwhile: only the log's writes wait, not the thread. (Before, the writer's
 *   thread ran that checkpoint itself, fsyncs included: a 15-20 ms stall every 100 commits under
 *   sustained load.)
 * - A catch-up that takes longer than `catchUpMs` lets the commits go on. If the WAL outgrows
 *   4 × `maxWalPages` even so (a disk too slow for the worker ever to catch up), the writer's
 *   thread runs one PASSIVE checkpoint itself, exactly what SQLite would have done inline.
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
  /** Checkpoints the writer's thread ran because the WAL outgrew 4 × `maxWalPages`. */
  inline: number;
  /** Of the background checkpoints, catch-ups that a commit waited for. */
  catchUps: number;
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
  /** WAL pages above which the next commit waits for a catch-up checkpoint. */
  maxWalPages: number;
  /** The longest a commit waits for a catch-up checkpoint. @default 1000 */
  catchUpMs?: number;
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
    catchUps: 0,
    walPages: 0,
    threads: 0,
  };
  readonly #options: BackgroundCheckpointerOptions;
  #worker: Worker | undefined;
  #commits = 0;
  #running = false;
  #closed = false;
  #idleTimer: NodeJS.Timeout | undefined;
  /** The last background checkpoint left the WAL over `maxWalPages`: the next commit waits. */
  #catchUpDue = false;
  /** The running checkpoint is a catch-up. */
  #catchUpRunning = false;
  /** Called with each reply of the worker (or at a failure or close): the waits of catch-ups. */
  readonly #replyWaiters = new Set<() => void>();

  constructor(options: BackgroundCheckpointerOptions) {
    this.#options = options;
  }

  /** Counts one commit; asks for a checkpoint when enough have been made and none is running. */
  committed(): void {
    if (this.stats.mode === 'inline' || this.#closed) return;
    this.#commits += 1;
    if (this.#running || this.#commits < this.#options.everyCommits) return;
    this.#commits = 0;
    this.#request();
  }

  /**
   * Before a commit: undefined to go on at once, or a promise to await first, when the last
   * background checkpoint left the WAL over `maxWalPages`. The promise asks the worker for a
   * catch-up checkpoint (after the one running, if any) and settles with its reply, at a
   * failure or close, or after `catchUpMs`; it never rejects.
   *
   * @example
   * await checkpointer.beforeCommit();
   * transaction(entries);
   * checkpointer.committed();
   */
  beforeCommit(): Promise<void> | undefined {
    if (!this.#catchUpDue) return undefined;
    this.#catchUpDue = false;
    if (this.stats.mode === 'inline' || this.#closed) return undefined;
    return this.#catchUp();
  }

  async #catchUp(): Promise<void> {
    const deadline = Date.now() + (this.#options.catchUpMs ?? 1000);
    // A checkpoint already running started before the last commits: wait for it, then ask again.
    while (this.#running) {
      if (!(await this.#nextReply(deadline))) return;
    }
    if (this.stats.mode === 'inline' || this.#closed) return;
    this.#request(true);
    await this.#nextReply(deadline);
  }

  /** True at the worker's next reply (or failure, or close); false once `deadline` passed. */
  #nextReply(deadline: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(
        () => {
          this.#replyWaiters.delete(done);
          resolve(false);
        },
        Math.max(0, deadline - Date.now()),
      );
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.#replyWaiters.add(done);
    });
  }

  #wakeWaiters(): void {
    const waiters = [...this.#replyWaiters];
    this.#replyWaiters.clear();
    for (const wake of waiters) wake();
  }

  #request(catchUp = false): void {
    this.#running = true;
    this.#catchUpRunning = catchUp;
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
    this.#wakeWaiters();
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
    const catchUp = this.#catchUpRunning;
    this.#catchUpRunning = false;
    if (this.#closed || this.stats.mode === 'inline') return;
    if (!reply.ok) {
      this.#fail(new Error(reply.message));
      return;
    }
    if (catchUp) this.stats.catchUps += 1;
    this.#record(reply, 'background');
    const { maxWalPages } = this.#options;
    if (reply.walPages > maxWalPages * 4) {
      // The catch-ups do not keep up with the writes: the WAL must not grow without a bound.
      this.#record(this.#options.checkpointInline(), 'inline');
    } else if (reply.walPages > maxWalPages && !catchUp) {
      // A catch-up's WAL is as large (it restarts at the next commit): it asks for no other.
      this.#catchUpDue = true;
    }
    this.#wakeWaiters();
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
    this.#wakeWaiters();
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
