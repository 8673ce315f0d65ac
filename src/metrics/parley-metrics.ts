/**
 * Parley's Prometheus metrics: one registry per server (never prom-client's global one, so two
 * servers in one process count apart), the instruments, and the few methods the engine calls at
 * its chokepoints. Labels take only bounded values (frame types, statuses, error codes, tool,
 * provider and model names), never a conversation, user or connection id.
 *
 * Over 300 lines because it is the one table of every metric: each instrument's name, help and
 * labels sit beside the method that moves it, and docs/OPERATIONS.md lists the same names.
 */
import type { Observable, Subscription } from 'rxjs';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ModelUsage } from '../agent/model.js';
import type { EngineStats } from '../engine/engine-types.js';
import { ERROR_CODE_NAMES, type ErrorCode } from '../errors.js';
import { frameTypeOf } from './frame-type.js';
import { Tally } from './tally.js';

/** Error codes that refuse work: counted in `parley_refusals_total` when sent or answered. */
const REFUSAL_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'rate_limited',
  'busy',
  'conversation_full',
  'too_many_connections',
  ...ERROR_CODE_NAMES.filter((code) => code.includes('budget')),
]);
const KNOWN_CODES: ReadonlySet<string> = new Set(ERROR_CODE_NAMES);

/** Seconds, from 5 ms to 2 minutes: turns, first tokens, tool calls. */
const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
/** Milliseconds of a store write, as seconds: 0.1 ms to 5 s. */
const LOG_SECONDS_BUCKETS = [
  0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5,
];

/** A lease event as the cluster's lease keeper reports it (`src/cluster/lease-keeper.ts`). */
export interface LeaseEventLike {
  type: 'acquired' | 'renewed' | 'released' | 'lost';
  lease: { epoch: number };
  reason?: string;
}

/**
 * The metrics of one Parley server. The engine moves them (its `metrics` option); `/metrics`
 * serves {@link ParleyMetrics.registry}.
 *
 * @example
 * const metrics = new ParleyMetrics();
 * const engine = createEngine({ config, metrics });
 * const text = await metrics.registry.metrics();
 */
export class ParleyMetrics {
  /** This server's registry: `/metrics` is its text. */
  readonly registry = new Registry();
  #stats: (() => EngineStats) | undefined;
  #defaultMetrics = false;
  readonly #framesSent = new Tally();
  readonly #framesReceived = new Tally();
  #leasesHeld = 0;

  readonly #turnsStarted: Counter;
  readonly #turnsFinished: Counter<'status'>;
  readonly #turnDuration: Histogram<'status'>;
  readonly #timeToFirstToken: Histogram;
  readonly #tokensPerSecond: Histogram;
  readonly #tokens: Counter<'provider' | 'model' | 'kind'>;
  readonly #toolCalls: Counter<'tool' | 'outcome'>;
  readonly #toolDuration: Histogram<'tool'>;
  readonly #logBatchSize: Histogram;
  readonly #logAppendSeconds: Histogram;
  readonly #logFailures: Counter<'code'>;
  readonly #slowConsumers: Counter;
  readonly #refusals: Counter<'code'>;
  readonly #providerErrors: Counter<'provider' | 'code'>;
  readonly #providerRetries: Counter<'provider' | 'code'>;
  readonly #leaseAcquisitions: Counter;
  readonly #takeovers: Counter;
  readonly #leasesLost: Counter<'reason'>;
  readonly #fencingRejections: Counter;

  constructor() {
    const registers = [this.registry];
    // Arrow functions keep this object; prom-client calls `collect` with the instrument as `this`.
    const stats = () => this.#stats?.();
    const heldLeases = () => this.#leasesHeld;
    const gauge = (name: string, help: string, read: (stats: EngineStats) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect(this: Gauge) {
          const current = stats();
          this.set(current === undefined ? 0 : read(current));
        },
      });
    gauge('parley_connections_open', 'Open WebSocket connections.', (s) => s.connections);
    gauge(
      'parley_connections_hibernated',
      'Open connections whose actor hibernates (counted in parley_connections_open).',
      (s) => s.hibernated,
    );
    gauge(
      'parley_conversations_live',
      'Conversations with a running actor.',
      (s) => s.conversations,
    );
    gauge(
      'parley_worker_pool_running',
      'Turns the worker pool is running.',
      (s) => s.turns.running,
    );
    gauge('parley_worker_pool_waiting', 'Turns waiting for a worker.', (s) => s.turns.waiting);
    gauge(
      'parley_event_log_pending',
      'Event log entries appended but not yet written to the store.',
      (s) => s.log.pending,
    );
    const framesSent = this.#framesSent;
    new Counter({
      name: 'parley_frames_sent_total',
      help: 'Frames handed to sockets, by frame type (one per recipient).',
      labelNames: ['type'],
      registers,
      collect(this: Counter<'type'>) {
        framesSent.copyTo(this, 'type');
      },
    });
    const framesReceived = this.#framesReceived;
    new Counter({
      name: 'parley_frames_received_total',
      help: 'Frames received from clients, by frame type (`invalid` for those refused at the edge).',
      labelNames: ['type'],
      registers,
      collect(this: Counter<'type'>) {
        framesReceived.copyTo(this, 'type');
      },
    });
    this.#turnsStarted = new Counter({
      name: 'parley_turns_started_total',
      help: 'Agent turns a worker started.',
      registers,
    });
    this.#turnsFinished = new Counter({
      name: 'parley_turns_finished_total',
      help: 'Agent turns completed, by status (completed, cancelled, interrupted, failed, …).',
      labelNames: ['status'],
      registers,
    });
    this.#turnDuration = new Histogram({
      name: 'parley_turn_duration_seconds',
      help: 'From a worker starting the turn to its completion frame, by status.',
      labelNames: ['status'],
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.#timeToFirstToken = new Histogram({
      name: 'parley_turn_time_to_first_token_seconds',
      help: "From a worker starting the turn to the answer's first token.",
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.#tokensPerSecond = new Histogram({
      name: 'parley_turn_tokens_per_second',
      help: 'Output tokens of a turn over the time from its first token to its completion.',
      buckets: [1, 5, 10, 20, 40, 80, 160, 320, 640, 1280],
      registers,
    });
    this.#tokens = new Counter({
      name: 'parley_model_tokens_total',
      help: 'Model tokens by provider, model and kind (input, output, cached_input, reasoning).',
      labelNames: ['provider', 'model', 'kind'],
      registers,
    });
    this.#toolCalls = new Counter({
      name: 'parley_tool_calls_total',
      help: 'Tool calls by tool and outcome (`ok` or the error code).',
      labelNames: ['tool', 'outcome'],
      registers,
    });
    this.#toolDuration = new Histogram({
      name: 'parley_tool_call_duration_seconds',
      help: 'Tool call duration by tool.',
      labelNames: ['tool'],
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.#logBatchSize = new Histogram({
      name: 'parley_event_log_batch_entries',
      help: 'Entries per event log batch (one store transaction).',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
      registers,
    });
    this.#logAppendSeconds = new Histogram({
      name: 'parley_event_log_append_seconds',
      help: 'Time to write one event log batch to the store, retries included.',
      buckets: LOG_SECONDS_BUCKETS,
      registers,
    });
    this.#logFailures = new Counter({
      name: 'parley_event_log_failures_total',
      help: 'Event log writes the store refused (each attempt), by code: log_unavailable or cluster_fenced.',
      labelNames: ['code'],
      registers,
    });
    this.#slowConsumers = new Counter({
      name: 'parley_slow_consumers_total',
      help: 'Connections closed with 1013 because their client did not read its frames.',
      registers,
    });
    this.#refusals = new Counter({
      name: 'parley_refusals_total',
      help: 'Work refused, by error code (rate_limited, busy, conversation_full, too_many_connections, budgets).',
      labelNames: ['code'],
      registers,
    });
    this.#providerErrors = new Counter({
      name: 'parley_provider_errors_total',
      help: 'Model calls that failed for good, by provider and error code.',
      labelNames: ['provider', 'code'],
      registers,
    });
    this.#providerRetries = new Counter({
      name: 'parley_provider_retries_total',
      help: 'Model calls retried before their answer began, by provider and error code.',
      labelNames: ['provider', 'code'],
      registers,
    });
    new Gauge({
      name: 'parley_cluster_leases_held',
      help: 'Conversation leases this instance holds (cluster mode).',
      registers,
      collect(this: Gauge) {
        this.set(heldLeases());
      },
    });
    this.#leaseAcquisitions = new Counter({
      name: 'parley_cluster_lease_acquisitions_total',
      help: 'Conversation leases acquired (cluster mode).',
      registers,
    });
    this.#takeovers = new Counter({
      name: 'parley_cluster_takeovers_total',
      help: 'Leases acquired of conversations another writer had before (epoch above 1).',
      registers,
    });
    this.#leasesLost = new Counter({
      name: 'parley_cluster_leases_lost_total',
      help: 'Leases lost, by reason (refused: another instance holds it; expired).',
      labelNames: ['reason'],
      registers,
    });
    this.#fencingRejections = new Counter({
      name: 'parley_cluster_fencing_rejections_total',
      help: 'Event log batches the store refused because a newer writer fenced the conversation.',
      registers,
    });
  }

  /** Where the live gauges (connections, conversations, pool, log) are read at each scrape. */
  bind(stats: () => EngineStats): void {
    this.#stats = stats;
  }

  /**
   * The registry's text, with prom-client's default process metrics (CPU, memory, event loop
   * lag, GC) registered at the first scrape: a server nobody scrapes starts no GC observer.
   */
  async text(): Promise<string> {
    if (!this.#defaultMetrics) {
      this.#defaultMetrics = true;
      collectDefaultMetrics({ register: this.registry });
    }
    return this.registry.metrics();
  }

  /** Counts a serialized frame handed to a socket. */
  frameSent(data: string): void {
    this.#framesSent.add(frameTypeOf(data));
  }

  /** Counts `count` copies of one frame of a known `type` sent at once (a broadcast). */
  framesSent(type: string, count: number): void {
    this.#framesSent.add(type, count);
  }

  /** Counts a frame from a client: its type, or `invalid`. */
  frameReceived(type: string): void {
    this.#framesReceived.add(type);
  }

  turnStarted(): void {
    this.#turnsStarted.inc();
  }

  /** A turn's completion frame: its status, and its timings when a worker ran it. */
  turnFinished(
    status: string,
    timing?: { durationSeconds: number; firstTokenSeconds?: number; outputTokens: number },
  ): void {
    this.#turnsFinished.inc({ status });
    if (timing === undefined) return;
    this.#turnDuration.observe({ status }, timing.durationSeconds);
    const { firstTokenSeconds, outputTokens } = timing;
    if (firstTokenSeconds === undefined) return;
    const streaming = timing.durationSeconds - firstTokenSeconds;
    if (outputTokens > 0 && streaming > 0) {
      this.#tokensPerSecond.observe(outputTokens / streaming);
    }
  }

  firstToken(seconds: number): void {
    this.#timeToFirstToken.observe(seconds);
  }

  /** One model call's usage. */
  tokens(provider: string, model: string, usage: ModelUsage): void {
    const add = (kind: string, count: number | undefined) => {
      if (count !== undefined && count > 0) this.#tokens.inc({ provider, model, kind }, count);
    };
    add('input', usage.inputTokens);
    add('output', usage.outputTokens);
    add('cached_input', usage.cachedInputTokens);
    add('reasoning', usage.reasoningTokens);
  }

  /** A tool call's outcome; `tool` must be a registered tool's name (or `unknown`). */
  toolCall(tool: string, outcome: string, durationSeconds: number): void {
    this.#toolCalls.inc({ tool, outcome: knownCode(outcome) });
    this.#toolDuration.observe({ tool }, durationSeconds);
  }

  /**
   * An event log batch the store took (its size, and how long it took, retries included), or one
   * attempt the store refused (with its error: counted by code, and as a fencing rejection when
   * another writer fenced the conversation off).
   */
  logBatch(entries: number, seconds: number, error?: unknown): void {
    if (error === undefined) {
      this.#logBatchSize.observe(entries);
      this.#logAppendSeconds.observe(seconds);
      return;
    }
    const code = codeOf(error) === 'cluster_fenced' ? 'cluster_fenced' : 'log_unavailable';
    this.#logFailures.inc({ code });
    if (code === 'cluster_fenced') this.#fencingRejections.inc();
  }

  slowConsumer(): void {
    this.#slowConsumers.inc();
  }

  /** An error sent or an upgrade refused: counted when its code refuses work. */
  refused(code: ErrorCode): void {
    if (REFUSAL_CODES.has(code)) this.#refusals.inc({ code });
  }

  providerError(provider: string, code: string): void {
    this.#providerErrors.inc({ provider, code: knownCode(code) });
  }

  providerRetry(provider: string, code: string): void {
    this.#providerRetries.inc({ provider, code: knownCode(code) });
  }

  /**
   * Follows a lease keeper's events (`LeaseKeeper.events$`): leases held, acquisitions,
   * takeovers and losses. Unsubscribe when the keeper stops.
   */
  observeLeases(events$: Observable<LeaseEventLike>): Subscription {
    return events$.subscribe((event) => {
      switch (event.type) {
        case 'acquired':
          this.#leasesHeld += 1;
          this.#leaseAcquisitions.inc();
          if (event.lease.epoch > 1) this.#takeovers.inc();
          break;
        case 'released':
          this.#leasesHeld = Math.max(0, this.#leasesHeld - 1);
          break;
        case 'lost':
          this.#leasesHeld = Math.max(0, this.#leasesHeld - 1);
          this.#leasesLost.inc({ reason: event.reason === 'refused' ? 'refused' : 'expired' });
          break;
        case 'renewed':
          break;
      }
    });
  }
}

/** A code from the error table, or `other`: a label never takes an arbitrary string. */
function knownCode(code: string): string {
  return code === 'ok' || KNOWN_CODES.has(code) ? code : 'other';
}

/** The store error's own code (a ParleyError's, such as `cluster_fenced`), if it has one. */
function codeOf(error: unknown): string | undefined {
  const code =
    typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}
