/**
 * The follower's side of the frame streams: one blocking `XREAD` on a dedicated connection reads
 * every conversation this instance follows, and each follow delivers its frames in seq order with
 * no gap and no duplicate. When a follow sees a frame whose predecessors it has not seen (it fell
 * behind a trimmed stream, or an owner died between logging and publishing), it reads the missing
 * events from the event log before delivering anything later.
 *
 * While a follow repairs, it is left out of the reads, so its later frames wait in Redis rather
 * than in memory, and other conversations go on. A new follow, or the end of a repair, wakes the
 * blocked read through a private wake stream: an entry added there before the read starts is seen
 * by it too, so no wake-up is ever lost.
 *
 * Over 300 lines because reading, ordering and repairing share one follow's position (its last
 * entry id, last seq and where a repair resumes): split, each part would reach into the others.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { Observable, type Subscriber } from 'rxjs';
import { ParleyError } from '../errors.js';
import type { EventStore } from '../event-log/event-store.js';
import { clusterUnavailable } from './cluster-error.js';
import { clusterKeys, type ClusterKeys } from './cluster-keys.js';
import { decodeEntryFields, streamIdAfter, type ClusterFrame } from './frame-stream-entry.js';

/** Options for {@link FrameFollower}. */
export interface FrameFollowerOptions {
  /** Where missing frames are read from: the event log the owners write. */
  store: Pick<EventStore, 'readFrames'>;
  /** Key names. @default clusterKeys('parley:') */
  keys?: ClusterKeys;
  /** Longest a read blocks before it starts again. @default 5_000 */
  blockMs?: number;
  /**
   * Entries per stream per read. With the publisher's 32 frames per entry at most, a read holds
   * at most 512 frames per followed conversation, as when an entry carried one frame and a read
   * took 500. @default 16
   */
  count?: number;
  /** Frames per event-log read while repairing a gap. @default 500 */
  repairPageSize?: number;
  /** Waits before retrying a failed Redis or event-log read; the last one repeats. @default [50, 250, 1000, 5000] */
  retryDelaysMs?: readonly number[];
  /** Told about failed reads, which are retried (`cluster_unavailable`, `log_unavailable`). */
  onError?: (error: Error) => void;
}

interface Follow {
  conversationId: string;
  key: string;
  /** The id of the last entry taken from the stream; reads go on after it. */
  lastId: string;
  /** The highest event seq delivered. */
  lastSeq: number;
  /**
   * The seq the follow started after: an entry read first may also hold earlier direct frames,
   * which are not for this follow (a stream of one frame per entry would not have returned them).
   */
  fromSeq: number;
  /**
   * The entry (the one after `lastId`) whose frames before `index` are delivered: a repair found
   * a gap in its middle, and the read after the repair returns it again.
   */
  resume: { id: string; index: number } | undefined;
  repairing: boolean;
  closed: boolean;
  subscriber: Subscriber<ClusterFrame>;
}

/**
 * Follows conversations' frame streams for this instance's local participants.
 *
 * @example
 * const follower = new FrameFollower(redis, { store });
 * follower.follow('demo', lastSeqSent).subscribe((frame) => sendToLocalParticipants(frame));
 */
export class FrameFollower {
  readonly #writer: Redis;
  readonly #reader: Redis;
  readonly #store: Pick<EventStore, 'readFrames'>;
  readonly #keys: ClusterKeys;
  readonly #wakeKey: string;
  readonly #blockMs: number;
  readonly #count: number;
  readonly #pageSize: number;
  readonly #retryDelaysMs: readonly number[];
  readonly #onError: (error: Error) => void;
  readonly #follows = new Map<string, Follow>();
  #wakeLastId = '0-0';
  #running: Promise<void> | undefined;
  #closed = false;

  /** `redis` carries wake-ups; the blocking reads get a connection of their own (a duplicate). */
  constructor(redis: Redis, options: FrameFollowerOptions) {
    this.#writer = redis;
    this.#reader = redis.duplicate();
    // Reads are retried by the loop; the duplicate reports its own connection errors there.
    this.#reader.on('error', () => undefined);
    this.#store = options.store;
    this.#keys = options.keys ?? clusterKeys();
    this.#wakeKey = this.#keys.wake(randomUUID());
    this.#blockMs = options.blockMs ?? 5_000;
    this.#count = options.count ?? 16;
    this.#pageSize = options.repairPageSize ?? 500;
    this.#retryDelaysMs = options.retryDelaysMs ?? [50, 250, 1000, 5000];
    this.#onError = options.onError ?? (() => undefined);
  }

  /**
   * The conversation's frames after `afterSeq`: every event with a higher seq, in order, and the
   * direct frames published from then on, in stream order. Errors with `resume_unavailable` when
   * missing events are in neither the stream nor the event log. One follow per conversation at a
   * time; share it for several consumers.
   */
  follow(conversationId: string, afterSeq: number): Observable<ClusterFrame> {
    return new Observable<ClusterFrame>((subscriber) => {
      if (this.#closed) {
        subscriber.error(new ParleyError('cluster_unavailable', 'The frame follower is closed.'));
        return undefined;
      }
      if (this.#follows.has(conversationId)) {
        subscriber.error(
          new Error(`Conversation ${conversationId} is already followed; share that follow.`),
        );
        return undefined;
      }
      const follow: Follow = {
        conversationId,
        key: this.#keys.frames(conversationId),
        lastId: streamIdAfter(afterSeq),
        lastSeq: afterSeq,
        fromSeq: afterSeq,
        resume: undefined,
        repairing: false,
        closed: false,
        subscriber,
      };
      this.#follows.set(conversationId, follow);
      this.#running ??= this.#readLoop();
      this.#wake();
      return () => {
        follow.closed = true;
        if (this.#follows.get(conversationId) === follow) this.#follows.delete(conversationId);
      };
    });
  }

  /** Completes every follow, stops reading and closes the reading connection. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const follow of this.#follows.values()) {
      follow.closed = true;
      follow.subscriber.complete();
    }
    this.#follows.clear();
    this.#reader.disconnect();
    await this.#running;
    await this.#writer.unlink(this.#wakeKey).catch(() => undefined);
  }

  async #readLoop(): Promise<void> {
    let failures = 0;
    while (!this.#closed) {
      const reading = [...this.#follows.values()].filter((follow) => !follow.repairing);
      const keys = [this.#wakeKey, ...reading.map((follow) => follow.key)];
      const ids = [this.#wakeLastId, ...reading.map((follow) => follow.lastId)];
      let reply: [key: string, items: [id: string, fields: string[]][]][] | null;
      try {
        reply = await this.#reader.xread(
          'COUNT',
          this.#count,
          'BLOCK',
          this.#blockMs,
          'STREAMS',
          ...keys,
          ...ids,
        );
        failures = 0;
      } catch (error) {
        if (isClosed(this)) return;
        this.#onError(clusterUnavailable('Reading conversation frames failed', error));
        await this.#pause(failures++);
        continue;
      }
      const byKey = new Map(reading.map((follow) => [follow.key, follow]));
      for (const [key, items] of reply ?? []) {
        if (key === this.#wakeKey) {
          this.#wakeLastId = items.at(-1)?.[0] ?? this.#wakeLastId;
          continue;
        }
        const follow = byKey.get(key);
        if (follow !== undefined) this.#take(follow, items);
      }
    }
  }

  /** Delivers a follow's entries in order, or stops at the first frame that needs a repair first. */
  #take(follow: Follow, items: [id: string, fields: string[]][]): void {
    for (const [id, fields] of items) {
      const { frames, skipped } = decodeEntryFields(fields);
      if (skipped > 0) {
        this.#onError(
          new Error(
            `Entry ${id} of ${follow.key} holds ${skipped} runs of fields that are not a frame; they are skipped.`,
          ),
        );
      }
      const first = follow.resume?.id === id ? follow.resume.index : 0;
      for (let index = first; index < frames.length; index += 1) {
        if (follow.closed) return;
        const frame = frames[index] as ClusterFrame;
        // An event needs every earlier one delivered; a direct frame (or a lease release), the
        // event of its own seq.
        const event = frame.to === undefined && frame.released !== true;
        const needed = event ? frame.seq - 1 : frame.seq;
        if (needed > follow.lastSeq) {
          // lastId stays before this entry, so the read after the repair returns it again.
          follow.resume = { id, index };
          void this.#repair(follow, needed);
          return;
        }
        if (event) {
          if (frame.seq <= follow.lastSeq) continue;
          follow.lastSeq = frame.seq;
        } else if (frame.seq < follow.fromSeq) continue;
        follow.subscriber.next(frame);
      }
      follow.lastId = id;
      follow.resume = undefined;
    }
  }

  /** Reads the events after `lastSeq` up to `upTo` from the event log and delivers them. */
  async #repair(follow: Follow, upTo: number): Promise<void> {
    follow.repairing = true;
    let failures = 0;
    while (!follow.closed && follow.lastSeq < upTo) {
      let page;
      try {
        page = await this.#store.readFrames(follow.conversationId, {
          after: follow.lastSeq,
          before: upTo + 1,
          limit: this.#pageSize,
        });
        failures = 0;
      } catch (error) {
        this.#onError(error instanceof Error ? error : new Error(String(error)));
        await this.#pause(failures++);
        continue;
      }
      if (isClosed(follow)) return;
      const before = follow.lastSeq;
      for (const entry of page) {
        if (entry.seq !== follow.lastSeq + 1) break;
        follow.lastSeq = entry.seq;
        follow.subscriber.next({ seq: entry.seq, text: JSON.stringify(entry.frame) });
      }
      if (follow.lastSeq === before || (follow.lastSeq < upTo && page.length < this.#pageSize)) {
        this.#fail(follow, upTo);
        return;
      }
    }
    follow.repairing = false;
    this.#wake();
  }

  #fail(follow: Follow, upTo: number): void {
    follow.closed = true;
    this.#follows.delete(follow.conversationId);
    const from = follow.lastSeq + 1;
    follow.subscriber.error(
      new ParleyError(
        'resume_unavailable',
        `Frames ${from}-${upTo} of conversation ${follow.conversationId} are neither in its frame stream nor in the event log.`,
        { details: { conversation_id: follow.conversationId, from_seq: from, to_seq: upTo } },
      ),
    );
  }

  /** Ends the current blocking read (or the next one, if it has not started yet). */
  #wake(): void {
    if (this.#closed) return;
    this.#writer
      .multi()
      .xadd(this.#wakeKey, 'MAXLEN', 1, '*', 'w', '1')
      .pexpire(this.#wakeKey, 86_400_000)
      .exec()
      .catch((error: unknown) => {
        this.#onError(clusterUnavailable('Waking the frame reader failed', error));
      });
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  #pause(failures: number): Promise<void> {
    const delay = this.#retryDelaysMs[Math.min(failures, this.#retryDelaysMs.length - 1)] ?? 1000;
    return new Promise((resolve) => setTimeout(resolve, delay));
  }
}

/**
 * Reads `closed` after an await: TypeScript would keep the narrowing of an earlier check of the
 * property across it, though `close()` or an unsubscribe may have run meanwhile.
 */
function isClosed(subject: { readonly closed: boolean }): boolean {
  return subject.closed;
}
