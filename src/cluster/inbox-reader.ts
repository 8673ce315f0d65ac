/**
 * The owner's side of input forwarding: reads this instance's inbox stream through a consumer
 * group, so that a record is delivered again until it is acknowledged, and drops records whose id
 * it has just delivered (the resends of at-least-once forwarding).
 *
 * A subscription first takes the records that an earlier run of this instance read but never
 * acknowledged (it crashed, or stopped before handling them), then blocks for new ones on a
 * connection of its own.
 */
import type { Redis } from 'ioredis';
import { Observable, type Subscriber } from 'rxjs';
import { clusterUnavailable } from './cluster-error.js';
import { clusterKeys, type ClusterKeys } from './cluster-keys.js';
import { decodeInboundRecord, type InboundRecord } from './inbound-record.js';
import { RecentIds } from './recent-ids.js';

/** A record handed to the owner, with its acknowledgement. */
export interface InboxDelivery {
  record: InboundRecord;
  /**
   * Marks the record handled (call it once its input is in the event log), so that it is not
   * delivered again after a restart. Rejects with `cluster_unavailable`.
   */
  ack(): Promise<void>;
}

/** Options for {@link InboxReader}. */
export interface InboxReaderOptions {
  /** This instance's id: whose inbox to read, and the consumer's name. */
  instanceId: string;
  /** Key names. @default clusterKeys('parley:') */
  keys?: ClusterKeys;
  /** The consumer group. @default 'parley' */
  group?: string;
  /** Longest a read blocks before it starts again. @default 5_000 */
  blockMs?: number;
  /** Records per read. @default 100 */
  count?: number;
  /** Record ids remembered for dropping duplicates. @default 10_000 */
  dedupeWindow?: number;
  /** Waits before retrying a failed read; the last one repeats. @default [50, 250, 1000, 5000] */
  retryDelaysMs?: readonly number[];
  /** Told about failed reads (retried) and entries that are not records (skipped). */
  onError?: (error: Error) => void;
}

type Entries = [id: string, fields: string[] | null][];

/**
 * Reads the inputs forwarded to this instance.
 *
 * @example
 * new InboxReader(redis, { instanceId: 'parley-1' }).records().subscribe(({ record, ack }) => {
 *   conversation(record.conversation_id).send(record.input);
 *   log.afterDurable(() => void ack());
 * });
 */
export class InboxReader {
  readonly #redis: Redis;
  readonly #key: string;
  readonly #options: Required<Omit<InboxReaderOptions, 'keys'>>;

  constructor(redis: Redis, options: InboxReaderOptions) {
    this.#redis = redis;
    this.#key = (options.keys ?? clusterKeys()).inbox(options.instanceId);
    this.#options = {
      instanceId: options.instanceId,
      group: options.group ?? 'parley',
      blockMs: options.blockMs ?? 5_000,
      count: options.count ?? 100,
      dedupeWindow: options.dedupeWindow ?? 10_000,
      retryDelaysMs: options.retryDelaysMs ?? [50, 250, 1000, 5000],
      onError: options.onError ?? (() => undefined),
    };
  }

  /** The records, oldest first; reading runs while subscribed, on its own connection. */
  records(): Observable<InboxDelivery> {
    return new Observable<InboxDelivery>((subscriber) => {
      const reader = this.#redis.duplicate();
      reader.on('error', () => undefined);
      let stopped = false;
      void this.#readLoop(reader, subscriber, () => stopped);
      return () => {
        stopped = true;
        reader.disconnect();
      };
    });
  }

  async #readLoop(
    reader: Redis,
    subscriber: Subscriber<InboxDelivery>,
    stopped: () => boolean,
  ): Promise<void> {
    const { group, instanceId, count, blockMs } = this.#options;
    const seen = new RecentIds(this.#options.dedupeWindow);
    /** Where the records of an earlier run still to acknowledge are read from; null once done. */
    let pendingFrom: string | null = '0';
    let groupReady = false;
    let failures = 0;
    while (!stopped()) {
      try {
        if (!groupReady) {
          await this.#createGroup(reader);
          groupReady = true;
        }
        let reply: [key: string, entries: Entries][] | null;
        if (pendingFrom === null) {
          reply = await reader.xreadgroup(
            'GROUP',
            group,
            instanceId,
            'COUNT',
            count,
            'BLOCK',
            blockMs,
            'STREAMS',
            this.#key,
            '>',
          );
        } else {
          reply = await reader.xreadgroup(
            'GROUP',
            group,
            instanceId,
            'COUNT',
            count,
            'STREAMS',
            this.#key,
            pendingFrom,
          );
        }
        failures = 0;
        const entries: Entries = reply?.[0]?.[1] ?? [];
        if (pendingFrom !== null) pendingFrom = entries.at(-1)?.[0] ?? null;
        for (const [id, fields] of entries) {
          if (stopped()) return;
          this.#deliver(id, fields, seen, subscriber);
        }
      } catch (error) {
        if (stopped()) return;
        this.#options.onError(
          clusterUnavailable(`Reading the inbox of ${instanceId} failed`, error),
        );
        const delays = this.#options.retryDelaysMs;
        const delay = delays[Math.min(failures++, delays.length - 1)] ?? 1000;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  #deliver(
    id: string,
    fields: string[] | null,
    seen: RecentIds,
    subscriber: Subscriber<InboxDelivery>,
  ): void {
    const ack = () => this.#ack(id);
    const record = decodeInboundRecord(fields);
    if (record === undefined) {
      // A record trimmed away before it was read has no fields; anything else is not ours.
      this.#options.onError(
        new Error(`Entry ${id} of ${this.#key} is not an inbound record; skipped.`),
      );
      ack().catch(() => undefined);
      return;
    }
    if (!seen.add(record.id)) {
      ack().catch(() => undefined);
      return;
    }
    subscriber.next({ record, ack });
  }

  async #ack(id: string): Promise<void> {
    try {
      await this.#redis.xack(this.#key, this.#options.group, id);
    } catch (error) {
      throw clusterUnavailable(`Acknowledging inbox entry ${id} failed`, error);
    }
  }

  /** Creates the group at the stream's start, so records forwarded before it are read too. */
  async #createGroup(reader: Redis): Promise<void> {
    try {
      await reader.xgroup('CREATE', this.#key, this.#options.group, '0', 'MKSTREAM');
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('BUSYGROUP')) throw error;
    }
  }
}
