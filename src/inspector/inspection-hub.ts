/**
 * Collects everything the inspector shows: XState's inspection events for every actor, plus what
 * XState does not emit (actors stopping, timers scheduled and cancelled) and pipeline taps (turn
 * queue, busy workers, tool calls in flight). Each record gets a monotonic seq, a timestamp and
 * the actor's stable path. Recording is cheap: raw references are kept and only sanitized when
 * an inspector asks, so an engine nobody inspects pays almost nothing.
 */
import type { AnyActorRef, InspectionEvent } from 'xstate';
import { isConnectionShard } from '../../actors/connection-shard.machine.js';
import type { ActorSummary, InspectionRecord } from './inspector-protocol.js';
import { describeRecord } from './describe-record.js';
import { RingBuffer } from './ring-buffer.js';
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
  ref: AnyActorRef;
  summary: ActorSummary;
  snapshot: { value?: unknown; status?: string; context?: unknown } | undefined;
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
  private patchedScheduler = false;

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
        const snapshot = event.snapshot as ActorEntry['snapshot'];
        if (entry !== undefined) {
          entry.snapshot = snapshot;
          entry.summary = {
            ...entry.summary,
            state: stateToString(snapshot?.value),
            status: (snapshot?.status ?? 'active') as ActorSummary['status'],
            updated_at: this.options.now(),
            conversation: entry.summary.conversation ?? conversationOf(path, snapshot),
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
    return this.actors.get(path)?.summary;
  }

  /** Conversations in path order, each followed by its connections, filtered by path. */
  list(filter = ''): ActorSummary[] {
    const needle = filter.toLowerCase();
    const conversations: ActorSummary[] = [];
    const byConversation = new Map<string, ActorSummary[]>();
    const others: ActorSummary[] = [];
    for (const { summary } of this.actors.values()) {
      if (summary.kind === 'conversation') conversations.push(summary);
      else if (summary.kind === 'connection' && summary.conversation !== null) {
        const list = byConversation.get(summary.conversation) ?? [];
        list.push(summary);
        byConversation.set(summary.conversation, list);
      } else others.push(summary);
    }
    const matches = (summary: ActorSummary) => summary.path.toLowerCase().includes(needle);
    const ordered: ActorSummary[] = others.filter((summary) => needle === '' || matches(summary));
    for (const conversation of conversations.sort((a, b) => a.path.localeCompare(b.path))) {
      const connections = byConversation.get(conversation.path) ?? [];
      if (needle === '' || matches(conversation) || connections.some(matches)) {
        ordered.push(conversation, ...connections.sort((a, b) => a.path.localeCompare(b.path)));
      }
    }
    return ordered;
  }

  /** The actor's current context, sanitized. */
  context(path: string): Record<string, unknown> {
    const context = this.actors.get(path)?.snapshot?.context;
    return (sanitize(context ?? {}, this.limits) ?? {}) as Record<string, unknown>;
  }

  recent(path: string): RawRecord[] {
    return this.actors.get(path)?.recent.toArray() ?? [];
  }

  /** Sends an event to an actor (development mode only; the caller checks). */
  send(path: string, event: { type: string }): boolean {
    const entry = this.actors.get(path);
    if (entry === undefined) return false;
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

  private created(ref: AnyActorRef, path: string): void {
    this.patchScheduler(ref);
    const kind = kindOf(path);
    this.actors.set(path, {
      ref,
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
      },
    });
    this.record(path, 'actor.created', { kind });
    this.changed(path, 'added');
    // XState reports no "stopped": an observer's completion tells us.
    ref.subscribe({
      complete: () => {
        this.stopped(path, 'stopped');
      },
      error: () => {
        this.stopped(path, 'error');
      },
    });
  }

  private stopped(path: string, status: 'stopped' | 'error'): void {
    if (!this.actors.has(path)) return;
    this.record(path, 'actor.stopped', { status });
    this.actors.delete(path);
    this.changed(path, 'removed');
  }

  /** Timers are scheduled through the system's scheduler: wrap it once to see them. */
  private patchScheduler(ref: AnyActorRef): void {
    if (this.patchedScheduler) return;
    this.patchedScheduler = true;
    const scheduler = ref.system.scheduler;
    const schedule = scheduler.schedule.bind(scheduler);
    const cancel = scheduler.cancel.bind(scheduler);
    // The shards' heartbeat timers are plumbing too: their ticks show up as events from `parley`.
    scheduler.schedule = (source, target, event, delay, id) => {
      if (!isConnectionShard(source)) {
        this.record(pathOf(source), 'timer.scheduled', {
          id: id ?? null,
          event_type: event.type,
          delay,
          target: pathOf(target),
        });
      }
      schedule(source, target, event, delay, id);
    };
    scheduler.cancel = (source, id) => {
      if (!isConnectionShard(source)) this.record(pathOf(source), 'timer.cancelled', { id });
      cancel(source, id);
    };
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

/**
 * The stable path of an actor; the root (which XState gives a per-process id) is `parley`. A
 * connection shard is the root's plumbing, so where one shows up (as the source of the event that
 * starts a connection) it reads as `parley`, the parent the inspector gives every connection;
 * the hub records nothing of the shard itself.
 *
 * @example
 * pathOf(root.system.get('connection:c1')) // 'connection:c1'
 */
export function pathOf(ref: AnyActorRef): string {
  const path = (ref as { systemId?: string }).systemId ?? ref.id;
  return path.startsWith('conversation:') || path.startsWith('connection:') ? path : 'parley';
}

function kindOf(path: string): ActorSummary['kind'] {
  if (path.startsWith('conversation:')) return 'conversation';
  if (path.startsWith('connection:')) return 'connection';
  return 'root';
}

function conversationOf(path: string, snapshot: ActorEntry['snapshot']): string | null {
  if (!path.startsWith('connection:')) return null;
  const id = (snapshot?.context as { conversationId?: string } | undefined)?.conversationId;
  return id === undefined ? null : `conversation:${id}`;
}
