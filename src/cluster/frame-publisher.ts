/**
 * The owner's side of a conversation's frame stream: the frames the log has committed go to the
 * conversation's Redis Stream, which the other instances follow. Frames published together go in
 * one stream entry (up to `maxFramesPerEntry`), and one call is one pipeline, so a tick's frames
 * of every conversation cost one write and one `XADD` per conversation; the stream is trimmed with
 * `MAXLEN ~` (followers that fall further behind repair from the event log) and expires when the
 * conversation goes quiet.
 */
import type { Redis } from 'ioredis';
import { clusterUnavailable } from './cluster-error.js';
import { clusterKeys, type ClusterKeys } from './cluster-keys.js';
import { encodeEntryFields, streamIdFor, type ClusterFrame } from './frame-stream-entry.js';

/** Options for {@link FramePublisher}. */
export interface FramePublisherOptions {
  /** Key names. @default clusterKeys('parley:') */
  keys?: ClusterKeys;
  /** Entries kept per stream, roughly (`MAXLEN ~`). @default 10_000 */
  maxLength?: number;
  /**
   * Frames carried by one entry at most: a follower reads `count` entries per stream at a time, so
   * this bounds what one read holds in memory (a log that recovers from an outage commits many
   * frames at once; a tick of a streamed answer commits about ten per conversation). @default 32
   */
  maxFramesPerEntry?: number;
  /** A stream with no new frame for this long is deleted. @default 3_600_000 */
  idleTtlMs?: number;
}

/**
 * Publishes conversation frames on their streams.
 *
 * @example
 * const publisher = new FramePublisher(redis);
 * log.afterDurable(() => void publisher.publish('demo', [{ seq: 12, text: JSON.stringify(frame) }]));
 */
export class FramePublisher {
  readonly #redis: Redis;
  readonly #keys: ClusterKeys;
  readonly #maxLength: number;
  readonly #maxFramesPerEntry: number;
  readonly #idleTtlMs: number;

  constructor(redis: Redis, options: FramePublisherOptions = {}) {
    this.#redis = redis;
    this.#keys = options.keys ?? clusterKeys();
    this.#maxLength = positiveInteger('maxLength', options.maxLength ?? 10_000);
    this.#maxFramesPerEntry = positiveInteger('maxFramesPerEntry', options.maxFramesPerEntry ?? 32);
    this.#idleTtlMs = positiveInteger('idleTtlMs', options.idleTtlMs ?? 3_600_000);
  }

  /**
   * Appends the frames, in order, to the conversation's stream. Call it only with frames the event
   * log has committed, in seq order: a follower that misses one reads it from the log. Rejects
   * with `cluster_unavailable` when any frame could not be added (those before it may have been).
   */
  async publish(conversationId: string, frames: readonly ClusterFrame[]): Promise<void> {
    const failed = await this.publishAll(new Map([[conversationId, frames]]));
    const error = failed.get(conversationId);
    if (error !== undefined) throw error;
  }

  /**
   * {@link publish} for several conversations in one pipeline. Resolves with the conversations
   * whose frames could not all be added, each with its `cluster_unavailable` error.
   */
  async publishAll(
    batches: ReadonlyMap<string, readonly ClusterFrame[]>,
  ): Promise<Map<string, Error>> {
    const pipeline = this.#redis.pipeline();
    // The conversation of each command, in pipeline order, to map replies back to it.
    const commands: string[] = [];
    for (const [conversationId, frames] of batches) {
      if (frames.length === 0) continue;
      const key = this.#keys.frames(conversationId);
      for (let from = 0; from < frames.length; from += this.#maxFramesPerEntry) {
        const entry = frames.slice(from, from + this.#maxFramesPerEntry);
        // The highest seq, not the last one: a direct frame queued when its callback ran says the
        // seq current then, which an event queued after it may not have reached.
        let highest = 0;
        for (const frame of entry) highest = Math.max(highest, frame.seq);
        pipeline.xadd(
          key,
          'MAXLEN',
          '~',
          this.#maxLength,
          streamIdFor(highest),
          ...encodeEntryFields(entry),
        );
        commands.push(conversationId);
      }
      pipeline.pexpire(key, this.#idleTtlMs);
      commands.push(conversationId);
    }
    const failed = new Map<string, Error>();
    if (commands.length === 0) return failed;
    const fail = (conversationId: string, error: unknown) => {
      if (failed.has(conversationId)) return;
      const count = batches.get(conversationId)?.length ?? 0;
      const context = `Publishing ${count} frames of ${conversationId} failed`;
      failed.set(conversationId, clusterUnavailable(context, error));
    };
    let results: [Error | null, unknown][] | null;
    try {
      results = await pipeline.exec();
    } catch (error) {
      for (const conversationId of new Set(commands)) fail(conversationId, error);
      return failed;
    }
    results?.forEach(([error], index) => {
      const conversationId = commands[index];
      if (error !== null && conversationId !== undefined) fail(conversationId, error);
    });
    return failed;
  }
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${value}.`);
  }
  return value;
}
