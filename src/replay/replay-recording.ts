/**
 * Over 300 lines because a replay drives the whole engine on a virtual clock: segments, inputs, recorded decisions and live mode.
 *
 * Replays a recorded conversation through a fresh engine under virtual time and checks that it
 * sends the same frames. The recorded inputs go in through the real connection actors at the
 * seq they originally arrived after; the model and tools answer from the recording (or live).
 */
import { ROLES, type MemberChange, type MembershipAction } from '../../actors/membership.js';
import type { ConnectionEvent, SocketPort } from '../../actors/connection-types.js';
import type { InspectionEvent } from 'xstate';
import type { LanguageModel } from '../agent/model.js';
import { restoreAgent, type Agent } from '../agent/agent.js';
import { defaultAgent } from '../agent/agents.js';
import { createOfflineModel } from '../agent/offline-model.js';
import { loadConfig } from '../config.js';
import { createEngine, type ConnectionHandle, type Engine } from '../engine.js';
import { MemoryEventStore } from '../event-log/memory-store.js';
import type { FrameEntry, LogEntry } from '../event-log/log-entry.js';
import { createDefaultToolRegistry, type ToolRegistry } from '../tools/registry.js';
import { createWorkerPool } from '../../streams/worker-pool.js';
import { holdingPool, type HoldingPool } from './holding-pool.js';
import { firstDivergence, type FrameDivergence } from './compare-frames.js';
import { readRecording, type Recording } from './read-recording.js';
import { recordedTurnEffects } from './recorded-effects.js';
import { VirtualClock } from './virtual-clock.js';

/** Options for {@link replayRecording}. */
export interface ReplayOptions {
  /** Call the current model and tools instead of the recorded answers. @default false */
  live?: boolean;
  /** With `live`: the model. @default the model of the recorded agent's id in `agents`, else offline */
  model?: LanguageModel;
  /**
   * With `live`: the agents of the current configuration; the recording's agent runs with the
   * model its id has here (the `default` agent's when the id is gone). @default none
   */
  agents?: readonly Agent[];
  /** With `live`: the tools. @default the built-in tools */
  tools?: Pick<ToolRegistry, 'describe' | 'execute'>;
  /** Receives the replaying engine's inspection events (the inspector's time travel). */
  inspect?: (event: InspectionEvent) => void;
}

/** What a replay found. */
export interface ReplayResult {
  ok: boolean;
  conversationId: string;
  source: string;
  /** Frames compared. */
  frames: number;
  divergence: FrameDivergence | undefined;
  /** The recording's span of wall-clock time, ms. */
  recordedMs: number;
  /** How long the replay took, ms. */
  replayMs: number;
  speedup: number;
  /** The replay's own log: what `--update` writes back. */
  entries: LogEntry[];
}

/** Upper bound of virtual steps per segment: a replay always ends. */
const MAX_STEPS = 5_000_000;

/**
 * The replayed conversation's idle stop: it comes after everything else a replay waits for (its
 * restarts are recorded as segments). Not `Number.MAX_SAFE_INTEGER`: that made the virtual timer
 * times heap numbers instead of small integers, which deoptimized the scheduler code the engine
 * had already optimized (about 5% of a replay's instructions); 2^29 ms keeps them small integers
 * for recordings of up to six days of virtual time.
 */
const NEVER_IDLE_MS = 2 ** 29;

/** The built-in tools, whose descriptions a replay from recorded answers gives the model. */
let recordedTools: ToolRegistry | undefined;

/**
 * Replays a recording (a path or a parsed {@link Recording}).
 *
 * @example
 * const result = await replayRecording('test/fixtures/tool-call.jsonl');
 * expect(result.divergence).toBeUndefined();
 */
export async function replayRecording(
  source: string | Recording,
  options: ReplayOptions = {},
): Promise<ReplayResult> {
  const recording = typeof source === 'string' ? await readRecording(source) : source;
  const started = performance.now();
  const { conversationId, entries } = recording;
  const firstAt = entries[0]?.at ?? 0;
  const clock = new VirtualClock(firstAt);
  const store = new MemoryEventStore({ maxEntriesPerConversation: 1_000_000_000 });
  const segments = splitSegments(entries);

  for (const [index, segment] of segments.entries()) {
    const last = index === segments.length - 1;
    const { engine, decisions } = startSegmentEngine(segment, entries, clock, store, options);
    const handles = new Map<string, ConnectionHandle>();
    const seq = () => engine.currentSeq(conversationId) ?? -1;
    for (const entry of segment.entries) {
      if (entry.kind !== 'input') continue;
      // With no live conversation yet (before the first join) there is nothing to wait for; the
      // input starts it. Waiting would only end once nothing at all is scheduled.
      await runUntil(
        clock,
        () => engine.currentSeq(conversationId) === undefined || seq() >= entry.after_seq,
      );
      await inject(engine, handles, conversationId, entry.input, clock, decisions);
    }
    const endSeq = lastEventSeq(segment.entries);
    await runUntil(
      clock,
      () => seq() >= endSeq && (!last || engine.pool.running + engine.pool.waiting === 0),
    );
    await engine.dispose({ keepStore: true });
  }

  const replayed = await store.readEntries(conversationId);
  const recordedFrames = frames(entries);
  const divergence = firstDivergence(recordedFrames, frames(replayed));
  const replayMs = performance.now() - started;
  const recordedMs = Math.max(0, (entries.at(-1)?.at ?? firstAt) - firstAt);
  return {
    ok: divergence === undefined,
    conversationId,
    source: recording.source,
    frames: recordedFrames.length,
    divergence,
    recordedMs,
    replayMs,
    speedup: recordedMs / Math.max(replayMs, 0.001),
    entries: replayed,
  };
}

interface Segment {
  started: Extract<LogEntry, { kind: 'conversation.started' }>;
  entries: LogEntry[];
}

/** A new segment begins at each `conversation.started`: the actor was (re)started there. */
function splitSegments(entries: readonly LogEntry[]): Segment[] {
  const segments: Segment[] = [];
  for (const entry of entries) {
    if (entry.kind === 'conversation.started') segments.push({ started: entry, entries: [] });
    segments.at(-1)?.entries.push(entry);
  }
  return segments;
}

/**
 * The decisions the world outside the conversation made, answered from the recording: whether the
 * pool had room for a message's turn, and when a turn that waited got a worker.
 */
interface RecordedDecisions {
  room: { value: boolean };
  pool: HoldingPool;
}

function startSegmentEngine(
  segment: Segment,
  entries: readonly LogEntry[],
  clock: VirtualClock,
  store: MemoryEventStore,
  options: ReplayOptions,
): { engine: Engine; decisions: RecordedDecisions } {
  const { settings } = segment.started;
  const limits = settings.welcome_limits;
  const recorded = loadConfig(
    {},
    {
      database: 'memory',
      tokenPacingMs: settings.token_pacing_ms,
      toolTimeoutMs: settings.tool_timeout_ms,
      turnTimeoutMs: settings.turn_timeout_ms,
      maxSteps: settings.max_steps,
      ...(settings.approval_timeout_ms === undefined
        ? {}
        : { approvalTimeoutMs: settings.approval_timeout_ms }),
      overlapPolicy: settings.overlap_policy,
      historyMessages: settings.history_messages,
      maxParticipants: settings.max_participants,
      maxFrameBytes: limits.max_frame_bytes ?? 65_536,
      outboundBufferFrames: limits.outbound_buffer_frames ?? 256,
      rateLimitMessages: limits.rate_limit_messages ?? 20,
      rateLimitWindowMs: limits.rate_limit_window_ms ?? 10_000,
      heartbeatIntervalMs: limits.heartbeat_interval_ms ?? 30_000,
    },
  );
  // Beyond what a server may be configured with: a replay's conversation never stops for idleness
  // and never hibernates (a wake leaves no trace in the log: the recording cannot tell).
  const config = {
    ...recorded,
    conversationIdleMs: NEVER_IDLE_MS,
    conversationHibernateAfterMs: 0,
  };
  const identity = { provider: settings.model.provider, modelId: settings.model.model_id };
  // Held by job id: a turn's own, or its continuation's after approvals (`turn.resumed`).
  const queuedStarts = segment.entries.flatMap((entry) =>
    entry.kind !== 'input'
      ? []
      : entry.input.type === 'turn.started'
        ? [String(entry.input.turnId)]
        : entry.input.type === 'turn.resumed'
          ? [String(entry.input.jobId)]
          : [],
  );
  const decisions: RecordedDecisions = {
    room: { value: true },
    pool: holdingPool(
      createWorkerPool({ concurrency: config.turnConcurrency, maxWaiting: config.turnQueueSize }),
      queuedStarts,
    ),
  };
  const recordedId = settings.agent?.id;
  const configured =
    options.agents === undefined || options.agents.length === 0
      ? undefined
      : (options.agents.find((candidate) => candidate.id === recordedId) ??
        defaultAgent(options.agents));
  const liveModel = options.live === true ? (options.model ?? configured?.model) : undefined;
  // Virtual time must not run ahead of a real provider: while its next part is awaited, the
  // replay waits for it instead of firing the deadlines and heartbeats due next.
  const model = liveModel === undefined ? undefined : awaitedIo(liveModel);
  const agent =
    settings.agent === undefined
      ? undefined
      : restoreAgent(settings.agent, {
          id: settings.agent.id,
          modelSpec: settings.agent.model,
          model: model ?? createOfflineModel(),
        });
  const engine = createEngine({
    config,
    store,
    ...(agent === undefined ? { recordAgent: false } : { agents: [agent] }),
    pool: decisions.pool,
    hasTurnRoom: () => decisions.room.value,
    now: clock.now,
    scheduler: clock.scheduler,
    clock: clock.xstate,
    idSeed: () => segment.started.id_seed,
    // The recording holds only messages that passed the rate limit: none is refused now.
    takeRateToken: () => ({ allowed: true }),
    ...(options.inspect === undefined ? {} : { inspect: options.inspect }),
    ...(options.live === true
      ? {
          ...(model === undefined ? {} : { model }),
          ...(options.tools === undefined ? {} : { tools: options.tools }),
        }
      : {
          // The recorded answers stand in for the tools; only their descriptions are used, and
          // one registry computes those (JSON Schemas from zod) once, not once per replay.
          tools: (recordedTools ??= createDefaultToolRegistry()),
          turnEffects: recordedTurnEffects(entries, clock, identity),
        }),
  });
  return { engine, decisions };
}

/** Lets promise callbacks and queued I/O run, then advances virtual time until `done`. */
async function runUntil(clock: VirtualClock, done: () => boolean): Promise<void> {
  for (let step = 0; step < MAX_STEPS; step += 1) {
    await settle();
    if (done()) return;
    // A live model's part is on its way over the network: wait for it, not for virtual time.
    if (liveIo.pending > 0) {
      await liveIo.changed();
      continue;
    }
    if (!clock.advanceToNext()) return;
  }
}

/** Reads of live models' streams that are waiting for the network (`--live`). */
const liveIo = {
  pending: 0,
  waiters: [] as (() => void)[],
  changed(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  },
  settled(): void {
    this.pending -= 1;
    for (const wake of this.waiters.splice(0)) wake();
  },
};

/** The model, with each wait for its next stream part counted in {@link liveIo}. */
function awaitedIo(model: LanguageModel): LanguageModel {
  return {
    ...model,
    async *stream(request, options) {
      const iterator = model.stream(request, options)[Symbol.asyncIterator]();
      try {
        for (;;) {
          liveIo.pending += 1;
          const next = await iterator.next().finally(() => {
            liveIo.settled();
          });
          if (next.done === true) return;
          yield next.value;
        }
      } finally {
        await iterator.return?.();
      }
    },
  };
}

function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

async function inject(
  engine: Engine,
  handles: Map<string, ConnectionHandle>,
  conversationId: string,
  input: Extract<LogEntry, { kind: 'input' }>['input'],
  clock: VirtualClock,
  decisions: RecordedDecisions,
): Promise<void> {
  const connectionId = String(input.connectionId);
  const send = (event: ConnectionEvent) => handles.get(connectionId)?.send(event);
  switch (input.type) {
    case 'participant.join': {
      const since = typeof input.since === 'number' ? input.since : undefined;
      const role = ROLES.find((known) => known === input.role);
      const handle = await engine.openConnection({
        connectionId,
        userId: String(input.userId),
        conversationId,
        socket: replaySocket(() => handles.get(connectionId), clock),
        ...(since === undefined ? {} : { since }),
        ...(role === undefined ? {} : { role }),
        ...(input.readOnly === true ? { readOnly: true as const } : {}),
      });
      handles.set(connectionId, handle);
      return;
    }
    case 'membership.change':
      await engine.changeMembership(conversationId, {
        by: String(input.by),
        action: input.action as MembershipAction,
        changes: input.changes as MemberChange[],
      });
      return;
    case 'participant.leave':
      send({ type: 'socket.closed', code: 1000 });
      handles.delete(connectionId);
      return;
    case 'turn.started':
      decisions.pool.start(String(input.turnId));
      return;
    case 'turn.resumed':
      decisions.pool.start(String(input.jobId));
      return;
    case 'user.tool_approval':
      send({
        type: 'frame.received',
        frame: {
          type: 'tool_approval',
          tool_call_id: String(input.toolCallId),
          decision: input.decision === 'approve' ? 'approve' : 'deny',
          ...(typeof input.reason === 'string' ? { reason: input.reason } : {}),
        },
      });
      return;
    case 'user.message':
      // The recording says whether the pool had room (a refusal is logged as `admitted: false`).
      decisions.room.value = input.admitted !== false;
      send({
        type: 'frame.received',
        frame: {
          type: 'user_message',
          content: String(input.content),
          ...(typeof input.clientMessageId === 'string'
            ? { client_message_id: input.clientMessageId }
            : {}),
        },
      });
      return;
    case 'user.typing':
      send({
        type: 'frame.received',
        frame: { type: 'typing_indicator', is_typing: input.isTyping === true },
      });
      return;
    case 'user.cancel':
      send({
        type: 'frame.received',
        frame: {
          type: 'cancel',
          ...(typeof input.turnId === 'string' ? { turn_id: input.turnId } : {}),
        },
      });
      return;
    default:
      return;
  }
}

/** A socket that answers pings (as live clients did) and reports its own closing. */
function replaySocket(handle: () => ConnectionHandle | undefined, clock: VirtualClock): SocketPort {
  const later = (event: ConnectionEvent) => {
    clock.scheduler.schedule(() => handle()?.send(event), 0);
  };
  return {
    send: () => undefined,
    close: (code) => {
      later({ type: 'socket.closed', code });
    },
    terminate: () => {
      later({ type: 'socket.closed', code: 1006 });
    },
    ping: () => {
      later({ type: 'socket.pong' });
    },
  };
}

function frames(entries: readonly LogEntry[]): FrameEntry[] {
  return entries.filter((entry): entry is FrameEntry => entry.kind === 'frame');
}

function lastEventSeq(entries: readonly LogEntry[]): number {
  let seq = 0;
  for (const entry of entries)
    if (entry.kind === 'frame' && entry.to === undefined) seq = entry.seq;
  return seq;
}
