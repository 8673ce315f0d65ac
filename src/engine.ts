/**
 * The engine: one actor system (root → conversations, root → shards → connections), one worker
 * pool, the event log, the model and the tools, with every effect (clock, ids, scheduler) injected.
 * Transport-agnostic: the WebSocket server attaches sockets through {@link Engine.openConnection}.
 * Over 300 lines because it is the one place the engine's parts are wired to each other (the
 * membership, deletion and expiry entry points each need the actors, the loader and the log).
 */
import { asyncScheduler } from 'rxjs';
import { createActor, type AnyActorRef } from 'xstate';
import {
  CONNECTION_SHARDS,
  connectionIdsOf,
  sendToConnection,
  shardKey,
  type ConnectionShardRef,
} from '../actors/connection-shard.machine.js';
import type { ConnectionEffects, ConnectionEvent } from '../actors/connection-types.js';
import { indexTimersBySource } from '../actors/index-timers.js';
import { conversationKey, parleyMachine } from '../actors/parley.machine.js';
import { createWorkerPool } from '../streams/worker-pool.js';
import type { ModelToolCall } from './agent/model.js';
import { createOfflineModel } from './agent/offline-model.js';
import { createConversationEffects } from './engine/conversation-effects.js';
import { createConversationLoader } from './engine/conversation-loader.js';
import { conversationSettings, replaySettings } from './engine/engine-settings.js';
import type { ConnectionHandle, Engine, EngineOptions } from './engine/engine-types.js';
import { RateLimiter } from './engine/rate-limiter.js';
import { createReplies } from './engine/replies.js';
import { readMembers } from './engine/restore-conversation.js';
import type { Member } from '../actors/membership.js';
import { Sockets } from './engine/sockets.js';
import { ParleyError } from './errors.js';
import { createEventLog } from './event-log/event-log.js';
import { MemoryEventStore } from './event-log/memory-store.js';
import { randomSeed, seededIds } from './ids.js';
import { createDefaultToolRegistry } from './tools/registry.js';

export type * from './engine/engine-types.js';

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
      needsApproval: (call: ModelToolCall) => tools.needsApproval?.(call.toolName) ?? false,
    }));
  const idSeed = options.idSeed ?? (() => randomSeed());
  const nextConnectionId =
    options.nextConnectionId ?? ((prefix) => seededIds(randomSeed())(prefix));
  const store = options.store ?? new MemoryEventStore();
  const log = createEventLog({
    store,
    ...(options.onLogError ? { onError: options.onLogError } : {}),
  });
  const pool =
    options.pool ??
    createWorkerPool({ concurrency: config.turnConcurrency, maxWaiting: config.turnQueueSize });
  const rateLimiter = new RateLimiter({
    messages: config.rateLimitMessages,
    windowMs: config.rateLimitWindowMs,
    now,
  });
  const sockets = new Sockets({
    onOverflow: (connectionId) => {
      sendToConnection(root.system, connectionId, { type: 'outbound.overflow', limit: 0 });
    },
    currentSeq: (conversationId) => currentSeq(conversationId) ?? 0,
    now,
  });
  const settings = replaySettings(config, model);
  const hasTurnRoom = options.hasTurnRoom ?? (() => pool.waiting < pool.maxWaiting);

  const conversationEffects = (conversationId: string) =>
    createConversationEffects({
      conversationId,
      config,
      log,
      sockets,
      pool,
      now,
      scheduler,
      toolDescriptions,
      turnEffects,
      hasTurnRoom,
      ...(options.onPipeline === undefined ? {} : { onPipeline: options.onPipeline }),
      ...(options.onLogError === undefined ? {} : { onLogError: options.onLogError }),
    });

  // One effects object for every connection: nothing in it belongs to a connection, and an idle
  // connection should not carry its own copy of four closures.
  const connectionEffects: ConnectionEffects = {
    now,
    reply: (connectionId, body) => {
      sockets.reply(connectionId, body);
    },
    takeRateToken: options.takeRateToken ?? ((userId) => rateLimiter.take(userId)),
    resume: (connectionId, since) => {
      void replies.resume(connectionId, since);
    },
    history: (connectionId, query) => {
      void replies.history(connectionId, query);
    },
  };

  const root = createActor(parleyMachine, {
    systemId: 'parley',
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.inspect === undefined ? {} : { inspect: options.inspect }),
    input: {
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      conversationInput: (conversationId) => {
        const previous = loader.take(conversationId);
        const seed = idSeed(conversationId);
        const effects = conversationEffects(conversationId);
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
          idSeed: seed,
          idleMs: config.conversationIdleMs,
          effects,
          settings: conversationSettings(config),
          ...(previous === undefined ? {} : { restored: previous }),
        };
      },
      // Short-lived: the connection's context copies it field by field (connectionContext).
      connectionInput: (base) => ({
        ...base,
        effects: connectionEffects,
        hibernateAfterMs: config.hibernateAfterMs,
        slowConsumerGraceMs: config.slowConsumerGraceMs,
      }),
    },
  });
  // Stopping an actor must not walk every timer of the system.
  indexTimersBySource(root.system);
  root.start();

  const actor = (systemId: string) => root.system.get(systemId) as AnyActorRef | undefined;
  const children = () => Object.keys(root.getSnapshot().children);
  /** The connections' ids, running or hibernated: they live in the root's shards. */
  const connectionIds = () => {
    const ids = { running: [] as string[], hibernated: [] as string[] };
    for (let index = 0; index < CONNECTION_SHARDS; index += 1) {
      const shard = actor(shardKey(index)) as ConnectionShardRef | undefined;
      if (shard === undefined) continue;
      const { running, hibernated } = connectionIdsOf(shard);
      ids.running.push(...running);
      ids.hibernated.push(...hibernated);
    }
    return ids;
  };
  /** Summed from the shards' maps: /health must not copy every connection id. */
  const hibernatedCount = () => {
    let count = 0;
    for (let index = 0; index < CONNECTION_SHARDS; index += 1) {
      const shard = actor(shardKey(index)) as ConnectionShardRef | undefined;
      count += shard?.getSnapshot().context.hibernated.size ?? 0;
    }
    return count;
  };
  const currentSeq = (conversationId: string) => {
    const snapshot = actor(conversationKey(conversationId))?.getSnapshot() as
      { status: string; context: { seq: number } } | undefined;
    return snapshot?.status === 'active' ? snapshot.context.seq : undefined;
  };
  const membersOf = (conversationId: string) => {
    const snapshot = actor(conversationKey(conversationId))?.getSnapshot() as
      { status: string; context: { members: Member[] } } | undefined;
    return snapshot?.status === 'active' ? snapshot.context.members : undefined;
  };
  const replies = createReplies({ log, store, sockets, currentSeq });
  /** Hands a connection an event from its socket (the socket adapter's one way in). */
  const dispatch = (connectionId: string, event: ConnectionEvent) => {
    if (event.type === 'socket.closed') sockets.remove(connectionId);
    // While the log cannot be written, conversations take no input: it could not be logged, so
    // it could not be answered. Pings still get their pong.
    if (
      event.type === 'frame.received' &&
      event.frame.type !== 'ping' &&
      log.status().state === 'degraded'
    ) {
      sockets.reply(connectionId, logUnavailableFrame(event.frame.type));
      return;
    }
    sendToConnection(root.system, connectionId, event);
  };

  // Every participant hears at once that the log stopped: their frames are held until it recovers.
  let logState = log.status().state;
  log.onStatus((status) => {
    const previous = logState;
    logState = status.state;
    if (status.state !== 'degraded' || previous === 'degraded') return;
    for (const connectionId of [...sockets.connectionIds()]) {
      sockets.reply(connectionId, logUnavailableFrame());
    }
  });

  const loader = createConversationLoader({
    log,
    store,
    historyMessages: config.historyMessages,
    now,
    isAlive: (conversationId) => currentSeq(conversationId) !== undefined,
  });

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
      role,
    }) {
      await loader.load(conversationId);
      sockets.add(connectionId, conversationId, socket, { gated: since !== undefined });
      if (log.status().state === 'degraded') sockets.reply(connectionId, logUnavailableFrame());
      root.send({
        type: 'connection.open',
        connectionId,
        userId,
        conversationId,
        socket,
        ...(since === undefined ? {} : { since }),
        ...(role === undefined ? {} : { role }),
      });
      if (since !== undefined) void replies.resume(connectionId, since);
      return new Handle(connectionId, dispatch);
    },
    currentSeq,
    reply(connectionId, body) {
      sockets.reply(connectionId, body);
    },
    async changeMembership(conversationId, change) {
      await loader.load(conversationId);
      root.send({ type: 'conversation.ensure', conversationId });
      const conversation = actor(conversationKey(conversationId));
      conversation?.send({ type: 'membership.change', ...change });
      const members = membersOf(conversationId) ?? [];
      await new Promise<void>((resolve) => {
        log.afterDurable(() => {
          resolve();
        });
      });
      return members;
    },
    async deleteConversation(conversationId) {
      if (store.deleteConversation === undefined) {
        throw new ParleyError(
          'internal_error',
          'This event store cannot delete conversations (it has no deleteConversation).',
        );
      }
      actor(conversationKey(conversationId))?.send({ type: 'conversation.delete' });
      // Its last appends (inputs before the delete) are written before the erase, not after it.
      await log.flush();
      const erased = await store.deleteConversation(conversationId);
      log.forget(conversationId);
      return erased;
    },
    async conversationInfo(conversationId) {
      const seq = currentSeq(conversationId);
      if (seq !== undefined) {
        const members = membersOf(conversationId);
        return {
          conversationId,
          members: members?.length === 0 ? undefined : members,
          lastSeq: seq,
        };
      }
      await log.flush();
      const last = await store.lastPosition(conversationId);
      if (last === undefined) return undefined;
      return {
        conversationId,
        members: await readMembers(store, conversationId, last.seq),
        lastSeq: last.seq,
      };
    },
    stats() {
      return {
        connections: sockets.size,
        hibernated: hibernatedCount(),
        conversations: children().filter((id) => id.startsWith('conversation:')).length,
        turns: { running: pool.running, waiting: pool.waiting },
        log: { pending: log.pending, status: log.status() },
      };
    },
    async expireIdleConversations(maxAgeMs) {
      if (store.idleConversations === undefined || store.deleteConversation === undefined) {
        return [];
      }
      const removed: string[] = [];
      // Entries still on their way would otherwise land after the removal.
      await log.flush();
      for (const conversationId of await store.idleConversations(now() - maxAgeMs)) {
        // Checked right before each removal: a conversation joined meanwhile is kept.
        if (currentSeq(conversationId) !== undefined || loader.isLoading(conversationId)) continue;
        log.forget(conversationId);
        await store.deleteConversation(conversationId);
        removed.push(conversationId);
      }
      return removed;
    },
    async stop() {
      for (const id of children()) {
        if (id.startsWith('conversation:')) actor(id)?.send({ type: 'conversation.shutdown' });
      }
      // Frames leave after the log has them: the completions go out before the close frames.
      await new Promise<void>((resolve) => {
        log.afterDurable(() => {
          resolve();
        });
      });
      const { running, hibernated } = connectionIds();
      for (const id of [...running, ...hibernated]) {
        sendToConnection(root.system, id, { type: 'server.shutdown' });
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

/** The `error` frame of a log that cannot be written (no store detail: clients see no paths). */
function logUnavailableFrame(inReplyTo?: string) {
  return {
    type: 'error' as const,
    code: 'log_unavailable' as const,
    message:
      'The event log cannot be written: this conversation takes no input until it recovers; nothing sent to you is lost, and what is held is delivered in order once it is written.',
    ...(inReplyTo === undefined ? {} : { in_reply_to: inReplyTo }),
  };
}

/**
 * What `openConnection` returns: a class, not an object with a closure, because every idle
 * connection holds one (two fields instead of an object, a closure and its scope: ~0.1 KiB).
 */
class Handle implements ConnectionHandle {
  constructor(
    readonly connectionId: string,
    private readonly dispatch: (connectionId: string, event: ConnectionEvent) => void,
  ) {}

  send(event: ConnectionEvent): void {
    this.dispatch(this.connectionId, event);
  }
}
