/**
 * One agent turn as an Observable: model → tool calls → model … until the model stops or the
 * step cap is hit, with tokens paced and the whole turn under a deadline.
 */
import {
  EMPTY,
  asyncScheduler,
  catchError,
  concat,
  defer,
  from,
  map,
  mergeMap,
  of,
  tap,
  throwError,
  type Observable,
  type SchedulerLike,
} from 'rxjs';
import { deadline } from '../../streams/deadline.js';
import { fromAbortableIterable } from '../../streams/from-abortable-iterable.js';
import { paceTokens } from '../../streams/pace-tokens.js';
import { runToolCall } from '../../streams/run-tool-call.js';
import { toParleyError } from '../errors.js';
import type {
  LanguageModel,
  ModelMessage,
  ModelToolCall,
  ModelToolDescription,
  ModelUsage,
} from './model.js';
import type { TurnEvent } from './turn-event.js';

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
  /** Delay before each token; 0 disables pacing. @default 30 */
  tokenPacingMs: number;
  /** Tool calls of one step that run at once. @default 4 */
  maxParallelToolCalls?: number;
  scheduler?: SchedulerLike;
}

/**
 * Runs one turn over `messages` (history plus the user message that started it).
 *
 * Emits text deltas, tool calls and tool results as they happen, a `usage` event per model call,
 * and exactly one `finish` event last (`completed`, `step_limit`, `failed` or `timed_out`);
 * never errors. Unsubscribing (cancel) aborts the model request and any running tool.
 *
 * @example
 * runTurn(messages, { model, tools, executeTool, maxSteps: 8, ... }).subscribe(send)
 */
export function runTurn(
  messages: readonly ModelMessage[],
  dependencies: TurnDependencies,
): Observable<TurnEvent> {
  // A fresh pipeline per subscription, so a resubscribed turn (a retry) counts steps from zero.
  return defer(() => runOneTurn(messages, dependencies));
}

/** The pipeline of one subscription to {@link runTurn}; its step counter belongs to it alone. */
function runOneTurn(
  messages: readonly ModelMessage[],
  dependencies: TurnDependencies,
): Observable<TurnEvent> {
  const scheduler = dependencies.scheduler ?? asyncScheduler;
  let steps = 0;
  const step = (context: readonly ModelMessage[]): Observable<TurnEvent> =>
    defer(() => {
      steps += 1;
      let text = '';
      const toolCalls: ModelToolCall[] = [];
      const model$ = fromAbortableIterable((signal) =>
        dependencies.model.stream({ messages: context, tools: dependencies.tools }, { signal }),
      ).pipe(
        mergeMap((part): Observable<TurnEvent> => {
          switch (part.type) {
            case 'text-delta':
              text += part.delta;
              return part.delta === '' ? EMPTY : of({ type: 'text-delta', delta: part.delta });
            case 'tool-call': {
              const call = {
                toolCallId: part.toolCallId,
                toolName: part.toolName,
                input: part.input,
              };
              toolCalls.push(call);
              return of({ type: 'tool-call', ...call });
            }
            case 'finish':
              return of({ type: 'usage', usage: part.usage });
            case 'error':
              return throwError(() => toParleyError(part.error, 'model_failed'));
          }
        }),
      );
      const next$ = defer((): Observable<TurnEvent> => {
        if (toolCalls.length === 0) return of(finish('completed', steps));
        if (steps >= dependencies.maxSteps) return of(finish('step_limit', steps));
        // Results go to the model in the order the calls were made, whatever order they finish in.
        const results: ModelMessage[] = new Array<ModelMessage>(toolCalls.length);
        const tools$ = from(toolCalls.entries()).pipe(
          mergeMap(
            ([index, call]) =>
              runToolCall(
                (signal) =>
                  dependencies.executeTool(call.toolName, call.input, signal, call.toolCallId),
                {
                  timeoutMs: dependencies.toolTimeoutMs,
                  scheduler,
                },
              ).pipe(
                tap((outcome) => {
                  results[index] = {
                    role: 'tool',
                    toolCallId: call.toolCallId,
                    toolName: call.toolName,
                    output: outcome.ok ? outcome.output : { error: outcome.error },
                    isError: !outcome.ok,
                  };
                }),
                map((outcome): TurnEvent => ({ type: 'tool-result', ...call, outcome })),
              ),
            dependencies.maxParallelToolCalls ?? 4,
          ),
        );
        const assistant: ModelMessage = { role: 'assistant', content: text, toolCalls };
        return concat(
          tools$,
          defer(() => step([...context, assistant, ...results])),
        );
      });
      return concat(model$, next$);
    });

  return step(messages).pipe(
    catchError((error: unknown) => {
      const failure = toParleyError(error, 'model_failed');
      return of<TurnEvent>({
        type: 'finish',
        status: 'failed',
        steps,
        error: { code: failure.code, message: failure.message },
      });
    }),
    paceTokens(dependencies.tokenPacingMs, (event) => event.type === 'text-delta', scheduler),
    deadline(
      dependencies.turnTimeoutMs,
      (): TurnEvent => ({
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

function finish(status: 'completed' | 'step_limit', steps: number): TurnEvent {
  return { type: 'finish', status, steps };
}

/** Adds two usage records. */
export function addUsage(left: ModelUsage, right: ModelUsage): ModelUsage {
  return {
    inputTokens: left.inputTokens + right.inputTokens,
    outputTokens: left.outputTokens + right.outputTokens,
  };
}
