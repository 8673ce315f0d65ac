/**
 * Over 300 lines because it is the inspector's server side in one place: sessions, snapshots, pipeline events.
 *
 * Collects everything the inspector shows: XState's inspection events for every actor, plus what
 * XState does not emit (actors stopping, timers scheduled and cancelled) and pipeline taps (turn
 * queue, busy workers, tool calls in flight). Each record gets a monotonic seq, a timestamp and
 * the actor's stable path. Recording is cheap: raw references are kept and only sanitized when
 * an inspector asks, so an engine nobody inspects pays almost nothing.
 *
 * A hibernating connection (`actors/connection.machine.ts`) ends in its state `hibernated` (its
 * shard stops it) and a new actor takes its path when it wakes: its entry stays, with status
 * `hibernated`, and the new actor reuses it (records `actor.hibernated`, `actor.woken`).
 */
import type { AnyActorRef, InspectionEvent } from 'xstate';
import { isConnectionShard } from '../../actors/connection-shard.machine.js';
import { isConversationShard } from '../../actors/conversation-shard.machine.js';
import { conversationKey } from '../../actors/system-ids.js';
import {
  conversationOf,
  isHibernated,
  kindOf,
  listOrder,
  pathOf,
  sendToHibernated,
  userOf,
  type InspectedSnapshot,
} from './actor-paths.js';
import { conversationActivity } from './actor-activity.js';
import type { ActorSummary, InspectionRecord } from './inspector-protocol.js';
import { describeRecord } from './describe-record.js';
import { RingBuffer } from './ring-buffer.js';
import { tapTimers } from './tap-timers.js';
import {
  DEFAULT_SANITIZE_LIMITS,
  sanitize,
  stateToString,
  type SanitizeLimits,
} from './sanitize.js';

/** A record before sanitizing: its details are still the live objects. */
export interface RawRecord {
  seq: number;
  at: number;
  path: string;
  kind: InspectionRecord['kind'];
  raw: Record<string, unknown>;
}

interface ActorEntry {
  /** The running actor; undefined while a connection hibernates (it has none then). */
  ref: AnyActorRef | undefined;
  /** The actor's system, where a hibernated connection's shard is found. */
  system: AnyActorRef['system'];
  summary: ActorSummary;
  snapshot: InspectedSnapshot;
  recent: RingBuffer<RawRecord>;
}

/** Who listens to the hub (an inspector session). */
export interface HubListener {
  onRecord(record: RawRecord): void;
  onActorChanged(path: string, change: 'added' | 'updated' | 'removed'): void;
}

/** Options for {@link InspectionHub}. */
export interface InspectionHubOptions {
  now: () => number;
  /** Records kept per actor for late subscribers (bounded: 10,000 idle actors keep heartbeating). @default 50 */
  recentPerActor?: number;
  limits?: SanitizeLimits;
}

/**
 * The inspection hub. Pass `hub.inspect` as the engine's `inspect` option.
 *
 * @example
 * const hub = new InspectionHub({ now: Date.now });
 * const engine = createEngine({ config, inspect: hub.inspect });
 */
export class InspectionHub {
  private seq = 0;
  private readonly actors = new Map<string, ActorEntry>();
  private readonly listeners = new Set<HubListener>();
  private readonly recentPerActor: number;
  readonly limits: SanitizeLimits;
  private tappedTimers = false;
  /** The conversation whose leave a shard is taking, until the shard's next snapshot. */
  private readonly leaving = new Map<AnyActorRef, string>();

  constructor(private readonly options: InspectionHubOptions) {
    this.recentPerActor = options.recentPerActor ?? 50;
    this.limits = options.limits ?? DEFAULT_SANITIZE_LIMITS;
  }

  /** The XState `inspect` hook. */
  readonly inspect = (event: InspectionEvent): void => {
    const actorRef = event.actorRef as AnyActorRef;
    // Connection shards are plumbing between the root and its connections: their own events
    // (created, the spawn and close events they receive, their snapshots) are not shown, and
    // must not land on the root's entry.
    if (isConversationShard(actorRef)) {
      this.shardTakesLeave(actorRef, event);
      return;
    }
    if (isConnectionShard(actorRef)) return;
    const path = pathOf(actorRef);
    switch (event.type) {
      case '@xstate.actor':
        this.created(actorRef, path);
        return;
      case '@xstate.event':
        this.record(path, 'event', {
          event: event.event,
          source: event.sourceRef === undefined ? null : pathOf(event.sourceRef as AnyActorRef),
        });
        return;
      case '@xstate.snapshot': {
        const entry = this.actors.get(path);
        const snapshot = event.snapshot as InspectedSnapshot;
        // (Not an actor's whose path another has taken since; a hibernated one's last, yes.)
        if (entry !== undefined && (entry.ref === undefined || entry.ref === actorRef)) {
          entry.snapshot = snapshot;
          entry.summary = {
            ...entry.summary,
            state: stateToString(snapshot?.value),
            // (A hibernated connection's last snapshot may be reported after it stopped.)
            status: isHibernated(path, snapshot)
              ? 'hibernated'
              : ((snapshot?.status ?? 'active') as ActorSummary['status']),
            updated_at: this.options.now(),
            conversation: entry.summary.conversation ?? conversationOf(path, snapshot),
            user_id: entry.summary.user_id ?? userOf(path, snapshot),
          };
          this.changed(path, 'updated');
        }
        this.record(path, 'snapshot', { snapshot });
        return;
      }
      case '@xstate.microstep':
        this.record(path, 'microstep', {
          event: event.event,
          snapshot: event.snapshot,
          transitions: (event as { _transitions?: unknown[] })._transitions ?? [],
        });
        return;
      case '@xstate.action':
        this.record(path, 'action', { action: event.action });
        return;
      case '@xstate.transition':
        // The same step is reported as a microstep; recording it twice would only add noise.
        return;
    }
  };

  /**
   * A hibernated conversation takes a leave in its shard, without an actor
   * (`actors/hibernated-leave.ts`): the hub puts the leave on the conversation's entry and, once
   * the shard has taken it (its next snapshot), the record's seq, participants and typing users
   * in the entry's context, so the inspector does not show who left as still there.
   */
  private shardTakesLeave(shard: AnyActorRef, event: InspectionEvent): void {
    if (event.type === '@xstate.event') {
      const delivered = event.event as {
        type: string;
        conversationId?: string;
        event?: { type: string };
      };
      if (
        delivered.type !== 'conversation.deliver' ||
        delivered.event?.type !== 'participant.leave' ||
        delivered.conversationId === undefined
      ) {
        return;
      }
      const path = conversationKey(delivered.conversationId);
      // A running conversation reports the leave itself.
      if (this.actors.get(path)?.summary.status !== 'hibernated') return;
      this.record(path, 'event', {
        event: delivered.event,
        source: event.sourceRef === undefined ? null : pathOf(event.sourceRef as AnyActorRef),
      });
      this.leaving.set(shard, delivered.conversationId);
      return;
    }
    const conversationId = this.leaving.get(shard);
    if (event.type !== '@xstate.snapshot' || conversationId === undefined) return;
    this.leaving.delete(shard);
    const path = conversationKey(conversationId);
    const entry = this.actors.get(path);
    const kept = (
      event.snapshot as { context?: { hibernated?: Map<string, { conversation: object }> } }
    ).context?.hibernated?.get(conversationId)?.conversation;
    if (entry?.summary.status !== 'hibernated' || kept === undefined) return;
    const context = entry.snapshot?.context as Record<string, unknown> | undefined;
    entry.snapshot = { ...entry.snapshot, context: { ...context, ...kept } };
    entry.summary = { ...entry.summary, updated_at: this.options.now() };
    this.changed(path, 'updated');
    this.record(path, 'snapshot', { snapshot: entry.snapshot });
  }

  /** A pipeline tap: queue depth, workers, tool calls in flight (`path` is `pool` or a conversation). */
  pipeline(path: string, detail: Record<string, unknown>): void {
    this.record(path, 'pipeline', detail);
  }

  listen(listener: HubListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get actorCount(): number {
    return this.actors.size;
  }

  summary(path: string): ActorSummary | undefined {
    const entry = this.actors.get(path);
    return entry === undefined ? undefined : this.describe(entry);
  }

  /** Conversations busiest first, each followed by its connections, filtered by path. */
  list(filter = ''): ActorSummary[] {
    return listOrder(
      Array.from(this.actors.values(), (entry) => this.describe(entry)),
      filter,
    );
  }

  /** The actor's current context, sanitized. */
  context(path: string): Record<string, unknown> {
    const context = this.actors.get(path)?.snapshot?.context;
    return (sanitize(context ?? {}, this.limits) ?? {}) as Record<string, unknown>;
  }

  recent(path: string): RawRecord[] {
    return this.actors.get(path)?.recent.toArray() ?? [];
  }

  /**
   * Sends an event to an actor (development mode only; the caller checks). A hibernated
   * connection's shard wakes it for the event; false if the shard no longer holds it.
   */
  send(path: string, event: { type: string }): boolean {
    const entry = this.actors.get(path);
    if (entry === undefined) return false;
    if (entry.ref === undefined) return sendToHibernated(entry.system, path, event);
    entry.ref.send(event);
    return true;
  }

  /** A record as the inspector sees it: details sanitized and bounded. */
  toRecord(record: RawRecord): InspectionRecord {
    return {
      seq: record.seq,
      at: record.at,
      path: record.path,
      kind: record.kind,
      detail: describeRecord(record, this.limits),
    };
  }

  /**
   * The summary as sent: a conversation's activity is read from its snapshot only now, when an
   * inspector asks, not on each of the many snapshots a streaming turn makes.
   */
  private describe(entry: ActorEntry): ActorSummary {
    if (entry.summary.kind !== 'conversation') return entry.summary;
    return {
      ...entry.summary,
      activity: conversationActivity(entry.snapshot, this.limits.maxString),
    };
  }

  private created(ref: AnyActorRef, path: string): void {
    if (!this.tappedTimers) {
      this.tappedTimers = true;
      tapTimers(ref.system.scheduler, (path, kind, detail) => {
        this.record(path, kind, detail);
      });
    }
    const kind = kindOf(path);
    const sleeper = this.actors.get(path);
    if (sleeper?.summary.status === 'hibernated') {
      // A connection woken by its shard: the same path, so the same entry and recent records.
      sleeper.ref = ref;
      sleeper.system = ref.system;
      sleeper.summary = { ...sleeper.summary, status: 'active', updated_at: this.options.now() };
      this.record(path, 'actor.woken', { kind });
      this.changed(path, 'updated');
      this.observe(ref, path);
      return;
    }
    this.actors.set(path, {
      ref,
      system: ref.system,
      snapshot: undefined,
      recent: new RingBuffer<RawRecord>(this.recentPerActor),
      summary: {
        path,
        kind,
        parent: kind === 'root' ? null : 'parley',
        conversation: null,
        state: '',
        status: 'active',
        updated_at: this.options.now(),
        user_id: null,
        activity: null,
      },
    });
    this.record(path, 'actor.created', { kind });
    this.changed(path, 'added');
    this.observe(ref, path);
  }

  /** XState reports no "stopped": an observer's completion tells us. */
  private observe(ref: AnyActorRef, path: string): void {
    ref.subscribe({
      complete: () => {
        // (Late news of an actor whose path another actor has taken since: not about the entry.)
        if (this.actors.get(path)?.ref !== ref) return;
        if (isHibernated(path, ref.getSnapshot() as InspectedSnapshot)) {
          this.hibernated(ref, path);
        } else this.stopped(path, 'stopped');
      },
      error: () => {
        if (this.actors.get(path)?.ref !== ref) return;
        this.stopped(path, 'error');
      },
    });
  }

  /** The connection's actor is gone, its shard keeps its context: the entry stays. */
  private hibernated(ref: AnyActorRef, path: string): void {
    const entry = this.actors.get(path);
    if (entry === undefined) return;
    const snapshot = ref.getSnapshot() as InspectedSnapshot;
    entry.ref = undefined;
    entry.snapshot = snapshot;
    entry.summary = {
      ...entry.summary,
      state: stateToString(snapshot?.value),
      status: 'hibernated',
      updated_at: this.options.now(),
    };
    this.record(path, 'actor.hibernated', { kind: entry.summary.kind });
    this.changed(path, 'updated');
  }

  private stopped(path: string, status: 'stopped' | 'error'): void {
    if (!this.actors.has(path)) return;
    this.record(path, 'actor.stopped', { status });
    this.actors.delete(path);
    this.changed(path, 'removed');
  }

  private record(path: string, kind: RawRecord['kind'], raw: Record<string, unknown>): void {
    this.seq += 1;
    const record: RawRecord = { seq: this.seq, at: this.options.now(), path, kind, raw };
    const entry = this.actors.get(path);
    if (entry !== undefined) {
      entry.recent.push(record);
    }
    for (const listener of this.listeners) listener.onRecord(record);
  }

  private changed(path: string, change: 'added' | 'updated' | 'removed'): void {
    for (const listener of this.listeners) listener.onActorChanged(path, change);
  }
}
