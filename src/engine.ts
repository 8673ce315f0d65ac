/**
 * Over 300 lines because it wires the engine in one closure: the actor system's inputs need the
 * log, the sockets, the loader and the replies together.
 *
 * The engine: one actor system (root → shards → conversations, root → shards → connections), one worker
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
import { markUninspected } from '../actors/transition-lane.js';
import type { ConversationMachineInput } from '../actors/conversation.machine.js';
import { conversationKey, parleyMachine } from '../actors/parley.machine.js';
import {
  CONVERSATION_SHARDS,
  conversationShardKey,
  conversationShardKeyAt,
  ROOT_SYSTEM_ID,
} from '../actors/system-ids.js';
import type { ConversationShardRef } from '../actors/conversation-shard.machine.js';
import { createWorkerPool } from '../streams/worker-pool.js';
import type { ModelToolCall } from './agent/model.js';
import { defaultAgent, DEFAULT_AGENT_ID } from './agent/agents.js';
import { restoreAgent, type Agent } from './agent/agent.js';
import type { LanguageModel, ModelUsage } from './agent/model.js';
import { TokenBudget } from './engine/token-budget.js';
import { createOfflineModel } from './agent/offline-model.js';
import { ParleyError } from './errors.js';
import { UserTurnQueue } from './engine/user-turn-queue.js';
import { conversationEffectsFactory } from './engine/conversation-effects.js';
import { createConversationLoader } from './engine/conversation-loader.js';
import { conversationSettings, replaySettings } from './engine/engine-settings.js';
import type { ConnectionHandle, Engine, EngineOptions } from './engine/engine-types.js';
import { RateLimiter } from './engine/rate-limiter.js';
import { expireIdleConversations } from './engine/expire-conversations.js';
import { logUnavailableFrame, watchLogOutage } from './engine/log-outage.js';
import { createReplies } from './engine/replies.js';
import { readMembers } from './engine/restore-conversation.js';
import type { Member } from '../actors/membership.js';
import { Sockets } from './engine/sockets.js';
import { createEventLog } from './event-log/event-log.js';
import { MemoryEventStore } from './event-log/memory-store.js';
import { randomSeed, seededIds } from './ids.js';
import { ParleyMetrics } from './metrics/parley-metrics.js';
import { createDefaultToolRegistry } from './tools/registry.js';

export type * from './engine/engine-types.js';

/** Hibernated conversations whose history is read back from the log at once, at most. */
const WAKES_AT_ONCE = 32;

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
  const tools = options.tools ?? createDefaultToolRegistry();
  const toolDescriptions = tools.describe();
  const toolNames: ReadonlySet<string> = new Set(toolDescriptions.map((tool) => tool.name));
  const agents = agentsById(options.agents, options.model);
  const fallbackAgent = defaultAgent([...agents.values()]);
  const budget =
    config.userTokenBudget > 0
      ? new TokenBudget({ limit: config.userTokenBudget, windowMs: config.userTokenWindowMs, now })
      : undefined;
  const turnEffects =
    options.turnEffects ??
    ((_turnId: string, _stepsDone: number, agent: Agent) => ({
      ...(budget === undefined
        ? {}
        : {
            overBudget: (userId: string, usage: ModelUsage) => {
              budget.spend(userId, usage.inputTokens + usage.outputTokens);
              return budget.exceeded(userId);
            },
          }),
      model: agent.model,
      executeTool: (name: string, input: unknown, signal: AbortSignal) => {
        // The agent's own MCP tools first: they are outside its allow-list of shared tools.
        if (agent.ownTools?.has(name) === true) {
          return agent.ownTools.execute(name, input, { signal, now });
        }
        // The model sees only the agent's tools; one it names anyway is not run.
        if (agent.tools !== undefined && !agent.tools.includes(name)) {
          return Promise.reject(
            new ParleyError('unknown_tool', `The agent ${agent.id} has no tool ${name}.`),
          );
        }
        return tools.execute(name, input, { signal, now });
      },
      needsApproval: (call: ModelToolCall) =>
        agent.ownTools?.has(call.toolName) === true
          ? agent.ownTools.needsApproval(call.toolName)
          : (tools.needsApproval?.(call.toolName) ?? false),
      // Asked per turn: an MCP server's tools come, go and change while the engine runs.
      tools: () => {
        const own = agent.ownTools;
        const describe = () =>
          own === undefined ? tools.describe() : [...tools.describe(), ...own.describe()];
        const pending = [tools.ready?.(), own?.ready()].filter((ready) => ready !== undefined);
        return pending.length === 0 ? describe() : Promise.all(pending).then(describe);
      },
    }));
  const idSeed = options.idSeed ?? (() => randomSeed());
  const nextConnectionId =
    options.nextConnectionId ?? ((prefix) => seededIds(randomSeed())(prefix));
  const store = options.store ?? new MemoryEventStore();
  const metrics = options.metrics ?? new ParleyMetrics();
  const log = createEventLog({
    store,
    maxPending: config.logMaxPending,
    ...(options.onLogError ? { onError: options.onLogError } : {}),
    onBatch: (entries, seconds, error) => {
      metrics.logBatch(entries, seconds, error);
    },
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
    metrics,
  });
  // One settings object per agent, shared by its conversations: none changes its settings, and a
  // hibernating conversation should not carry its own copy.
  const settingsByAgent = new WeakMap<Agent, ReturnType<typeof conversationSettings>>();
  const settingsOf = (agent: Agent) => {
    let settings = settingsByAgent.get(agent);
    if (settings === undefined) {
      settings = conversationSettings(config, options.recordAgent === false ? undefined : agent);
      settingsByAgent.set(agent, settings);
    }
    return settings;
  };
  const userTurns = new UserTurnQueue(config.userTurnQueueSize);
  const hasTurnRoom =
    options.hasTurnRoom ??
    ((userId?: string) => pool.waiting < pool.maxWaiting && userTurns.hasRoom(userId));

  const conversationEffects = conversationEffectsFactory({
    config,
    log,
    sockets,
    pool,
    now,
    scheduler,
    toolDescriptions,
    turnEffects,
    hasTurnRoom,
    userTurns,
    metrics,
    toolNames,
    ...(options.onPipeline === undefined ? {} : { onPipeline: options.onPipeline }),
    ...(options.onLogError === undefined ? {} : { onLogError: options.onLogError }),
    ...(options.onFrameDurable === undefined ? {} : { onFrameDurable: options.onFrameDurable }),
    onOverflow: (conversationId) => {
      restartAfterOverflow(conversationId);
    },
  });

  // One effects object for every connection: nothing in it belongs to a connection, and an idle
  // connection should not carry its own copy of four closures.
  const connectionEffects: ConnectionEffects = {
    now,
    reply: (connectionId, body) => {
      sockets.reply(connectionId, body);
    },
    takeRateToken: options.takeRateToken ?? ((userId) => rateLimiter.take(userId)),
    ...(budget === undefined || options.takeRateToken !== undefined
      ? {}
      : { checkBudget: (userId: string) => budget.check(userId) }),
    resume: (connectionId, since) => {
      void replies.resume(connectionId, since);
    },
    history: (connectionId, query) => {
      void replies.history(connectionId, query);
    },
  };

  // Wakes load at most WAKES_AT_ONCE histories at a time: 10,000 clients writing at once after
  // a quiet spell wake 10,000 conversations, and loading them all at once holds every load's
  // reads and promises together. Measured when a leave still woke its conversation (it no longer
  // does: actors/hibernated-leave.ts), with 10,000 connections closing at once
  // (bench/conversation-memory.ts): RSS 214 → 324 MiB over such a wave; with this limit, in a run
  // that started higher, 281 → 308 MiB (V8 keeps what the heap grew to, so the limit bounds the
  // wave, not what came before). Two runs on a shared, noisy machine: worth measuring again.
  const wakes: string[] = [];
  let waking = 0;
  const wakeNext = (): void => {
    while (waking < WAKES_AT_ONCE && wakes.length > 0) {
      const conversationId = wakes.shift() as string;
      waking += 1;
      // A log that cannot be read wakes the conversation anyway: it keeps its seq and
      // participants, and answers with the history it could read (none).
      const wake = () => {
        waking -= 1;
        conversationShard(conversationId)?.send({ type: 'conversation.wake', conversationId });
        wakeNext();
      };
      loader.load(conversationId).then(wake, (error: unknown) => {
        options.onLogError?.(error);
        wake();
      });
    }
  };

  const root = createActor(parleyMachine, {
    systemId: ROOT_SYSTEM_ID,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.inspect === undefined ? {} : { inspect: options.inspect }),
    input: {
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      conversationIdleMs: config.conversationIdleMs,
      wakeConversation: (conversationId) => {
        wakes.push(conversationId);
        wakeNext();
      },
      // A leave taken by a hibernated conversation (its shard does not wake it) logs and
      // publishes only: no turn runs, so the agent it was created with does not matter here.
      hibernatedEffects: (conversationId) => conversationEffects(conversationId, fallbackAgent),
      conversationInput: (conversationId, { agentId, awoken } = {}): ConversationMachineInput => {
        const previous = loader.take(conversationId);
        // A conversation keeps the agent it was created with, whatever a later join asks for.
        const recorded = previous?.agent;
        const agent =
          recorded === undefined
            ? ((agentId === undefined ? undefined : agents.get(agentId)) ?? fallbackAgent)
            : restoreAgent(recorded, agents.get(recorded.id) ?? fallbackAgent);
        // Every input in one literal of the same keys: XState keeps an actor's input for its
        // life, and an object built by spreading gets a hidden class of its own (~0.25 KiB each
        // past V8's first few, heap snapshots of bench/conversation-memory.ts).
        const settings = settingsOf(agent);
        const effects = conversationEffects(conversationId, agent);
        // A wake leaves no trace in the log: the conversation goes on with its own seed and seq.
        if (awoken !== undefined) {
          return {
            conversationId,
            idSeed: awoken.idSeed,
            settings,
            effects,
            idleMs: config.conversationIdleMs,
            hibernateAfterMs: config.conversationHibernateAfterMs,
            emptyHibernateAfterMs: config.conversationEmptyHibernateAfterMs,
            restored: previous,
            awoken,
          };
        }
        const seed = idSeed(conversationId);
        const recordedSettings = replaySettings(config, agent, options.recordAgent !== false);
        try {
          log.append(conversationId, [
            {
              kind: 'conversation.started',
              conversation_id: conversationId,
              at: now(),
              id_seed: seed,
              from_seq: previous?.seq ?? 0,
              settings: recordedSettings,
            },
          ]);
        } catch (error) {
          // Spawning happens inside the root actor: a full log must not throw out of it.
          options.onLogError?.(error);
        }
        return {
          conversationId,
          idSeed: seed,
          settings,
          effects,
          idleMs: config.conversationIdleMs,
          hibernateAfterMs: config.conversationHibernateAfterMs,
          emptyHibernateAfterMs: config.conversationEmptyHibernateAfterMs,
          restored: previous,
          awoken: undefined,
        };
      },
      // One literal, as for conversations: the actor keeps its input (connectionContext copies it).
      connectionInput: (base) => ({
        connectionId: base.connectionId,
        userId: base.userId,
        conversationId: base.conversationId,
        socket: base.socket,
        since: base.since,
        role: base.role,
        readOnly: base.readOnly,
        effects: connectionEffects,
        hibernateAfterMs: config.hibernateAfterMs,
        slowConsumerGraceMs: config.slowConsumerGraceMs,
      }),
    },
  });
  // No inspector: the token lane need not build the inspection record XState would drop.
  if (options.inspect === undefined) markUninspected(root.system);
  // Stopping an actor must not walk every timer of the system.
  indexTimersBySource(root.system);
  root.start();

  const actor = (systemId: string) => root.system.get(systemId) as AnyActorRef | undefined;
  const conversationShard = (conversationId: string) =>
    actor(conversationShardKey(conversationId)) as ConversationShardRef | undefined;
  /** The conversation shards, to count or stop their conversations without copying them. */
  const conversationShards = () =>
    Array.from(
      { length: CONVERSATION_SHARDS },
      (_, index) => actor(conversationShardKeyAt(index)) as ConversationShardRef | undefined,
    ).filter((shard) => shard !== undefined);
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
  /** Whether the conversation's actor runs (not hibernated, not stopped). */
  const isRunning = (conversationId: string) =>
    (actor(conversationKey(conversationId))?.getSnapshot() as { status: string } | undefined)
      ?.status === 'active';
  /** The conversation's seq, running or hibernated; undefined for one that is not kept. */
  const currentSeq = (conversationId: string): number | undefined => {
    const snapshot = actor(conversationKey(conversationId))?.getSnapshot() as
      { status: string; context: { seq: number } } | undefined;
    if (snapshot?.status === 'active') return snapshot.context.seq;
    return conversationShard(conversationId)?.getSnapshot().context.hibernated.get(conversationId)
      ?.conversation.seq;
  };
  const membersOf = (conversationId: string) => {
    const snapshot = actor(conversationKey(conversationId))?.getSnapshot() as
      { status: string; context: { members: Member[] } } | undefined;
    return snapshot?.status === 'active' ? snapshot.context.members : undefined;
  };
  const replies = createReplies({
    log,
    store,
    sockets,
    currentSeq,
    outboundBufferFrames: config.outboundBufferFrames,
  });
  const stats = () => ({
    connections: sockets.size,
    hibernated: hibernatedCount(),
    conversations: conversationShards().reduce(
      (count, shard) => count + Object.keys(shard.getSnapshot().children).length,
      0,
    ),
    hibernated_conversations: conversationShards().reduce(
      (count, shard) => count + shard.getSnapshot().context.hibernated.size,
      0,
    ),
    waking_conversations: waking + wakes.length,
    turns: { running: pool.running, waiting: pool.waiting },
    log: { pending: log.pending, status: log.status() },
  });
  metrics.bind(stats);
  /** Hands a connection an event from its socket (the socket adapter's one way in). */
  const dispatch = (connectionId: string, event: ConnectionEvent) => {
    if (event.type === 'socket.closed') sockets.remove(connectionId);
    if (
      event.type === 'frame.received' &&
      (outage.refuses(event.frame.type) ||
        (overflowed.size > 0 &&
          event.frame.type !== 'ping' &&
          overflowed.has(sockets.conversationOf(connectionId) ?? '')))
    ) {
      sockets.reply(connectionId, logUnavailableFrame(event.frame.type));
      return;
    }
    sendToConnection(root.system, connectionId, event);
  };

  const outage = watchLogOutage(log, sockets);

  const loader = createConversationLoader({
    log,
    store,
    historyMessages: config.historyMessages,
    now,
    isAlive: isRunning,
  });

  function evict(conversationId: string) {
    const connections = sockets.connectionsOf(conversationId);
    for (const { connectionId } of connections) {
      sockets.remove(connectionId);
      // The socket is gone from `sockets` first, so the actor's leave and close reach nobody.
      sendToConnection(root.system, connectionId, { type: 'socket.closed', code: 1001 });
    }
    actor(conversationKey(conversationId))?.send({ type: 'conversation.shutdown' });
    actor(conversationShardKey(conversationId))?.send({
      type: 'conversation.stopped',
      conversationId,
    });
    log.forget(conversationId);
    return connections;
  }

  /**
   * A conversation whose entry the log refused (`PARLEY_LOG_MAX_PENDING`, during a long store
   * outage) logs and sends nothing more, so nobody sees the seq it had given the refused frame.
   * Once the log has written everything appended before, its sockets close with 1012 (clients
   * resume with `?since=`) and it is restarted from the log: it goes on from its last logged seq,
   * and its cut-off turn ends `interrupted`.
   */
  const overflowed = new Set<string>();
  function restartAfterOverflow(conversationId: string) {
    if (overflowed.has(conversationId)) return;
    overflowed.add(conversationId);
    log.afterDurable(() => {
      overflowed.delete(conversationId);
      for (const connectionId of sockets.connectionIdsOf(conversationId)) {
        sockets.close(connectionId, 1012, 'log_unavailable');
      }
      evict(conversationId);
    });
  }

  return {
    config,
    pool,
    log,
    metrics,
    agents,
    async openConnection({
      connectionId = nextConnectionId('conn'),
      userId,
      conversationId,
      socket,
      since,
      role,
      readOnly,
      agent,
      remote = false,
      lastEventSeq = 0,
    }) {
      if (agent !== undefined && !agents.has(agent)) throw unknownAgent(agent, agents);
      await loader.load(conversationId);
      sockets.add(connectionId, conversationId, socket, {
        gated: since !== undefined && !remote,
        remote,
        lastEventSeq,
      });
      outage.greet(connectionId);
      root.send({
        type: 'connection.open',
        connectionId,
        userId,
        conversationId,
        socket,
        ...(since === undefined ? {} : { since }),
        ...(role === undefined ? {} : { role }),
        ...(readOnly === undefined ? {} : { readOnly }),
        ...(agent === undefined ? {} : { agentId: agent }),
      });
      if (since !== undefined && !remote) void replies.resume(connectionId, since);
      return new Handle(connectionId, dispatch);
    },
    evict,
    currentSeq,
    reply(connectionId, body) {
      sockets.reply(connectionId, body);
    },
    async changeMembership(conversationId, change, { agent } = {}) {
      if (agent !== undefined && !agents.has(agent)) throw unknownAgent(agent, agents);
      await loader.load(conversationId);
      root.send({
        type: 'conversation.ensure',
        conversationId,
        ...(agent === undefined ? {} : { agentId: agent }),
      });
      const conversation = actor(conversationKey(conversationId));
      conversation?.send({ type: 'membership.change', ...change });
      // A conversation past the log's pending limit logs nothing until its restart.
      if (overflowed.has(conversationId)) {
        throw new ParleyError(
          'log_unavailable',
          `The event log cannot take the change to conversation ${conversationId} now; it was not made. Try again shortly.`,
        );
      }
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
      // Nothing of it stays in memory, hibernated or not: the id starts again from seq 1.
      actor(conversationShardKey(conversationId))?.send({
        type: 'conversation.stopped',
        conversationId,
      });
      return erased;
    },
    async conversationInfo(conversationId) {
      // A hibernated conversation keeps no members in memory: the log has them.
      const members = membersOf(conversationId);
      const seq = currentSeq(conversationId);
      if (members !== undefined && seq !== undefined) {
        return {
          conversationId,
          members: members.length === 0 ? undefined : members,
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
    stats,
    expireIdleConversations(maxAgeMs) {
      const isBusy = (id: string) => currentSeq(id) !== undefined || loader.isLoading(id);
      return expireIdleConversations({ log, now, isBusy }, maxAgeMs);
    },
    async stop() {
      for (const shard of conversationShards()) {
        for (const child of Object.values(shard.getSnapshot().children)) {
          child?.send({ type: 'conversation.shutdown' });
        }
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

/** The engine's agents by id: those given, or `default` with `model` (the offline one). */
function agentsById(
  given: readonly Agent[] | undefined,
  model: LanguageModel | undefined,
): ReadonlyMap<string, Agent> {
  if (given === undefined || given.length === 0) {
    const only = model ?? createOfflineModel();
    return new Map([
      [
        DEFAULT_AGENT_ID,
        {
          id: DEFAULT_AGENT_ID,
          modelSpec: only.provider === 'offline' ? 'offline' : `${only.provider}:${only.modelId}`,
          model: only,
        },
      ],
    ]);
  }
  const byId = new Map<string, Agent>();
  for (const agent of given) {
    if (byId.has(agent.id)) throw new TypeError(`Duplicate agent id ${JSON.stringify(agent.id)}.`);
    byId.set(agent.id, agent);
  }
  return byId;
}

/**
 * The error of a join that names an agent the server does not have.
 *
 * @example
 * throw unknownAgent('sales', engine.agents);
 */
export function unknownAgent(id: string, agents: ReadonlyMap<string, Agent>): ParleyError {
  return new ParleyError(
    'unknown_agent',
    `There is no agent ${JSON.stringify(id)}: expected one of ${[...agents.keys()].join(', ')}.`,
  );
}
