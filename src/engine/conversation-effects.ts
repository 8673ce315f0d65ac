import { finalize, tap, type SchedulerLike } from 'rxjs';
import type { ConversationEffects } from '../../actors/conversation-state.js';
import { conversationKey } from '../../actors/parley.machine.js';
import type { WorkerPool } from '../../streams/worker-pool.js';
import type { ModelToolDescription } from '../agent/model.js';
import { resumeTurn, runTurn, type ApprovalVerdicts } from '../agent/run-turn.js';
import type { TurnContinuation } from '../agent/turn-event.js';
import type { ParleyConfig } from '../config.js';
import type { TurnEffects } from './engine-types.js';
import { withFrameJson } from '../event-log/entry-json.js';
import type { EventLog } from '../event-log/event-log.js';
import { recordingModel, serializablePart } from './recording-model.js';
import type { Sockets } from './sockets.js';
import { stampFrame } from './stamp-frame.js';
import { submitTurn } from './submit-turn.js';

/** What one conversation's effects are built from. */
export interface ConversationEffectsOptions {
  conversationId: string;
  config: ParleyConfig;
  log: EventLog;
  sockets: Sockets;
  pool: WorkerPool;
  now: () => number;
  scheduler: SchedulerLike;
  toolDescriptions: readonly ModelToolDescription[];
  turnEffects: (turnId: string, stepsDone?: number) => TurnEffects;
  /** Whether the worker pool has a waiting place for one more turn. */
  hasTurnRoom: () => boolean;
  onPipeline?: (path: string, detail: Record<string, unknown>) => void;
  /** Told when an entry cannot be appended. */
  onLogError?: (error: unknown) => void;
}

/**
 * The effects a conversation actor asks for. Everything it does outside itself goes through here
 * and into the log first: frames (sent only once logged), inputs, model stream parts with their
 * offsets, and tool outcomes; the inspector's pipeline taps too.
 *
 * @example
 * const effects = createConversationEffects({ conversationId: 'demo', config, log, sockets, ... });
 */
export function createConversationEffects({
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
  onPipeline,
  onLogError,
}: ConversationEffectsOptions): ConversationEffects {
  /** Whether the log took the entries (a frame it did not take is never sent). */
  const append = (entries: Parameters<EventLog['append']>[1]): boolean => {
    // A full or closed log must not throw out of an actor's action (XState would rethrow it
    // and end the process): the operator is told, and what was not logged is not delivered.
    try {
      log.append(conversationId, entries);
      return true;
    } catch (error) {
      onLogError?.(error);
      return false;
    }
  };
  // The job each turn runs as, when it is not the turn's own id: the continuation of a turn that
  // waited for approvals is a job of its own (a replay holds its start by that id).
  const jobs = new Map<string, string>();
  return {
    publish({ seq, recipients, body, to }) {
      const frame = stampFrame(body, conversationId, seq, now());
      // Serialized once, sent as is to every recipient.
      const data = JSON.stringify(frame);
      const logged = append([
        withFrameJson(
          to === undefined
            ? { kind: 'frame', conversation_id: conversationId, at: now(), seq, frame }
            : { kind: 'frame', conversation_id: conversationId, at: now(), seq, frame, to },
          data,
        ),
      ]);
      if (!logged) return;
      // The log is the truth: a frame leaves only once the log has it, and never when it was
      // not written (the log closed while the store was failing, or another instance fenced
      // this one off).
      log.afterDurable((written) => {
        if (!written || log.isFenced(conversationId)) return;
        if (to !== undefined) sockets.sendDirect(to, data);
        else for (const connectionId of recipients) sockets.sendEvent(connectionId, data, seq);
      });
    },
    recordInput(afterSeq, input) {
      append([
        { kind: 'input', conversation_id: conversationId, at: now(), after_seq: afterSeq, input },
      ]);
    },
    hasTurnRoom,
    closeConnection(connectionId, code, reason) {
      // After the frames published before it (the `membership` frame that says why).
      log.afterDurable(() => {
        sockets.close(connectionId, code, reason);
      });
    },
    reserveTurnSlot() {
      pool.reserve();
    },
    releaseTurnSlot() {
      pool.release();
    },
    cancelTurn(turnId) {
      const jobId = jobs.get(turnId) ?? turnId;
      jobs.delete(turnId);
      pool.cancel(jobId);
    },
    submitTurn(turnId, messages, send) {
      submitTurn(pool, turnId, runTurnWithEffects(turnId, messages), send);
    },
    resumeTurn(turnId, continuation, verdicts, send) {
      const jobId = `${turnId}@${String(continuation.steps)}`;
      jobs.set(turnId, jobId);
      // The turn was admitted when its message was: its continuation is never refused a place.
      pool.reserve({ force: true });
      const turn$ = runTurnWithEffects(turnId, continuation.messages, { continuation, verdicts });
      submitTurn(
        pool,
        turnId,
        turn$.pipe(
          finalize(() => {
            if (jobs.get(turnId) === jobId) jobs.delete(turnId);
          }),
        ),
        send,
        jobId,
      );
    },
  };

  function runTurnWithEffects(
    turnId: string,
    messages: Parameters<typeof runTurn>[0],
    resume?: { continuation: TurnContinuation; verdicts: ApprovalVerdicts },
  ) {
    const stepsDone = resume?.continuation.steps ?? 0;
    const effects = turnEffects(turnId, stepsDone);
    const pipeline = onPipeline;
    const inFlight = new Map<string, Record<string, unknown>>();
    const poolStats = () => {
      pipeline?.('pool', { running: pool.running, waiting: pool.waiting, turn_id: turnId });
    };
    poolStats();
    const dependencies: Parameters<typeof runTurn>[1] = {
      model: recordingModel(
        effects.model,
        (step, offsetMs, part) => {
          append([
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
      ),
      tools: toolDescriptions,
      executeTool: effects.executeTool,
      maxSteps: config.maxSteps,
      toolTimeoutMs: config.toolTimeoutMs,
      turnTimeoutMs: config.turnTimeoutMs,
      tokenPacingMs: config.tokenPacingMs,
      scheduler,
      now,
      ...(effects.needsApproval === undefined ? {} : { needsApproval: effects.needsApproval }),
    };
    const turn$ =
      resume === undefined
        ? runTurn(messages, dependencies)
        : resumeTurn(resume.continuation, resume.verdicts, dependencies);
    return turn$.pipe(
      tap((event) => {
        if (
          pipeline !== undefined &&
          (event.type === 'tool-call' || event.type === 'tool-result')
        ) {
          if (event.type === 'tool-call') {
            inFlight.set(event.toolCallId, {
              tool_call_id: event.toolCallId,
              tool_name: event.toolName,
              deadline_at: now() + config.toolTimeoutMs,
            });
          } else inFlight.delete(event.toolCallId);
          pipeline(conversationKey(conversationId), {
            turn_id: turnId,
            tools_in_flight: [...inFlight.values()],
          });
        }
        if (event.type !== 'tool-result') return;
        append([
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
