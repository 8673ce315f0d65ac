/**
 * Over 300 lines because one turn's loop (model, tools, model …) with approval pauses and resumption is one pipeline.
 *
 * One agent turn as an Observable: model → tool calls → model … until the model stops or the
 * step cap is hit, with tokens paced and the whole turn under a deadline.
 */
import {
  asyncScheduler,
  catchError,
  concat,
  defer,
  filter,
  from,
  map,
  mergeMap,
  of,
  tap,
  type Observable,
  type SchedulerLike,
} from 'rxjs';
import { deadline } from '../../streams/deadline.js';
import { fromAbortableIterable } from '../../streams/from-abortable-iterable.js';
import { paceTokens } from '../../streams/pace-tokens.js';
import { runToolCall, type ToolCallOutcome } from '../../streams/run-tool-call.js';
import { toParleyError } from '../errors.js';
import type {
  LanguageModel,
  ModelMessage,
  ModelStreamPart,
  ModelToolCall,
  ModelToolDescription,
  ModelUsage,
} from './model.js';
import { DEFAULT_TOOL_RESULT_MAX_CHARS, toolOutputForModel } from './tool-output-for-model.js';
import type {
  ApprovalVerdict,
  TurnContinuation,
  TurnEvent,
  TurnEventWithProgress,
  TurnProgressEvent,
} from './turn-event.js';

/**
 * Executes a tool by name; rejects with a `ParleyError` for unknown tools or bad arguments.
 * `toolCallId` identifies the call (a replay uses it to find the recorded outcome).
 */
export type ToolExecutor = (
  name: string,
  input: unknown,
  signal: AbortSignal,
  toolCallId: string,
) => Promise<unknown>;

/** What a turn needs: the model, the tools, the limits and the clock. */
export interface TurnDependencies {
  model: LanguageModel;
  tools: readonly ModelToolDescription[];
  executeTool: ToolExecutor;
  /** Model calls per turn. @default 8 */
  maxSteps: number;
  /** Per tool call. @default 10_000 */
  toolTimeoutMs: number;
  /** Whole turn, pacing included. @default 30_000 */
  turnTimeoutMs: number;
  /**
   * Delay before each token, shorter when the model streams faster (see `paceTokens`); 0
   * disables pacing. @default 30
   */
  tokenPacingMs: number;
  /**
   * Longest tool result the model gets, in characters of JSON; invisible and control
   * characters are removed first (see `toolOutputForModel`). @default 16_000
   */
  toolResultMaxChars?: number;
  /**
   * Told each model call's usage; answering true ends the turn before its next model call with
   * `budget_exceeded` (the user's token budget is spent). @default never
   */
  overBudget?: (usage: ModelUsage) => boolean;
  /** Tool calls of one step that run at once. @default 4 */
  maxParallelToolCalls?: number;
  scheduler?: SchedulerLike;
  /**
   * Whether a call must wait for a participant's approval. A step with such calls runs none of
   * them: the turn ends with `approval-needed`, and {@link resumeTurn} goes on once they are
   * answered. @default no call needs approval
   */
  needsApproval?: (call: ModelToolCall) => boolean;
  /** Wall clock of `approval-needed`'s `at`. @default Date.now */
  now?: () => number;
}

/** The answers a resumed turn got, by tool call id. */
export type ApprovalVerdicts = Readonly<Record<string, ApprovalVerdict>>;

/**
 * Runs one turn over `messages` (history plus the user message that started it).
 *
 * Emits text deltas, tool calls and tool results as they happen, a `usage` event per model call,
 * and exactly one `finish` event last (`completed`, `step_limit`, `failed` or `timed_out`), or
 * `approval-needed` when a step's calls wait for a participant (see {@link resumeTurn}); never
 * errors. Unsubscribing (cancel) aborts the model request and any running tool.
 *
 * @example
 * runTurn(messages, { model, tools, executeTool, maxSteps: 8, ... }).subscribe(send)
 */
export function runTurn(
  messages: readonly ModelMessage[],
  dependencies: TurnDependencies,
): Observable<TurnEvent> {
  // A fresh pipeline per subscription, so a resubscribed turn (a retry) counts steps from zero.
  return defer(() => runOneTurn(messages, dependencies, false) as Observable<TurnEvent>);
}

/**
 * {@link runTurn} with its progress too: the same events, plus each {@link TurnProgressEvent}
 * (tool input as the model writes it, reasoning, the response that answered each step) in the
 * order the model produced it.
 *
 * @example
 * runTurnWithProgress(messages, dependencies).subscribe(send)
 */
export function runTurnWithProgress(
  messages: readonly ModelMessage[],
  dependencies: TurnDependencies,
): Observable<TurnEventWithProgress> {
  return defer(() => runOneTurn(messages, dependencies, true));
}

/**
 * Goes on with a turn that ended with `approval-needed`: runs the paused step's calls (those
 * denied, or needing approval and not approved, only report `tool_denied` to the model), then
 * the following steps, exactly as {@link runTurn} would have. Counts steps on from the pause,
 * and has a turn deadline of its own: the wait for the answers is not the turn's working time.
 *
 * @example
 * resumeTurn(continuation, { call_1: { approved: true } }, dependencies).subscribe(send)
 */
export function resumeTurn(
  continuation: TurnContinuation,
  verdicts: ApprovalVerdicts,
  dependencies: TurnDependencies,
): Observable<TurnEvent> {
  return defer(
    () =>
      runOneTurn(continuation.messages, dependencies, false, {
        continuation,
        verdicts,
      }) as Observable<TurnEvent>,
  );
}

/**
 * {@link resumeTurn} with its progress too, as {@link runTurnWithProgress}.
 *
 * @example
 * resumeTurnWithProgress(continuation, verdicts, dependencies).subscribe(send)
 */
export function resumeTurnWithProgress(
  continuation: TurnContinuation,
  verdicts: ApprovalVerdicts,
  dependencies: TurnDependencies,
): Observable<TurnEventWithProgress> {
  return defer(() =>
    runOneTurn(continuation.messages, dependencies, true, { continuation, verdicts }),
  );
}

/**
 * The pipeline of one subscription to {@link runTurn} (or {@link resumeTurn}, from its
 * continuation); its step counter belongs to it alone.
 */
function runOneTurn(
  messages: readonly ModelMessage[],
  dependencies: TurnDependencies,
  withProgress: boolean,
  resume?: { continuation: TurnContinuation; verdicts: ApprovalVerdicts },
): Observable<TurnEventWithProgress> {
  const scheduler = dependencies.scheduler ?? asyncScheduler;
  // Without progress the turn emits only TurnEvents, which is what runTurn's cast relies on.
  const progress = (event: TurnProgressEvent): TurnEventWithProgress | undefined =>
    withProgress ? event : undefined;
  let steps = resume?.continuation.steps ?? 0;
  let budgetSpent = false;
  let lastFinish: Extract<ModelStreamPart, { type: 'finish' }> | undefined;
  const finish = (status: 'completed' | 'step_limit'): TurnEvent => ({
    type: 'finish',
    status,
    steps,
    // Only a provider's own reason is worth reporting; v1 models never give one, so their
    // finish events stay as they always were.
    ...(lastFinish?.rawFinishReason === undefined
      ? {}
      : { finishReason: lastFinish.finishReason, rawFinishReason: lastFinish.rawFinishReason }),
  });
  /** Runs a step's calls, then the next step with their results (in the order of the calls). */
  const runCalls = (
    context: readonly ModelMessage[],
    toolCalls: readonly ModelToolCall[],
    approval: { needed: readonly string[]; verdicts: ApprovalVerdicts } | undefined,
  ): Observable<TurnEventWithProgress> => {
    // Results go to the model in the order the calls were made, whatever order they finish in.
    const results: ModelMessage[] = new Array<ModelMessage>(toolCalls.length);
    const tools$ = from(toolCalls.entries()).pipe(
      mergeMap(([index, call]) => {
        // Own keys only: a call id such as `constructor` must not find an inherited value.
        const verdict =
          approval !== undefined && Object.hasOwn(approval.verdicts, call.toolCallId)
            ? approval.verdicts[call.toolCallId]
            : undefined;
        // A call that needed approval runs only when approved, whatever else the verdicts hold.
        const denied =
          verdict?.approved === false
            ? verdict.reason
            : approval?.needed.includes(call.toolCallId) === true && verdict === undefined
              ? 'No participant approved this call.'
              : undefined;
        const outcome$ =
          denied === undefined
            ? runToolCall(
                (signal) =>
                  dependencies.executeTool(call.toolName, call.input, signal, call.toolCallId),
                { timeoutMs: dependencies.toolTimeoutMs, scheduler },
              )
            : of<ToolCallOutcome>({
                ok: false,
                error: { code: 'tool_denied', message: denied },
                durationMs: 0,
              });
        return outcome$.pipe(
          tap((outcome) => {
            results[index] = {
              role: 'tool',
              toolCallId: call.toolCallId,
              toolName: call.toolName,
              output: outcome.ok
                ? toolOutputForModel(
                    outcome.output,
                    dependencies.toolResultMaxChars ?? DEFAULT_TOOL_RESULT_MAX_CHARS,
                  )
                : { error: outcome.error },
              isError: !outcome.ok,
            };
          }),
          map((outcome): TurnEventWithProgress => ({ type: 'tool-result', ...call, outcome })),
        );
      }, dependencies.maxParallelToolCalls ?? 4),
    );
    return concat(
      tools$,
      defer(() => step([...context, ...results])),
    );
  };
  const step = (context: readonly ModelMessage[]): Observable<TurnEventWithProgress> =>
    defer(() => {
      steps += 1;
      const thisStep = steps;
      let text = '';
      const toolCalls: ModelToolCall[] = [];
      const toolNames = new Map<string, string>();
      const model$ = fromAbortableIterable((signal) =>
        dependencies.model.stream({ messages: context, tools: dependencies.tools }, { signal }),
      ).pipe(
        // One event or none per part, at once: `map` and `filter` rather than `mergeMap` and an
        // inner `of` per token (an inner subscription per token was ~7 % of a token's CPU).
        map((part): TurnEventWithProgress | undefined => {
          switch (part.type) {
            case 'text-delta':
              text += part.delta;
              return part.delta === '' ? undefined : { type: 'text-delta', delta: part.delta };
            case 'reasoning-delta':
              return part.delta === ''
                ? undefined
                : progress({ type: 'reasoning-delta', delta: part.delta });
            case 'tool-input-start':
              toolNames.set(part.toolCallId, part.toolName);
              return progress({
                type: 'tool-input-start',
                toolCallId: part.toolCallId,
                toolName: part.toolName,
              });
            case 'tool-input-delta':
              return progress({
                type: 'tool-input-delta',
                toolCallId: part.toolCallId,
                toolName: toolNames.get(part.toolCallId) ?? '',
                delta: part.delta,
              });
            case 'tool-input-end':
              return progress({ type: 'tool-input-end', toolCallId: part.toolCallId });
            case 'response-metadata':
              return progress({
                type: 'model-response',
                step: thisStep,
                ...(part.responseId === undefined ? {} : { responseId: part.responseId }),
                ...(part.modelId === undefined ? {} : { modelId: part.modelId }),
              });
            case 'tool-call': {
              const call = {
                toolCallId: part.toolCallId,
                toolName: part.toolName,
                input: part.input,
              };
              toolCalls.push(call);
              return { type: 'tool-call', ...call };
            }
            case 'finish':
              lastFinish = part;
              if (dependencies.overBudget?.(part.usage) === true) budgetSpent = true;
              return { type: 'usage', usage: part.usage };
            case 'error':
              throw toParleyError(part.error, 'model_failed');
          }
        }),
        filter((event): event is TurnEventWithProgress => event !== undefined),
      );
      const next$ = defer((): Observable<TurnEventWithProgress> => {
        if (toolCalls.length === 0) return of(finish('completed'));
        if (steps >= dependencies.maxSteps) return of(finish('step_limit'));
        // The user's budget is spent: no further model call (this step's tools do not run).
        if (budgetSpent) {
          return of<TurnEventWithProgress>({
            type: 'finish',
            status: 'budget_exceeded',
            steps,
            error: {
              code: 'budget_exceeded',
              message:
                'Your token budget for this period is spent; the turn stopped before its next model call.',
            },
          });
        }
        const assistant: ModelMessage = { role: 'assistant', content: text, toolCalls };
        const approvalNeeded = toolCalls
          .filter((call) => dependencies.needsApproval?.(call) === true)
          .map((call) => call.toolCallId);
        if (approvalNeeded.length > 0) {
          const continuation = {
            messages: [...context, assistant],
            toolCalls,
            approvalNeeded,
            steps,
          };
          return of({
            type: 'approval-needed',
            continuation,
            at: (dependencies.now ?? Date.now)(),
          });
        }
        return runCalls([...context, assistant], toolCalls, undefined);
      });
      return concat(model$, next$);
    });

  const start$ =
    resume === undefined
      ? step(messages)
      : runCalls(resume.continuation.messages, resume.continuation.toolCalls, {
          needed: resume.continuation.approvalNeeded,
          verdicts: resume.verdicts,
        });
  return start$.pipe(
    catchError((error: unknown) => {
      const failure = toParleyError(error, 'model_failed');
      return of<TurnEventWithProgress>({
        type: 'finish',
        status: 'failed',
        steps,
        error: { code: failure.code, message: failure.message },
      });
    }),
    paceTokens(dependencies.tokenPacingMs, (event) => event.type === 'text-delta', scheduler),
    deadline(
      dependencies.turnTimeoutMs,
      (): TurnEventWithProgress => ({
        type: 'finish',
        status: 'timed_out',
        steps,
        error: {
          code: 'turn_timeout',
          message: `The turn did not finish within ${dependencies.turnTimeoutMs} ms.`,
        },
      }),
      scheduler,
    ),
  );
}

export { addUsage } from './add-usage.js';
