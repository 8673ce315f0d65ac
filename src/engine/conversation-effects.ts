/**
 * Over 300 lines because it is the one adapter between a conversation actor and the world: log, sockets, pool, metrics.
 */
import { defer, filter, finalize, from, switchMap, tap, type SchedulerLike } from 'rxjs';
import type {
  ConversationEffects,
  Publication,
  RecordedInput,
  TurnActorEvent,
} from '../../actors/conversation-state.js';
import { conversationKey } from '../../actors/parley.machine.js';
import type { WorkerPool } from '../../streams/worker-pool.js';
import type { Agent } from '../agent/agent.js';
import type {
  ModelMessage,
  ModelStreamPart,
  ModelToolDescription,
  ModelUsage,
} from '../agent/model.js';
import {
  resumeTurnWithProgress,
  runTurnWithProgress,
  type ApprovalVerdicts,
  type TurnDependencies,
} from '../agent/run-turn.js';
import type { TurnContinuation } from '../agent/turn-event.js';
import type { ParleyConfig } from '../config.js';
import { ParleyError, type CloseCode } from '../errors.js';
import type { TurnEffects } from './engine-types.js';
import { withFrameJson } from '../event-log/entry-json.js';
import type { EventLog } from '../event-log/event-log.js';
import type { ParleyMetrics } from '../metrics/parley-metrics.js';
import { TurnMeter } from '../metrics/turn-meter.js';
import { recordingModel, serializablePart } from './recording-model.js';
import type { Sockets } from './sockets.js';
import { stampFrame } from './stamp-frame.js';
import type { UserTurnQueue } from './user-turn-queue.js';
import { submitTurn } from './submit-turn.js';

/** What every conversation's effects share: one object per engine. */
export interface ConversationEffectsOptions {
  config: ParleyConfig;
  log: EventLog;
  sockets: Sockets;
  pool: WorkerPool;
  now: () => number;
  scheduler: SchedulerLike;
  toolDescriptions: readonly ModelToolDescription[];
  turnEffects: (turnId: string, stepsDone: number, agent: Agent) => TurnEffects;
  /** Whether the worker pool has a waiting place for one more turn (of this user's). */
  hasTurnRoom: (userId?: string) => boolean;
  /** Turns waiting for a worker, per user. */
  userTurns: UserTurnQueue;
  /** Moved by every turn, tool call, model part and refusal of this conversation. */
  metrics: ParleyMetrics;
  /** The registered tools' names: a tool call to any other counts as `unknown`. */
  toolNames: ReadonlySet<string>;
  onPipeline?: (path: string, detail: Record<string, unknown>) => void;
  /** Told when an entry cannot be appended. */
  onLogError?: (error: unknown) => void;
  /**
   * Told when the log refused one of this conversation's entries because too many wait to be
   * written: the conversation logs and sends nothing more, and is restarted from the log once
   * the log has caught up, so the seq it had given the refused frame is never seen (no gap).
   */
  onOverflow?: (conversationId: string) => void;
  /** Cluster mode: each frame once the log has it (see EngineOptions.onFrameDurable). */
  onFrameDurable?: (
    conversationId: string,
    frame: { seq: number; to?: string; text: string },
  ) => void;
}

/** A text-delta part whose entry waits for its chunk frame. */
interface PendingDelta {
  turnId: string;
  step: number;
  offsetMs: number;
  at: number;
  delta: string;
}

/**
 * The effects a conversation actor asks for. Everything it does outside itself goes through here
 * and into the log first: frames (sent only once logged), inputs, model stream parts with their
 * offsets, and tool outcomes; the inspector's pipeline taps too.
 *
 * @example
 * const effectsOf = conversationEffectsFactory({ config, log, sockets, pool, ... });
 * const effects = effectsOf('demo', agent);
 */
export function conversationEffectsFactory(
  options: ConversationEffectsOptions,
): (conversationId: string, agent: Agent) => ConversationEffects {
  return (conversationId, agent) => new EngineConversationEffects(options, conversationId, agent);
}

/**
 * One conversation's effects. Its methods live on the prototype and what they share lives in one
 * object per engine, so a conversation pays for a few fields, and for its turn state (waiting
 * deltas, continuation jobs, turn timings) once it has a turn. Closures and empty maps per
 * conversation took 1.6 KiB of each idle conversation's heap; this takes 0.1 KiB (heap snapshots
 * of bench/conversation-memory.ts's 10,000 one-participant conversations).
 */
class EngineConversationEffects implements ConversationEffects {
  readonly #shared: ConversationEffectsOptions;
  readonly #conversationId: string;
  readonly #agent: Agent;
  readonly #meter: TurnMeter;
  /**
   * Text-delta parts whose entry waits for their chunk frame: a chunk that follows its part with
   * nothing logged between carries it (`part`, entry version 2), so a token is one entry, not two.
   * Made by the first turn.
   */
  #pendingDeltas: PendingDelta[] | undefined;
  /**
   * The job each turn runs as, when it is not the turn's own id: the continuation of a turn that
   * waited for approvals is a job of its own (a replay holds its start by that id). Made by the
   * first continuation.
   */
  #jobs: Map<string, string> | undefined;
  /** The log refused an entry (its pending limit): nothing more is logged or sent. */
  #overflowed = false;

  constructor(shared: ConversationEffectsOptions, conversationId: string, agent: Agent) {
    this.#shared = shared;
    this.#conversationId = conversationId;
    this.#agent = agent;
    this.#meter = new TurnMeter(shared.metrics, shared.now);
  }

  publish({ seq, recipients, body, to }: Publication): void {
    const { log, sockets, now, onFrameDurable } = this.#shared;
    const conversationId = this.#conversationId;
    this.#meter.published(body);
    const frame = stampFrame(body, conversationId, seq, now());
    // Serialized once, sent as is to every recipient.
    const data = JSON.stringify(frame);
    const carried = to === undefined ? this.#carriedPart(body) : undefined;
    if (carried === undefined) this.#flushDeltas();
    const logged = this.#appendNow([
      withFrameJson(
        to !== undefined
          ? { kind: 'frame', conversation_id: conversationId, at: now(), seq, frame, to }
          : carried === undefined
            ? { kind: 'frame', conversation_id: conversationId, at: now(), seq, frame }
            : {
                kind: 'frame',
                conversation_id: conversationId,
                at: now(),
                seq,
                frame,
                part: carried,
              },
        data,
      ),
    ]);
    if (!logged) return;
    // The log is the truth: a frame leaves only once the log has it, and never when it was
    // not written (the log closed while the store was failing, or another instance fenced
    // this one off).
    log.afterDurable((written) => {
      if (!written || log.isFenced(conversationId)) return;
      onFrameDurable?.(
        conversationId,
        to === undefined ? { seq, text: data } : { seq, to, text: data },
      );
      if (to !== undefined) sockets.sendDirect(to, data);
      else sockets.sendEventToAll(recipients, data, seq, body.type);
    });
  }

  recordInput(afterSeq: number, input: RecordedInput): void {
    this.#append([
      {
        kind: 'input',
        conversation_id: this.#conversationId,
        at: this.#shared.now(),
        after_seq: afterSeq,
        input,
      },
    ]);
  }

  hasTurnRoom(userId?: string): boolean {
    return this.#shared.hasTurnRoom(userId);
  }

  closeConnection(connectionId: string, code: CloseCode, reason: string): void {
    const { log, sockets } = this.#shared;
    // After the frames published before it (the `membership` frame that says why).
    log.afterDurable(() => {
      sockets.close(connectionId, code, reason);
    });
  }

  reserveTurnSlot(userId: string): void {
    this.#shared.pool.reserve();
    this.#shared.userTurns.add(userId);
  }

  releaseTurnSlot(userId: string): void {
    this.#shared.pool.release();
    this.#shared.userTurns.remove(userId);
  }

  cancelTurn(turnId: string): void {
    const jobId = this.#jobs?.get(turnId) ?? turnId;
    this.#jobs?.delete(turnId);
    this.#shared.pool.cancel(jobId);
  }

  submitTurn(
    turnId: string,
    messages: ModelMessage[],
    send: (event: TurnActorEvent) => void,
  ): void {
    const { pool, userTurns } = this.#shared;
    const { systemPrompt } = this.#agent;
    // The system prompt leads every turn's context; a continuation already starts with it.
    const system: ModelMessage[] =
      systemPrompt === undefined ? [] : [{ role: 'system', content: systemPrompt }];
    // Its waiting place was counted to the user whose message started it (reserveTurnSlot).
    const userId = messages.findLast((message) => message.role === 'user')?.userId;
    submitTurn(
      pool,
      turnId,
      this.#runTurnWithEffects(turnId, [...system, ...messages]),
      this.#meter.observe(send),
      undefined,
      userId === undefined
        ? undefined
        : () => {
            userTurns.remove(userId);
          },
    );
  }

  resumeTurn(
    turnId: string,
    continuation: TurnContinuation,
    verdicts: ApprovalVerdicts,
    send: (event: TurnActorEvent) => void,
  ): void {
    const { pool } = this.#shared;
    const jobs = (this.#jobs ??= new Map());
    const jobId = `${turnId}@${String(continuation.steps)}`;
    jobs.set(turnId, jobId);
    // The turn was admitted when its message was: its continuation is never refused a place.
    pool.reserve({ force: true });
    const turn$ = this.#runTurnWithEffects(turnId, continuation.messages, {
      continuation,
      verdicts,
    });
    submitTurn(
      pool,
      turnId,
      turn$.pipe(
        finalize(() => {
          if (jobs.get(turnId) === jobId) jobs.delete(turnId);
        }),
      ),
      this.#meter.observe(send),
      jobId,
    );
  }

  /** Whether the log took the entries (a frame it did not take is never sent). */
  #appendNow(entries: Parameters<EventLog['append']>[1]): boolean {
    // After a refused frame, a later one would show its seq missing: the conversation waits,
    // silent, for its restart from the log.
    if (this.#overflowed) return false;
    // A full or closed log must not throw out of an actor's action (XState would rethrow it
    // and end the process): the operator is told, and what was not logged is not delivered.
    try {
      this.#shared.log.append(this.#conversationId, entries);
      return true;
    } catch (error) {
      this.#shared.onLogError?.(error);
      if (error instanceof ParleyError && error.details?.max_pending !== undefined) {
        this.#overflowed = true;
        this.#shared.onOverflow?.(this.#conversationId);
      }
      return false;
    }
  }

  /** Logs the waiting text-delta parts as their own entries, in the order they came. */
  #flushDeltas(): void {
    const pendingDeltas = this.#pendingDeltas;
    if (pendingDeltas === undefined || pendingDeltas.length === 0) return;
    const conversationId = this.#conversationId;
    this.#appendNow(
      pendingDeltas.splice(0).map((pending) => ({
        kind: 'model.part' as const,
        conversation_id: conversationId,
        at: pending.at,
        turn_id: pending.turnId,
        step: pending.step,
        offset_ms: pending.offsetMs,
        part: { type: 'text-delta', delta: pending.delta },
      })),
    );
  }

  /** Appends after the waiting parts, so the log keeps the order things happened in. */
  #append(entries: Parameters<EventLog['append']>[1]): boolean {
    this.#flushDeltas();
    return this.#appendNow(entries);
  }

  /** The waiting part a chunk frame carries: the first one, when it is this chunk's text. */
  #carriedPart(body: { type: string }): { step: number; offset_ms: number } | undefined {
    const pending = this.#pendingDeltas?.[0];
    if (pending === undefined || body.type !== 'agent_response_chunk') return undefined;
    const chunk = body as { turn_id?: unknown; delta?: unknown };
    if (chunk.turn_id !== pending.turnId || chunk.delta !== pending.delta) return undefined;
    this.#pendingDeltas?.shift();
    return { step: pending.step, offset_ms: pending.offsetMs };
  }

  /** The agent's tools among those described: the allow-list names shared tools; its own MCP tools are its own. */
  #toolsOfAgent(described: readonly ModelToolDescription[]): readonly ModelToolDescription[] {
    const agent = this.#agent;
    const agentTools = agent.tools;
    return agentTools === undefined
      ? described
      : described.filter(
          (tool) => agentTools.includes(tool.name) || agent.ownTools?.has(tool.name) === true,
        );
  }

  #runTurnWithEffects(
    turnId: string,
    messages: readonly ModelMessage[],
    resume?: { continuation: TurnContinuation; verdicts: ApprovalVerdicts },
  ) {
    const { config, pool, now, scheduler, metrics, toolNames, toolDescriptions } = this.#shared;
    const conversationId = this.#conversationId;
    const agent = this.#agent;
    const maxSteps = agent.maxSteps ?? config.maxSteps;
    const toolTimeoutMs = agent.toolTimeoutMs ?? config.toolTimeoutMs;
    const pendingDeltas = (this.#pendingDeltas ??= []);
    const stepsDone = resume?.continuation.steps ?? 0;
    const effects = this.#shared.turnEffects(turnId, stepsDone, agent);
    const { provider, modelId } = effects.model;
    const { overBudget } = effects;
    // The turn's tokens are charged to the user whose message started it.
    const userId = messages.findLast((message) => message.role === 'user')?.userId;
    const pipeline = this.#shared.onPipeline;
    const inFlight = new Map<string, Record<string, unknown>>();
    const poolStats = () => {
      pipeline?.('pool', { running: pool.running, waiting: pool.waiting, turn_id: turnId });
    };
    poolStats();
    const start = (described: readonly ModelToolDescription[]) => {
      const dependencies: TurnDependencies = {
        model: recordingModel(
          effects.model,
          (step, offsetMs, part) => {
            if (part.type === 'error') metrics.providerError(provider, errorCode(part.error));
            // A plain text delta waits for its chunk frame, which will carry it.
            if (isPlainTextDelta(part)) {
              pendingDeltas.push({ turnId, step, offsetMs, at: now(), delta: part.delta });
              return;
            }
            this.#append([
              {
                kind: 'model.part',
                conversation_id: conversationId,
                at: now(),
                turn_id: turnId,
                step,
                offset_ms: offsetMs,
                part: serializablePart(part),
              },
            ]);
          },
          scheduler,
          stepsDone,
          (code) => {
            metrics.providerRetry(provider, code);
          },
        ),
        tools: this.#toolsOfAgent(described),
        executeTool: effects.executeTool,
        maxSteps,
        toolTimeoutMs,
        toolResultMaxChars: config.toolResultMaxChars,
        turnTimeoutMs: config.turnTimeoutMs,
        tokenPacingMs: config.tokenPacingMs,
        scheduler,
        now,
        ...(effects.needsApproval === undefined ? {} : { needsApproval: effects.needsApproval }),
        ...(overBudget === undefined || userId === undefined
          ? {}
          : { overBudget: (usage: ModelUsage) => overBudget(userId, usage) }),
      };
      return resume === undefined
        ? runTurnWithProgress(messages, dependencies)
        : resumeTurnWithProgress(resume.continuation, resume.verdicts, dependencies);
    };
    // Described when a worker starts the turn; a promise (lazy MCP servers) delays it till then.
    const turn$ = defer(() => {
      const described = effects.tools?.() ?? toolDescriptions;
      return described instanceof Promise
        ? from(described).pipe(switchMap(start))
        : start(described);
    });
    return turn$.pipe(
      // Reasoning reaches participants only from an agent that shows it.
      filter((event) => event.type !== 'reasoning-delta' || agent.showReasoning === true),
      tap((event) => {
        if (event.type === 'usage') metrics.tokens(provider, modelId, event.usage);
        if (event.type === 'tool-result') {
          const { outcome } = event;
          metrics.toolCall(
            toolNames.has(event.toolName) ? event.toolName : 'unknown',
            outcome.ok ? 'ok' : outcome.error.code,
            outcome.durationMs / 1000,
          );
        }
        if (
          pipeline !== undefined &&
          (event.type === 'tool-call' || event.type === 'tool-result')
        ) {
          if (event.type === 'tool-call') {
            inFlight.set(event.toolCallId, {
              tool_call_id: event.toolCallId,
              tool_name: event.toolName,
              deadline_at: now() + toolTimeoutMs,
            });
          } else inFlight.delete(event.toolCallId);
          pipeline(conversationKey(conversationId), {
            turn_id: turnId,
            tools_in_flight: [...inFlight.values()],
          });
        }
        if (event.type !== 'tool-result') return;
        this.#append([
          {
            kind: 'tool.outcome',
            conversation_id: conversationId,
            at: now(),
            turn_id: turnId,
            tool_call_id: event.toolCallId,
            tool_name: event.toolName,
            outcome: event.outcome,
          },
        ]);
      }),
      finalize(poolStats),
    );
  }
}

/** A text-delta part with nothing but its text, which a chunk frame can carry whole. */
function isPlainTextDelta(part: ModelStreamPart): part is { type: 'text-delta'; delta: string } {
  if (part.type !== 'text-delta' || part.delta === '') return false;
  for (const key in part) if (key !== 'type' && key !== 'delta') return false;
  return true;
}

/** The code of a model's error part: a ParleyError's, or `other` for anything else. */
function errorCode(error: unknown): string {
  const code =
    typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : 'other';
}
