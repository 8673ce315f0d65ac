/**
 * The owner's side of a conversation's frame stream: each frame the log has committed goes to
 * the conversation's Redis Stream, which the other instances follow. One pipeline per call, so a
 * tick's frames cost one write; the stream is trimmed with `MAXLEN ~` (followers that fall
 * further behind repair from the event log) and expires when the conversation goes quiet.
 */
import type { Redis } from 'ioredis';
import { clusterUnavailable } from './cluster-error.js';
import { clusterKeys, type ClusterKeys } from './cluster-keys.js';
import { encodeFrameFields, streamIdFor, type ClusterFrame } from './frame-stream-entry.js';

/** Options for {@link FramePublisher}. */
export interface FramePublisherOptions {
  /** Key names. @default clusterKeys('parley:') */
  keys?: ClusterKeys;
  /** Frames kept per stream, roughly (`MAXLEN ~`). @default 10_000 */
  maxLength?: number;
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
  readonly #idleTtlMs: number;

  constructor(redis: Redis, options: FramePublisherOptions = {}) {
    this.#redis = redis;
    this.#keys = options.keys ?? clusterKeys();
    this.#maxLength = positiveInteger('maxLength', options.maxLength ?? 10_000);
    this.#idleTtlMs = positiveInteger('idleTtlMs', options.idleTtlMs ?? 3_600_000);
  }

  /**
   * Appends the frames, in order, to the conversation's stream. Call it only with frames the event
   * log has committed, in seq order: a follower that misses one reads it from the log. Rejects
   * with `cluster_unavailable` when any frame could not be added (those before it may have been).
   */
  async publish(conversationId: string, frames: readonly ClusterFrame[]): Promise<void> {
    if (frames.length === 0) return;
    const key = this.#keys.frames(conversationId);
    const pipeline = this.#redis.pipeline();
    for (const frame of frames) {
      pipeline.xadd(
        key,
        'MAXLEN',
        '~',
        this.#maxLength,
        streamIdFor(frame.seq),
        ...encodeFrameFields(frame),
      );
    }
    pipeline.pexpire(key, this.#idleTtlMs);
    const context = `Publishing ${frames.length} frames of ${conversationId} failed`;
    let results: [Error | null, unknown][] | null;
    try {
      results = await pipeline.exec();
    } catch (error) {
      throw clusterUnavailable(context, error);
    }
    const failed = results?.find(([error]) => error !== null)?.[0];
    if (failed !== undefined && failed !== null) throw clusterUnavailable(context, failed);
  }
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${value}.`);
  }
  return value;
}
