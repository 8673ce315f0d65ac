/**
 * Forwards participants' inputs from the instance that serves their connection to the instance
 * that owns their conversation, through the owner's inbox stream. At least once: an attempt that
 * fails or takes too long is repeated with the same record id (the first may still land), and the
 * owner drops the duplicates by id (see inbox-reader.ts).
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { clusterUnavailable } from './cluster-error.js';
import { clusterKeys, type ClusterKeys } from './cluster-keys.js';
import type { InboundRecord } from './inbound-record.js';

/** Options for {@link InboundSender}. */
export interface InboundSenderOptions {
  /** This instance's id, the records' `from`. */
  instanceId: string;
  /** Key names. @default clusterKeys('parley:') */
  keys?: ClusterKeys;
  /** Records kept per inbox, roughly (`MAXLEN ~`). @default 10_000 */
  maxLength?: number;
  /** An inbox nobody forwards to for this long is deleted. @default 86_400_000 */
  idleTtlMs?: number;
  /** How long one attempt may take before it counts as failed. @default 2_000 */
  attemptTimeoutMs?: number;
  /** Waits before each resend; one resend per element. @default [50, 200, 1000] */
  retryDelaysMs?: readonly number[];
  /** Makes record ids. @default `${instanceId}:${randomUUID()}` */
  nextId?: () => string;
  /** The clock for `sent_at`. @default Date.now */
  now?: () => number;
}

/**
 * Forwards inputs to their conversation's owner.
 *
 * @example
 * const sender = new InboundSender(redis, { instanceId: 'parley-2' });
 * const owner = await leases.holder('demo');
 * await sender.forward(owner.holder, { conversation_id: 'demo', connection_id, input });
 */
export class InboundSender {
  readonly #redis: Redis;
  readonly #instanceId: string;
  readonly #keys: ClusterKeys;
  readonly #maxLength: number;
  readonly #idleTtlMs: number;
  readonly #attemptTimeoutMs: number;
  readonly #retryDelaysMs: readonly number[];
  readonly #nextId: () => string;
  readonly #now: () => number;

  constructor(redis: Redis, options: InboundSenderOptions) {
    this.#redis = redis;
    this.#instanceId = options.instanceId;
    this.#keys = options.keys ?? clusterKeys();
    this.#maxLength = options.maxLength ?? 10_000;
    this.#idleTtlMs = options.idleTtlMs ?? 86_400_000;
    this.#attemptTimeoutMs = options.attemptTimeoutMs ?? 2_000;
    this.#retryDelaysMs = options.retryDelaysMs ?? [50, 200, 1000];
    this.#nextId = options.nextId ?? (() => `${options.instanceId}:${randomUUID()}`);
    this.#now = options.now ?? Date.now;
  }

  /**
   * Adds the input to the owner's inbox and resolves with the record once Redis has it. Rejects
   * with `cluster_unavailable` when every attempt failed; the record may still have landed. An
   * `id` given here is the record's (the caller waits for the owner's acknowledgement of it).
   */
  async forward(
    ownerInstanceId: string,
    input: Pick<InboundRecord, 'conversation_id' | 'connection_id' | 'input'> & { id?: string },
  ): Promise<InboundRecord> {
    const record: InboundRecord = {
      id: input.id ?? this.#nextId(),
      from: this.#instanceId,
      conversation_id: input.conversation_id,
      connection_id: input.connection_id,
      input: input.input,
      sent_at: this.#now(),
    };
    const text = JSON.stringify(record);
    const key = this.#keys.inbox(ownerInstanceId);
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#attempt(key, text);
        return record;
      } catch (error) {
        const delay = this.#retryDelaysMs[attempt];
        if (delay === undefined) {
          throw clusterUnavailable(
            `Forwarding ${record.input.type} of ${record.conversation_id} to ${ownerInstanceId} failed after ${attempt + 1} attempts`,
            error,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  async #attempt(key: string, text: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`no answer from Redis within ${this.#attemptTimeoutMs} ms`));
      }, this.#attemptTimeoutMs);
    });
    const added = this.#redis
      .multi()
      .xadd(key, 'MAXLEN', '~', this.#maxLength, '*', 'r', text)
      .pexpire(key, this.#idleTtlMs)
      .exec()
      .then((results) => {
        const failed = results?.find(([error]) => error !== null)?.[0];
        if (failed !== undefined && failed !== null) throw failed;
      });
    try {
      await Promise.race([added, timeout]);
    } finally {
      clearTimeout(timer);
      // An attempt that timed out may still fail later; nobody waits for it any more.
      added.catch(() => undefined);
    }
  }
}
