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
import type { ConversationMachineInput } from '../actors/conversation.machine.js';
import { conversationKey, parleyMachine } from '../actors/parley.machine.js';
import { ROOT_SYSTEM_ID } from '../actors/system-ids.js';
import { createWorkerPool } from '../streams/worker-pool.js';
import type { ModelToolCall } from './agent/model.js';
import { defaultAgent, DEFAULT_AGENT_ID } from './agent/agents.js';
import { restoreAgent, type Agent } from './agent/agent.js';
import type { LanguageModel } from './agent/model.js';
import { createOfflineModel } from './agent/offline-model.js';
import { ParleyError } from './errors.js';
import { createConversationEffects } from './engine/conversation-effects.js';
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
  const tools = options.tools ?? createDefaultToolRegistry();
  const toolDescriptions = tools.describe();
  const agents = agentsById(options.agents, options.model);
  const fallbackAgent = defaultAgent([...agents.values()]);
  const turnEffects =
    options.turnEffects ??
    ((_turnId: string, _stepsDone: number, agent: Agent) => ({
      model: agent.model,
      executeTool: (name: string, input: unknown, signal: AbortSignal) => {
        // The model sees only the agent's tools; one it names anyway is not run.
        if (agent.tools !== undefined && !agent.tools.includes(name)) {
          return Promise.reject(
            new ParleyError('unknown_tool', `The agent ${agent.id} has no tool ${name}.`),
          );
        }
        return tools.execute(name, input, { signal, now });
      },
      needsApproval: (call: ModelToolCall) => tools.needsApproval?.(call.toolName) ?? false,
      // Asked per turn: an MCP server's tools come, go and change while the engine runs.
      tools: () => {
        const pending = tools.ready?.();
        return pending === undefined ? tools.describe() : pending.then(() => tools.describe());
      },
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
  const hasTurnRoom = options.hasTurnRoom ?? (() => pool.waiting < pool.maxWaiting);

  const conversationEffects = (conversationId: string, agent: Agent) =>
    createConversationEffects({
      conversationId,
      agent,
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
    systemId: ROOT_SYSTEM_ID,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.inspect === undefined ? {} : { inspect: options.inspect }),
    input: {
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      conversationIdleMs: config.conversationIdleMs,
      wakeConversation: (conversationId) => {
        // A log that cannot be read wakes the conversation anyway: it keeps its seq and
        // participants, and answers with the history it could read (none).
        const wake = () => {
          root.send({ type: 'conversation.wake', conversationId });
        };
        loader.load(conversationId).then(wake, (error: unknown) => {
          options.onLogError?.(error);
          wake();
        });
      },
      conversationInput: (conversationId, { agentId, awoken } = {}): ConversationMachineInput => {
        const previous = loader.take(conversationId);
        // A conversation keeps the agent it was created with, whatever a later join asks for.
        const recorded = previous?.agent;
        const agent =
          recorded === undefined
            ? ((agentId === undefined ? undefined : agents.get(agentId)) ?? fallbackAgent)
            : restoreAgent(recorded, agents.get(recorded.id) ?? fallbackAgent);
        const common = {
          conversationId,
          idleMs: config.conversationIdleMs,
          hibernateAfterMs: config.conversationHibernateAfterMs,
          effects: conversationEffects(conversationId, agent),
          settings: settingsOf(agent),
        };
        // A wake leaves no trace in the log: the conversation goes on with its own seed and seq.
        if (awoken !== undefined) {
          return {
            ...common,
            idSeed: awoken.idSeed,
            awoken,
            ...(previous === undefined ? {} : { restored: previous }),
          };
        }
        const seed = idSeed(conversationId);
        const settings = replaySettings(config, agent, options.recordAgent !== false);
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
          ...common,
          idSeed: seed,
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
  /** Whether the conversation's actor runs (not hibernated, not stopped). */
  const isRunning = (conversationId: string) =>
    (actor(conversationKey(conversationId))?.getSnapshot() as { status: string } | undefined)
      ?.status === 'active';
  /** The conversation's seq, running or hibernated; undefined for one that is not kept. */
  const currentSeq = (conversationId: string): number | undefined => {
    const snapshot = actor(conversationKey(conversationId))?.getSnapshot() as
      { status: string; context: { seq: number } } | undefined;
    if (snapshot?.status === 'active') return snapshot.context.seq;
    return root.getSnapshot().context.hibernatedConversations.get(conversationId)?.conversation.seq;
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
  /** Hands a connection an event from its socket (the socket adapter's one way in). */
  const dispatch = (connectionId: string, event: ConnectionEvent) => {
    if (event.type === 'socket.closed') sockets.remove(connectionId);
    if (event.type === 'frame.received' && outage.refuses(event.frame.type)) {
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

  return {
    config,
    pool,
    log,
    agents,
    async openConnection({
      connectionId = nextConnectionId('conn'),
      userId,
      conversationId,
      socket,
      since,
      role,
      agent,
    }) {
      if (agent !== undefined && !agents.has(agent)) throw unknownAgent(agent, agents);
      await loader.load(conversationId);
      sockets.add(connectionId, conversationId, socket, { gated: since !== undefined });
      outage.greet(connectionId);
      root.send({
        type: 'connection.open',
        connectionId,
        userId,
        conversationId,
        socket,
        ...(since === undefined ? {} : { since }),
        ...(role === undefined ? {} : { role }),
        ...(agent === undefined ? {} : { agentId: agent }),
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
    stats() {
      return {
        connections: sockets.size,
        hibernated: hibernatedCount(),
        conversations: children().filter((id) => id.startsWith('conversation:')).length,
        hibernated_conversations: root.getSnapshot().context.hibernatedConversations.size,
        turns: { running: pool.running, waiting: pool.waiting },
        log: { pending: log.pending, status: log.status() },
      };
    },
    expireIdleConversations(maxAgeMs) {
      const isBusy = (id: string) => currentSeq(id) !== undefined || loader.isLoading(id);
      return expireIdleConversations({ log, now, isBusy }, maxAgeMs);
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
