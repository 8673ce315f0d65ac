/**
 * The engine's public types: its options (every injectable effect), the handle a transport gets
 * per socket, and the running engine.
 */
import type { SchedulerLike } from 'rxjs';
import type { ActorOptions, AnyActorLogic, InspectionEvent } from 'xstate';
import type { ConnectionEvent, SocketPort } from '../../actors/connection-types.js';
import type { Member, MemberChange, MembershipAction, Role } from '../../actors/membership.js';
import type { WorkerPool } from '../../streams/worker-pool.js';
import type { Agent } from '../agent/agent.js';
import type {
  LanguageModel,
  ModelToolCall,
  ModelToolDescription,
  ModelUsage,
} from '../agent/model.js';
import type { ToolExecutor } from '../agent/run-turn.js';
import type { ParleyConfig } from '../config.js';
import type { EventLog } from '../event-log/event-log.js';
import type { EventStore } from '../event-log/event-store.js';
import type { IdGenerator } from '../ids.js';
import type { ParleyMetrics } from '../metrics/parley-metrics.js';
import type { RateLimitDecision } from './rate-limiter.js';
import type { ToolRegistry } from '../tools/registry.js';

/** XState's clock interface (setTimeout/clearTimeout), e.g. `SimulatedClock` in tests. */
export type Clock = NonNullable<ActorOptions<AnyActorLogic>['clock']>;

/** The engine's injectable effects; every one has a production default. */
export interface EngineOptions {
  config: ParleyConfig;
  /** Where the event log lives. @default an in-memory store (the server uses SQLite) */
  store?: EventStore;
  /** The model of the agent `default` when `agents` is not given. @default the offline rule-based model */
  model?: LanguageModel;
  /**
   * The agents conversations may run (`?agent=<id>` on a conversation's first join); the one
   * with id `default`, else the first, answers when a join names none.
   * @default one agent `default` with `model` and every tool
   */
  agents?: readonly Agent[];
  /**
   * Whether `welcome` names the agent and its model and the log records the agent. A replay of a
   * recording made before agents turns it off, to send the frames it sent. @default true
   */
  recordAgent?: boolean;
  /**
   * The tools, described again as each turn starts (an MCP server's list changes); `ready`, when
   * there, is awaited first (a registry's lazy MCP servers start on the first turn).
   * @default calculator, datetime, weather, search
   */
  tools?: Pick<ToolRegistry, 'describe' | 'execute'> &
    Partial<Pick<ToolRegistry, 'needsApproval' | 'ready'>>;
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
   * The model and tool executor of one turn; `stepsDone` counts the model calls it made before
   * it paused for approvals (0 for a fresh turn). A replay swaps in recorded ones.
   * `agent` is the conversation's.
   * @default the agent's model and the `tools` option
   */
  turnEffects?: (turnId: string, stepsDone: number, agent: Agent) => TurnEffects;
  /** Takes a message from a user's rate budget. @default a token bucket from the config */
  takeRateToken?: (userId: string) => RateLimitDecision;
  /**
   * Whether the worker pool has a waiting place for one more turn, asked as each message
   * arrives. A replay answers as the recording did. @default the pool's own count
   */
  hasTurnRoom?: () => boolean;
  /**
   * The worker pool turns run on. A replay passes one that starts a turn which waited for a
   * worker when the recording says it started.
   * @default a pool of `turnConcurrency` workers with `turnQueueSize` waiting places
   */
  pool?: WorkerPool;
  /** Receives every XState inspection event of the system. */
  inspect?: (event: InspectionEvent) => void;
  /**
   * Pipeline taps for the inspector: `pool` (running and waiting turns, at each turn start and
   * end) and `conversation:<id>` (tool calls in flight with their deadlines).
   */
  onPipeline?: (path: string, detail: Record<string, unknown>) => void;
  /** Told when the log cannot be written (delivery goes on). */
  onLogError?: (error: unknown) => void;
  /**
   * The metrics this engine moves (served at `/metrics`). One per server: two engines in one
   * process given their own count apart. @default a new {@link ParleyMetrics}
   */
  metrics?: ParleyMetrics;
  /**
   * Cluster mode: each frame once the log has it, in log order (the owner publishes it on the
   * conversation's frame stream). `to` is set for a frame to one connection.
   */
  onFrameDurable?: (
    conversationId: string,
    frame: { seq: number; to?: string; text: string },
  ) => void;
}

/** How one turn reaches a model and tools. */
export interface TurnEffects {
  model: LanguageModel;
  executeTool: ToolExecutor;
  /** Whether a call waits for a participant's approval before it runs. @default none does */
  needsApproval?: (call: ModelToolCall) => boolean;
  /**
   * Charges a model call's usage to the user whose message started the turn; true when that
   * user's token budget is now spent (the turn then stops before its next model call).
   * @default the `PARLEY_USER_TOKEN_BUDGET` budget, or never when it is off
   */
  overBudget?: (userId: string, usage: ModelUsage) => boolean;
  /**
   * The tools the model is offered (before the agent's allow-list), asked when the turn starts on
   * its worker (and again when it resumes after approvals); a promise delays the turn until it
   * settles (lazy MCP servers starting, bounded by their connect timeout).
   * @default the tools as the engine described them when it was created
   */
  tools?: () => readonly ModelToolDescription[] | Promise<readonly ModelToolDescription[]>;
}

/** What the transport tells the engine about one socket. */
export interface ConnectionHandle {
  readonly connectionId: string;
  send(event: ConnectionEvent): void;
}

/** A conversation as the log knows it (see {@link Engine.conversationInfo}). */
export interface ConversationInfo {
  conversationId: string;
  /** Undefined when it has no `membership` frame (made by a join in `open` mode). */
  members: Member[] | undefined;
  lastSeq: number;
}

/** Live counters for `/health`. */
export interface EngineStats {
  connections: number;
  /** Connections whose actor hibernates (`PARLEY_HIBERNATE_AFTER_MS`); counted in `connections`. */
  hibernated: number;
  conversations: number;
  /** Conversations whose actor hibernates (`PARLEY_CONVERSATION_HIBERNATE_AFTER_MS`); not in `conversations`. */
  hibernated_conversations: number;
  /** Of those, conversations being woken: their history is read back from the log, or waits to be. */
  waking_conversations: number;
  turns: { running: number; waiting: number };
  log: { pending: number };
}

/** A running engine. */
export interface Engine {
  readonly config: ParleyConfig;
  readonly pool: WorkerPool;
  readonly log: EventLog;
  /** The metrics it moves (its `metrics` option, or its own). */
  readonly metrics: ParleyMetrics;
  /** Restores the conversation from the log if needed, then joins the socket to it. */
  openConnection(options: {
    connectionId?: string;
    userId: string;
    conversationId: string;
    socket: SocketPort;
    /** Resume: send the events after this seq before the live ones. */
    since?: number;
    /** The member role the connection was admitted with; absent when its access is not a role's. */
    role?: Role;
    /** Reads but may not post, whatever its role (the `authorize` hook refused `post`). */
    readOnly?: true;
    /**
     * The agent of a conversation this join creates (`?agent=`); a `ParleyError`
     * `unknown_agent` when there is none of that id. An existing conversation keeps its own.
     */
    agent?: string;
    /**
     * Cluster mode: the socket is on another instance, which delivers the conversation's frames
     * from the frame stream; only replies (pong, history, errors) go to `socket`.
     */
    remote?: boolean;
    /** Cluster mode: the highest event seq the client already has (a connection moved here). */
    lastEventSeq?: number;
  }): Promise<ConnectionHandle>;
  /**
   * Changes a conversation's members: the conversation (restored if needed) logs the change and
   * sends a `membership` frame to every participant; a removed member's sockets close with 4403.
   * Resolves with the member list after the change, once the log has it.
   */
  changeMembership(
    conversationId: string,
    change: { by: string; action: MembershipAction; changes: MemberChange[] },
    /** `agent`: the agent a conversation this change creates gets (as `?agent=` on a first join). */
    options?: { agent?: string },
  ): Promise<Member[]>;
  /**
   * What the log knows of a conversation: its members (from its newest `membership` frame; none
   * for a conversation without one) and its last seq; undefined when the log has never seen it.
   */
  conversationInfo(conversationId: string): Promise<ConversationInfo | undefined>;
  /**
   * Deletes a conversation: its participants are closed with 4404, its turns cancelled, its
   * actor stopped, and every log entry erased. The id can then be created again from seq 1.
   * Resolves with the number of entries erased.
   */
  deleteConversation(conversationId: string): Promise<number>;
  /**
   * Sends one connection a reply that is not a conversation event (`authenticated`, an `error`
   * about its own frame), stamped with the conversation's current seq.
   */
  reply(
    connectionId: string,
    body: Record<string, unknown> & { type: 'authenticated' | 'error' },
  ): void;
  /** The agents conversations may run, by id. */
  readonly agents: ReadonlyMap<string, Agent>;
  /**
   * Cluster mode: this instance no longer owns the conversation. Its connections' actors end
   * without closing their sockets, its turns are interrupted (nothing of that is logged: the
   * store refuses it), and its actor stops. Returns the connections it had with the highest
   * event seq each was sent.
   */
  evict(conversationId: string): { connectionId: string; lastEventSeq: number; remote: boolean }[];
  /** The conversation's current seq, or undefined when it is not loaded. */
  currentSeq(conversationId: string): number | undefined;
  stats(): EngineStats;
  /**
   * Removes from the log every conversation whose newest entry is older than `maxAgeMs` and that
   * is not running or being loaded; resolves with their ids. Does nothing on a store that cannot
   * (`idleConversations`/`deleteConversation` are optional).
   */
  expireIdleConversations(maxAgeMs: number): Promise<string[]>;
  /** Interrupts remaining turns, lets their last frames out, then closes every connection with 1012. */
  stop(): Promise<void>;
  /**
   * Stops the actor system and the pool, flushes the log and closes its store (unless
   * `keepStore`, for a store another engine goes on with); call after the sockets closed.
   */
  dispose(options?: { keepStore?: boolean }): Promise<void>;
}
