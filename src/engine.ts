/**
 * The engine: one actor system (root → conversations and connections), one worker pool, the
 * model and the tools, with every effect (clock, ids, scheduler) injected. Transport-agnostic:
 * the WebSocket server attaches sockets through {@link Engine.openConnection}.
 */
import { asyncScheduler, type SchedulerLike } from 'rxjs';
import {
  createActor,
  type ActorOptions,
  type AnyActorLogic,
  type AnyActorRef,
  type InspectionEvent,
} from 'xstate';
import type { ConnectionEvent, SocketPort } from '../actors/connection.machine.js';
import type { ConversationEffects } from '../actors/conversation.machine.js';
import { connectionKey, conversationKey, parleyMachine } from '../actors/parley.machine.js';
import { createWorkerPool, type WorkerPool } from '../streams/worker-pool.js';
import type { LanguageModel } from './agent/model.js';
import { createOfflineModel } from './agent/offline-model.js';
import { runTurn } from './agent/run-turn.js';
import type { ParleyConfig } from './config.js';
import { randomIds, type IdGenerator } from './ids.js';
import { MAX_CONTENT_CHARS } from './protocol/frames.js';
import { RateLimiter } from './server/rate-limiter.js';
import { createDefaultToolRegistry, type ToolRegistry } from './tools/registry.js';

/** XState's clock interface (setTimeout/clearTimeout), e.g. `SimulatedClock` in tests. */
export type Clock = NonNullable<ActorOptions<AnyActorLogic>['clock']>;

/** The engine's injectable effects; every one has a production default. */
export interface EngineOptions {
  config: ParleyConfig;
  /** @default the offline rule-based model */
  model?: LanguageModel;
  /** @default calculator, datetime, weather, search */
  tools?: ToolRegistry;
  /** Wall clock for timestamps. @default Date.now */
  now?: () => number;
  /** Clock for RxJS timers (pacing, timeouts, deadlines). @default asyncScheduler */
  scheduler?: SchedulerLike;
  /** Clock for XState delayed transitions (heartbeat, idle stop). @default real timers */
  clock?: Clock;
  /** @default random 64-bit ids */
  nextId?: IdGenerator;
  /** Receives every XState inspection event of the system. */
  inspect?: (event: InspectionEvent) => void;
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
}

/** A running engine. */
export interface Engine {
  readonly config: ParleyConfig;
  readonly pool: WorkerPool;
  openConnection(options: {
    connectionId?: string;
    userId: string;
    conversationId: string;
    socket: SocketPort;
  }): ConnectionHandle;
  stats(): EngineStats;
  /** Interrupts remaining turns and closes every connection with 1012. */
  stop(): void;
  /** Stops the actor system (and its timers); call after the sockets have closed. */
  dispose(): void;
}

/**
 * Creates and starts an engine.
 *
 * @example
 * const engine = createEngine({ config: loadConfig() });
 * const handle = engine.openConnection({ userId: 'alice', conversationId: 'demo', socket });
 */
export function createEngine(options: EngineOptions): Engine {
  const { config } = options;
  const now = options.now ?? Date.now;
  const scheduler = options.scheduler ?? asyncScheduler;
  const nextId = options.nextId ?? randomIds();
  const model = options.model ?? createOfflineModel();
  const tools = options.tools ?? createDefaultToolRegistry();
  const toolDescriptions = tools.describe();
  const sockets = new Map<string, SocketPort>();
  const pool = createWorkerPool({
    concurrency: config.turnConcurrency,
    maxWaiting: config.turnQueueSize,
  });
  const rateLimiter = new RateLimiter({
    messages: config.rateLimitMessages,
    windowMs: config.rateLimitWindowMs,
    now,
  });

  const conversationEffects: ConversationEffects = {
    now,
    nextId,
    deliver(recipients, data) {
      for (const connectionId of recipients) sockets.get(connectionId)?.send(data);
    },
    pool,
    runTurn: (messages) =>
      runTurn(messages, {
        model,
        tools: toolDescriptions,
        executeTool: (name, input, signal) => tools.execute(name, input, { signal, now }),
        maxSteps: config.maxSteps,
        toolTimeoutMs: config.toolTimeoutMs,
        turnTimeoutMs: config.turnTimeoutMs,
        tokenPacingMs: config.tokenPacingMs,
        scheduler,
      }),
  };

  const root = createActor(parleyMachine, {
    systemId: 'parley',
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.inspect === undefined ? {} : { inspect: options.inspect }),
    input: {
      conversationInput: (conversationId) => ({
        conversationId,
        idleMs: config.conversationIdleMs,
        effects: conversationEffects,
        settings: {
          maxParticipants: config.maxParticipants,
          historyMessages: config.historyMessages,
          overlapPolicy: config.overlapPolicy,
          welcomeLimits: {
            max_frame_bytes: config.maxFrameBytes,
            max_content_chars: MAX_CONTENT_CHARS,
            outbound_buffer_frames: config.outboundBufferFrames,
            rate_limit_messages: config.rateLimitMessages,
            rate_limit_window_ms: config.rateLimitWindowMs,
            heartbeat_interval_ms: config.heartbeatIntervalMs,
          },
        },
      }),
      connectionInput: (base) => ({
        ...base,
        heartbeatIntervalMs: config.heartbeatIntervalMs,
        effects: {
          now,
          takeRateToken: (userId) => rateLimiter.take(userId),
          resume: () => undefined,
          history: () => undefined,
        },
      }),
    },
  }).start();

  const children = () => Object.keys(root.getSnapshot().children);
  const actor = (systemId: string) => root.system.get(systemId) as AnyActorRef | undefined;

  return {
    config,
    pool,
    openConnection({ connectionId = nextId('conn'), userId, conversationId, socket }) {
      sockets.set(connectionId, socket);
      root.send({ type: 'connection.open', connectionId, userId, conversationId, socket });
      return {
        connectionId,
        send(event) {
          if (event.type === 'socket.closed') sockets.delete(connectionId);
          actor(connectionKey(connectionId))?.send(event);
        },
      };
    },
    stats() {
      const ids = children();
      return {
        connections: sockets.size,
        conversations: ids.filter((id) => id.startsWith('conversation:')).length,
        turns: { running: pool.running, waiting: pool.waiting },
      };
    },
    stop() {
      for (const id of children()) {
        if (id.startsWith('conversation:')) {
          actor(id)?.send({ type: 'conversation.shutdown' });
        }
      }
      for (const id of children()) {
        if (id.startsWith('connection:')) actor(id)?.send({ type: 'server.shutdown' });
      }
      pool.close();
    },
    dispose() {
      root.stop();
    },
  };
}

export { conversationKey, connectionKey };
