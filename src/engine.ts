/**
 * The engine: one actor system (root → conversations and connections), one worker pool, the
 * event log, the model and the tools, with every effect (clock, ids, scheduler) injected.
 * Transport-agnostic: the WebSocket server attaches sockets through {@link Engine.openConnection}.
 */
import { asyncScheduler, type SchedulerLike } from 'rxjs';
import {
  createActor,
  type ActorOptions,
  type AnyActorLogic,
  type AnyActorRef,
  type InspectionEvent,
} from 'xstate';
import type { ConnectionEvent, SocketPort } from '../actors/connection-types.js';
import { connectionKey, conversationKey, parleyMachine } from '../actors/parley.machine.js';
import { createWorkerPool, type WorkerPool } from '../streams/worker-pool.js';
import type { LanguageModel } from './agent/model.js';
import { createOfflineModel } from './agent/offline-model.js';
import type { ToolExecutor } from './agent/run-turn.js';
import type { ParleyConfig } from './config.js';
import { createConversationEffects } from './engine/conversation-effects.js';
import { conversationSettings, replaySettings } from './engine/engine-settings.js';
import { createReplies } from './engine/replies.js';
import { restoreConversation, type RestoredConversation } from './engine/restore-conversation.js';
import { Transport } from './engine/transport.js';
import { createEventLog, type EventLog } from './event-log/event-log.js';
import type { EventStore } from './event-log/event-store.js';
import { MemoryEventStore } from './event-log/memory-store.js';
import { randomSeed, seededIds, type IdGenerator } from './ids.js';
import { RateLimiter, type RateLimitDecision } from './server/rate-limiter.js';
import { createDefaultToolRegistry, type ToolRegistry } from './tools/registry.js';

/** XState's clock interface (setTimeout/clearTimeout), e.g. `SimulatedClock` in tests. */
export type Clock = NonNullable<ActorOptions<AnyActorLogic>['clock']>;

/** The engine's injectable effects; every one has a production default. */
export interface EngineOptions {
  config: ParleyConfig;
  /** Where the event log lives. @default an in-memory store (the server uses SQLite) */
  store?: EventStore;
  /** @default the offline rule-based model */
  model?: LanguageModel;
  /** @default calculator, datetime, weather, search */
  tools?: Pick<ToolRegistry, 'describe' | 'execute'>;
  /** Wall clock for timestamps. @default Date.now */
  now?: () => number;
  /** Clock for RxJS timers (pacing, timeouts, deadlines). @default asyncScheduler */
  scheduler?: SchedulerLike;
  /** Clock for XState delayed transitions (heartbeat, idle stop). @default real timers */
  clock?: Clock;
  /** Seed of each new conversation's ids. @default 8 random hex characters */
  idSeed?: (conversationId: string) => string;
  /** Ids of connections. @default random */
  nextConnectionId?: IdGenerator;
  /**
   * The model and tool executor of one turn. A replay swaps in recorded ones.
   * @default the `model` and `tools` options
   */
  turnEffects?: (turnId: string) => TurnEffects;
  /** Takes a message from a user's rate budget. @default a token bucket from the config */
  takeRateToken?: (userId: string) => RateLimitDecision;
  /** Receives every XState inspection event of the system. */
  inspect?: (event: InspectionEvent) => void;
  /**
   * Pipeline taps for the inspector: `pool` (running and waiting turns, at each turn start and
   * end) and `conversation:<id>` (tool calls in flight with their deadlines).
   */
  onPipeline?: (path: string, detail: Record<string, unknown>) => void;
  /** Told when the log cannot be written (delivery goes on). */
  onLogError?: (error: unknown) => void;
}

/** How one turn reaches a model and tools. */
export interface TurnEffects {
  model: LanguageModel;
  executeTool: ToolExecutor;
}

/** What the transport tells the engine about one socket. */
export interface ConnectionHandle {
  readonly connectionId: string;
  send(event: ConnectionEvent): void;
}

/** Live counters for `/health`. */
export interface EngineStats {
  connections: number;
  conversations: number;
  turns: { running: number; waiting: number };
  log: { pending: number };
}

/** A running engine. */
export interface Engine {
  readonly config: ParleyConfig;
  readonly pool: WorkerPool;
  readonly log: EventLog;
  /** Restores the conversation from the log if needed, then joins the socket to it. */
  openConnection(options: {
    connectionId?: string;
    userId: string;
    conversationId: string;
    socket: SocketPort;
    /** Resume: send the events after this seq before the live ones. */
    since?: number;
  }): Promise<ConnectionHandle>;
  /** The conversation's current seq, or undefined when it is not loaded. */
  currentSeq(conversationId: string): number | undefined;
  stats(): EngineStats;
  /** Interrupts remaining turns, lets their last frames out, then closes every connection with 1012. */
  stop(): Promise<void>;
  /**
   * Stops the actor system and the pool, flushes the log and closes its store (unless
   * `keepStore`, for a store another engine goes on with); call after the sockets closed.
   */
  dispose(options?: { keepStore?: boolean }): Promise<void>;
}

/**
 * Creates and starts an engine.
 *
 * @example
 * const engine = createEngine({ config: loadConfig(), store: SqliteEventStore.open(path) });
 * const handle = await engine.openConnection({ userId: 'alice', conversationId: 'demo', socket });
 */
export function createEngine(options: EngineOptions): Engine {
  const { config } = options;
  const now = options.now ?? Date.now;
  const scheduler = options.scheduler ?? asyncScheduler;
  const model = options.model ?? createOfflineModel();
  const tools = options.tools ?? createDefaultToolRegistry();
  const toolDescriptions = tools.describe();
  const turnEffects =
    options.turnEffects ??
    (() => ({
      model,
      executeTool: (name: string, input: unknown, signal: AbortSignal) =>
        tools.execute(name, input, { signal, now }),
    }));
  const idSeed = options.idSeed ?? (() => randomSeed());
  const nextConnectionId =
    options.nextConnectionId ?? ((prefix) => seededIds(randomSeed())(prefix));
  const store = options.store ?? new MemoryEventStore();
  const log = createEventLog({
    store,
    ...(options.onLogError ? { onError: options.onLogError } : {}),
  });
  const pool = createWorkerPool({
    concurrency: config.turnConcurrency,
    maxWaiting: config.turnQueueSize,
  });
  const rateLimiter = new RateLimiter({
    messages: config.rateLimitMessages,
    windowMs: config.rateLimitWindowMs,
    now,
  });
  const transport = new Transport((connectionId) => {
    actor(connectionKey(connectionId))?.send({ type: 'outbound.overflow', limit: 0 });
  });
  const restored = new Map<string, RestoredConversation | undefined>();
  const loading = new Map<string, Promise<void>>();
  const settings = replaySettings(config, model);

  const conversationEffects = (conversationId: string, seed: string) =>
    createConversationEffects({
      conversationId,
      seed,
      config,
      log,
      transport,
      pool,
      now,
      scheduler,
      toolDescriptions,
      turnEffects,
      ...(options.onPipeline === undefined ? {} : { onPipeline: options.onPipeline }),
      ...(options.onLogError === undefined ? {} : { onLogError: options.onLogError }),
    });

  const root = createActor(parleyMachine, {
    systemId: 'parley',
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.inspect === undefined ? {} : { inspect: options.inspect }),
    input: {
      conversationInput: (conversationId) => {
        const previous = restored.get(conversationId);
        restored.delete(conversationId);
        const seed = idSeed(conversationId);
        const effects = conversationEffects(conversationId, seed);
        try {
          log.append(conversationId, [
            {
              kind: 'conversation.started',
              conversation_id: conversationId,
              at: now(),
              id_seed: seed,
              from_seq: previous?.seq ?? 0,
              settings,
            },
          ]);
        } catch (error) {
          // Spawning happens inside the root actor: a full log must not throw out of it.
          options.onLogError?.(error);
        }
        return {
          conversationId,
          idleMs: config.conversationIdleMs,
          effects,
          settings: conversationSettings(config),
          ...(previous === undefined ? {} : { restored: previous }),
        };
      },
      connectionInput: (base) => ({
        ...base,
        heartbeatIntervalMs: config.heartbeatIntervalMs,
        effects: {
          now,
          takeRateToken: options.takeRateToken ?? ((userId) => rateLimiter.take(userId)),
          resume: (connectionId, since) => {
            void replies.resume(connectionId, since);
          },
          history: (connectionId, query) => {
            void replies.history(connectionId, query);
          },
        },
      }),
    },
  }).start();

  const actor = (systemId: string) => root.system.get(systemId) as AnyActorRef | undefined;
  const children = () => Object.keys(root.getSnapshot().children);
  const currentSeq = (conversationId: string) => {
    const snapshot = actor(conversationKey(conversationId))?.getSnapshot() as
      { status: string; context: { seq: number } } | undefined;
    return snapshot?.status === 'active' ? snapshot.context.seq : undefined;
  };
  const replies = createReplies({ log, store, transport, now, currentSeq });

  /** Restores a conversation from the log unless its actor is alive; concurrent calls share one load. */
  const ensureLoaded = async (conversationId: string): Promise<void> => {
    if (currentSeq(conversationId) !== undefined) return;
    let load = loading.get(conversationId);
    if (load === undefined) {
      load = (async () => {
        await log.flush();
        await log.open(conversationId);
        restored.set(
          conversationId,
          await restoreConversation(store, conversationId, {
            historyMessages: config.historyMessages,
          }),
        );
      })().finally(() => loading.delete(conversationId));
      loading.set(conversationId, load);
    }
    await load;
  };

  return {
    config,
    pool,
    log,
    async openConnection({
      connectionId = nextConnectionId('conn'),
      userId,
      conversationId,
      socket,
      since,
    }) {
      await ensureLoaded(conversationId);
      transport.add(connectionId, conversationId, socket, { gated: since !== undefined });
      root.send({
        type: 'connection.open',
        connectionId,
        userId,
        conversationId,
        socket,
        ...(since === undefined ? {} : { since }),
      });
      if (since !== undefined) void replies.resume(connectionId, since);
      return {
        connectionId,
        send(event) {
          if (event.type === 'socket.closed') transport.remove(connectionId);
          actor(connectionKey(connectionId))?.send(event);
        },
      };
    },
    currentSeq,
    stats() {
      return {
        connections: transport.size,
        conversations: children().filter((id) => id.startsWith('conversation:')).length,
        turns: { running: pool.running, waiting: pool.waiting },
        log: { pending: log.pending },
      };
    },
    async stop() {
      for (const id of children()) {
        if (id.startsWith('conversation:')) actor(id)?.send({ type: 'conversation.shutdown' });
      }
      // Frames leave after the log has them: the completions go out before the close frames.
      await new Promise<void>((resolve) => {
        log.afterDurable(resolve);
      });
      for (const id of children()) {
        if (id.startsWith('connection:')) actor(id)?.send({ type: 'server.shutdown' });
      }
      pool.close();
    },
    async dispose({ keepStore = false } = {}) {
      root.stop();
      pool.close();
      if (keepStore) await log.flush();
      else await log.close();
    },
  };
}

export { conversationKey, connectionKey };
