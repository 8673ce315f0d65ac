/**
 * Nothing acknowledged is lost (issue 14): real faults on a real SQLite file, for the log written
 * from the server's thread and from a worker thread. A client counts every event it received;
 * after the server is gone, each must be in the file, with the same body.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventStore } from '../src/event-log/event-store.js';
import { SqliteEventStore } from '../src/event-log/sqlite-store.js';
import { WorkerSqliteEventStore } from '../src/event-log/worker-sqlite-store.js';
import { createLogger } from '../src/logger.js';
import type { ServerFrame } from '../src/protocol/frames.js';
import { startParleyProcess } from './support/parley-process.js';
import { connectClient, eventFrames, type TestClient } from './support/test-client.js';
import { nearlyFullLog } from './support/nearly-full-log.js';
import { startTestServer } from './support/test-server.js';

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) {
    rmSync(directory, { recursive: true, force: true });
  }
});

function temporaryDirectory(): string {
  const directory = mkdtempSync(join(tmpdir(), 'parley-log-faults-'));
  directories.push(directory);
  return directory;
}

const THREADS = ['main', 'worker'] as const;

/** Opens the store the way the server would for that thread, with a page cap when given. */
async function openStore(
  thread: (typeof THREADS)[number],
  path: string,
  maxPageCount?: number,
): Promise<EventStore> {
  const options = maxPageCount === undefined ? {} : { maxPageCount };
  return thread === 'main'
    ? SqliteEventStore.open(path, options)
    : WorkerSqliteEventStore.open(path, options);
}

/** Events the client received that the file at `path` does not hold (or holds otherwise). */
function missingFromLog(path: string, conversationId: string, received: ServerFrame[]): number[] {
  const db = new Database(path, { readonly: true });
  try {
    const bodies = new Map(
      db
        .prepare<[string], { seq: number; body: string }>(
          `SELECT seq, body FROM entries
           WHERE conversation_id = ? AND kind = 'frame' AND to_connection IS NULL`,
        )
        .all(conversationId)
        .map((row) => [row.seq, (JSON.parse(row.body) as { frame: unknown }).frame]),
    );
    return eventFrames(received)
      .filter((frame) => JSON.stringify(bodies.get(frame.seq)) !== JSON.stringify(frame))
      .map((frame) => frame.seq);
  } finally {
    db.close();
  }
}

function expectGapless(client: TestClient): void {
  const seqs = eventFrames(client.frames).map((frame) => frame.seq);
  expect(seqs).toEqual(seqs.map((_, index) => index + 1));
}

async function health(url: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${url}/health`);
  return (await response.json()) as Record<string, unknown>;
}

/**
 * Sets or clears the immutable attribute (`chattr +i`): the way to make files unwritable while
 * running that also stops root, which these tests run as and which `chmod` does not stop. On
 * ext4 it refuses even writes through descriptors opened before (EPERM), as a read-only remount
 * would, but a remount is refused while files are open for writing.
 */
function setImmutable(paths: readonly string[], immutable: boolean): void {
  execFileSync('chattr', [immutable ? '+i' : '-i', ...paths]);
}

describe.each(THREADS)('the event log written by the %s thread', (thread) => {
  it('holds every frame while the disk is full (SQLITE_FULL), stops input, and delivers in order once there is room', async () => {
    const directory = temporaryDirectory();
    const path = join(directory, 'parley.db');
    const disk = await nearlyFullLog(path);

    const store = await openStore(thread, path, disk.maxPageCount);
    const server = await startTestServer({ store, tokenPacingMs: 5 });
    const alice = await connectClient(server.url, 'full', 'alice');
    alice.send({ type: 'user_message', content: 'what can you do?' });

    const error = await alice.waitForType('error', (frame) => frame.code === 'log_unavailable');
    expect(error.message).toMatch(/^The event log cannot be written/);
    const degraded = await health(server.url);
    expect(degraded.status).toBe('degraded');
    expect(String(degraded.reason)).toMatch(/full/);
    // No input while the log cannot take it.
    alice.send({ type: 'user_message', content: 'hello?' });
    await alice.waitForType(
      'error',
      (frame) => frame.code === 'log_unavailable' && frame.in_reply_to === 'user_message',
    );
    const before = eventFrames(alice.frames).length;
    expect(eventFrames(alice.frames).some((f) => f.type === 'agent_response_complete')).toBe(false);

    // Room again: the held frames are written, then delivered in order.
    disk.makeRoom();
    const complete = await alice.waitForType('agent_response_complete');
    expect(complete.status).toBe('completed');
    expect(eventFrames(alice.frames).length).toBeGreaterThan(before);
    expectGapless(alice);
    expect((await health(server.url)).status).toBe('ok');
    expect((await health(server.url)).database_bytes).toBeGreaterThan(0);

    await server.close();
    expect(missingFromLog(path, 'full', alice.frames)).toEqual([]);
  });

  it('restarts a conversation from the log when more entries wait than PARLEY_LOG_MAX_PENDING during a full disk: no seq is skipped', async () => {
    const directory = temporaryDirectory();
    const path = join(directory, 'parley.db');
    const disk = await nearlyFullLog(path);

    const store = await openStore(thread, path, disk.maxPageCount);
    // A limit the answer's tokens pass while the disk is full; the server says when one is refused.
    let refused: () => void = () => undefined;
    const overflowed = new Promise<void>((resolve) => {
      refused = resolve;
    });
    const logger = createLogger(
      'error',
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          if (chunk.toString('utf8').includes('waiting to be written (limit 30)')) refused();
          done();
        },
      }),
    );
    const server = await startTestServer({ store, tokenPacingMs: 2, logMaxPending: 30, logger });
    const alice = await connectClient(server.url, 'overflow', 'alice');
    alice.send({ type: 'user_message', content: 'what can you do?' });
    // The answer streams into the held queue until the limit refuses a token; from then on the
    // conversation is silent. Room again: what was held is written and sent, then the socket
    // closes with 1012.
    await overflowed;
    disk.makeRoom();
    expect(await alice.closed).toMatchObject({ code: 1012, reason: 'log_unavailable' });

    // Resumed: the restarted conversation ends the cut-off turn after the last logged seq.
    const since = eventFrames(alice.frames).at(-1)?.seq ?? 0;
    const again = await connectClient(server.url, 'overflow', 'alice', {
      query: `user_id=alice&since=${since}`,
    });
    const complete = await again.waitForType('agent_response_complete');
    expect(complete.status).toBe('interrupted');
    const seqs = [...eventFrames(alice.frames), ...eventFrames(again.frames)].map((f) => f.seq);
    expect(seqs).toEqual(seqs.map((_, index) => index + 1));
    again.send({ type: 'user_message', content: 'What is 2 + 2?' });
    await again.waitForType('agent_response_complete', (frame) => frame.content === '2 + 2 = 4.');
    const after = eventFrames(again.frames).map((frame) => frame.seq);
    expect(after).toEqual(after.map((_, index) => (after[0] ?? 0) + index));

    await again.close();
    await server.close();
    expect(missingFromLog(path, 'overflow', [...alice.frames, ...again.frames])).toEqual([]);
  });

  it('rebuilds its file when the directory is removed while running, and holds frames while it cannot', async () => {
    const directory = join(temporaryDirectory(), 'data');
    const path = join(directory, 'parley.db');
    const server = await startTestServer({
      store: await openStore(thread, path),
      tokenPacingMs: 5,
    });
    const alice = await connectClient(server.url, 'gone', 'alice');
    alice.send({ type: 'user_message', content: 'what can you do?' });
    await alice.waitForType('agent_response_chunk', (frame) => frame.index === 3);

    // The directory goes, and a file stands where it was: the log cannot be rebuilt yet.
    rmSync(directory, { recursive: true, force: true });
    writeFileSync(directory, 'in the way');
    await alice.waitForType('error', (frame) => frame.code === 'log_unavailable');
    expect((await health(server.url)).status).toBe('degraded');
    const held = eventFrames(alice.frames).length;

    rmSync(directory);
    const complete = await alice.waitForType('agent_response_complete');
    expect(complete.status).toBe('completed');
    expect(eventFrames(alice.frames).length).toBeGreaterThan(held);
    expectGapless(alice);

    // A file removed alone is rebuilt before the next write, with nothing lost either.
    rmSync(path);
    alice.send({ type: 'user_message', content: 'What is 2 + 2?' });
    await alice.waitForType('agent_response_complete', (frame) => frame.seq > complete.seq);
    expectGapless(alice);

    await server.close();
    expect(eventFrames(alice.frames).length).toBeGreaterThan(10);
    expect(missingFromLog(path, 'gone', alice.frames)).toEqual([]);
  });

  it('holds every frame while its directory and files are made unwritable while running, and delivers once they are writable again', async () => {
    const directory = join(temporaryDirectory(), 'data');
    mkdirSync(directory);
    const path = join(directory, 'parley.db');
    const server = await startTestServer({
      store: await openStore(thread, path),
      tokenPacingMs: 5,
    });
    const alice = await connectClient(server.url, 'frozen', 'alice');
    alice.send({ type: 'user_message', content: 'what can you do?' });
    await alice.waitForType('agent_response_chunk', (frame) => frame.index === 3);

    // Everything SQLite writes with write(2): the directory, the file and its WAL. Not the
    // `-shm`, which SQLite maps into memory: a store into a mapped page of an immutable file is
    // a SIGBUS that kills the process, a different fault from a write that fails.
    const locked = [directory, path, `${path}-wal`].filter((file) => existsSync(file));
    expect(locked).toContain(`${path}-wal`);
    setImmutable(locked, true);
    let held: number;
    try {
      const error = await alice.waitForType('error', (frame) => frame.code === 'log_unavailable');
      expect(error.message).toMatch(/^The event log cannot be written/);
      const degraded = await health(server.url);
      expect(degraded.status).toBe('degraded');
      // SQLite's SQLITE_IOERR_WRITE for the EPERM the kernel answers.
      expect(String(degraded.reason)).toMatch(/disk I\/O error/);
      held = eventFrames(alice.frames).length;
      expect(eventFrames(alice.frames).some((f) => f.type === 'agent_response_complete')).toBe(
        false,
      );
    } finally {
      setImmutable(locked, false);
    }

    const complete = await alice.waitForType('agent_response_complete');
    expect(complete.status).toBe('completed');
    expect(eventFrames(alice.frames).length).toBeGreaterThan(held);
    expectGapless(alice);
    expect((await health(server.url)).status).toBe('ok');

    await server.close();
    expect(missingFromLog(path, 'frozen', alice.frames)).toEqual([]);
  });
});

describe('one process per SQLite log file', () => {
  it('refuses a second server on the same file, naming the file and the process that holds it', async () => {
    const directory = temporaryDirectory();
    const path = join(directory, 'parley.db');
    const first = await startParleyProcess({ PARLEY_DB: path });

    const second = startParleyProcess({ PARLEY_DB: path });

    await expect(second).rejects.toThrow(
      `The event log ${path} is in use by process ${String(first.child.pid)} on`,
    );
    // The first one goes on serving.
    const alice = await connectClient(first.url, 'owned', 'alice');
    alice.send({ type: 'user_message', content: 'What is 2 + 2?' });
    await alice.waitForType('agent_response_complete');
  });
});

describe('PARLEY_LOG_MAX_AGE', () => {
  it('removes whole conversations idle longer than the max age, never a running one', async () => {
    const path = join(temporaryDirectory(), 'parley.db');
    let clock = 1_000_000;
    const server = await startTestServer({
      database: path,
      conversationIdleMs: 0,
      logMaxAgeMs: 30_000,
      now: () => clock,
    });
    const old = await connectClient(server.url, 'old', 'alice');
    await old.close();
    // 'live' is as idle by time as 'old', but runs: bob is in it.
    const live = await connectClient(server.url, 'live', 'bob');
    while (server.engine.currentSeq('old') !== undefined) {
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    await server.engine.log.flush();
    const { store } = server.engine.log;
    expect((await store.listConversations()).map((c) => c.conversation_id).sort()).toEqual([
      'live',
      'old',
    ]);

    expect(await server.engine.expireIdleConversations(30_000)).toEqual([]);
    clock += 60_000;
    expect(await server.engine.expireIdleConversations(30_000)).toEqual(['old']);

    expect((await store.listConversations()).map((c) => c.conversation_id)).toEqual(['live']);
    // The id starts again from seq 1.
    const again = await connectClient(server.url, 'old', 'alice');
    expect(eventFrames(again.frames)[0]?.seq).toBe(1);
    await again.close();
    await live.close();
  });
});
