/**
 * One process owns a SQLite log file at a time. Two servers on one file would both hand out the
 * same seq numbers, and one's batches would fail or interleave with the other's. The owner holds
 * a write lock on a companion file (`<log>-lock`) for as long as it runs: the operating system
 * drops the lock when the process ends, even by kill -9, so a stale lock never blocks a restart.
 * The owner's pid, host and start time sit in the log's `meta` table, where a refused process
 * reads them to name the holder.
 */
import { statSync } from 'node:fs';
import { hostname } from 'node:os';
import Database from 'better-sqlite3';
import { ParleyError } from '../errors.js';

/** Who owns a log file, as written in its `meta` table. */
export interface LogOwner {
  pid: number;
  host: string;
  since: string;
}

/** A held lock; `release` gives it back (closing the log does). */
export interface LogFileLock {
  /** Whether the lock file is still the one locked (not removed with its directory). */
  inPlace(): boolean;
  release(): void;
}

/**
 * Takes the lock of the log at `path`, or throws a `log_unavailable` {@link ParleyError} that
 * names the file and, when `readOwner` knows it, the process that holds it.
 *
 * @example
 * const lock = lockLogFile('/var/lib/parley/parley.db', () => readOwner(db));
 */
export function lockLogFile(path: string, readOwner: () => LogOwner | undefined): LogFileLock {
  const lockPath = `${path}-lock`;
  let db: Database.Database;
  try {
    // timeout 0: a held lock is an answer, not something to wait for.
    db = new Database(lockPath, { timeout: 0 });
  } catch (error) {
    throw new ParleyError(
      'log_unavailable',
      `Cannot create the lock file ${lockPath} of the event log: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  try {
    // A write transaction left open: SQLite's RESERVED lock (an fcntl lock on the file) is held
    // until this connection closes or the process ends. SQLite also sees a second connection in
    // the same process, so a second store on one file is refused there too.
    db.exec('BEGIN IMMEDIATE');
  } catch (error) {
    db.close();
    const busy = (error as { code?: unknown }).code === 'SQLITE_BUSY';
    if (!busy) {
      throw new ParleyError(
        'log_unavailable',
        `Cannot lock the event log ${path}: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
    let owner: LogOwner | undefined;
    try {
      owner = readOwner();
    } catch {
      owner = undefined;
    }
    const holder =
      owner === undefined
        ? 'another process'
        : `process ${owner.pid} on ${owner.host} (its owner since ${owner.since})`;
    throw new ParleyError(
      'log_unavailable',
      `The event log ${path} is in use by ${holder}: one process owns a SQLite log file at a time. Stop that process, or give this one its own file (PARLEY_DB).`,
      { details: { path, ...(owner === undefined ? {} : { owner_pid: owner.pid }) } },
    );
  }
  const identity = statSync(lockPath, { throwIfNoEntry: false });
  return {
    inPlace() {
      try {
        const now = statSync(lockPath, { throwIfNoEntry: false });
        return now !== undefined && now.ino === identity?.ino && now.dev === identity.dev;
      } catch {
        return false;
      }
    },
    release() {
      if (db.open) db.close();
    },
  };
}

/** This process as a log's owner. */
export function currentOwner(now: () => number = Date.now): LogOwner {
  return { pid: process.pid, host: hostname(), since: new Date(now()).toISOString() };
}
