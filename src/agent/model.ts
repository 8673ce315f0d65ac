/**
 * The model contract: what every language model, offline or remote, implements. It follows the
 * shape of the real LLM streaming APIs so that a provider for OpenAI, Anthropic or any other API
 * plugs in without touching actors or streams.
 *
 * Two versions are accepted. `parley.model.v2` is what the provider adapters produce: streamed
 * tool-call arguments, reasoning, cached and reasoning token counts, the provider's own finish
 * reason and response metadata. `parley.model.v1` (text deltas, tool calls, finish, error) is
 * still accepted; its parts are a subset of v2's, and {@link upgradeModel} in `upgrade-model.ts`
 * turns a v1 model into a v2 one.
 */

/** A message in the conversation as the model sees it. */
export type ModelMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string; userId: string }
  | { role: 'assistant'; content: string; toolCalls?: ModelToolCall[] }
  | {
      role: 'tool';
      toolCallId: string;
      toolName: string;
      /** The tool's result, or `{ error: { code, message } }` when `isError`. */
      output: unknown;
      isError: boolean;
    };

/** A tool call requested by the model. */
export interface ModelToolCall {
  toolCallId: string;
  toolName: string;
  /** Arguments as the model produced them (already parsed from JSON). */
  input: unknown;
}

/** A tool the model may call, described for function calling. */
export interface ModelToolDescription {
  name: string;
  description: string;
  /** JSON Schema of the parameters object. */
  inputSchema: Record<string, unknown>;
}

/** Token counts for one model call (or summed over a turn). */
export interface ModelUsage {
  /** Prompt tokens, cached ones included; 0 when the provider did not say. */
  inputTokens: number;
  /** Generated tokens, reasoning included; 0 when the provider did not say. */
  outputTokens: number;
  /** Of `inputTokens`, those read from the provider's prompt cache (v2, when reported). */
  cachedInputTokens?: number;
  /** Of `outputTokens`, those spent on reasoning (v2, when reported). */
  reasoningTokens?: number;
}

/**
 * Why the model stopped: `length` when it hit its output limit, `content-filter` when the
 * provider's filter stopped it, `other` for anything else (the raw reason says more).
 */
export type ModelFinishReason =
  'stop' | 'tool-calls' | 'length' | 'content-filter' | 'error' | 'other';

/** One part of a `parley.model.v1` response, discriminated on `type`. */
export type ModelStreamPartV1 =
  | { type: 'text-delta'; delta: string }
  | ({ type: 'tool-call' } & ModelToolCall)
  | {
      type: 'finish';
      finishReason: Exclude<ModelFinishReason, 'content-filter'>;
      usage: Pick<ModelUsage, 'inputTokens' | 'outputTokens'>;
    }
  | { type: 'error'; error: unknown };

/**
 * One part of a `parley.model.v2` response, discriminated on `type`. Tool-call arguments stream
 * as `tool-input-start`, `tool-input-delta`… `tool-input-end`, always followed by the complete
 * `tool-call` (which is what the agent loop executes).
 */
export type ModelStreamPart =
  | { type: 'text-delta'; delta: string }
  | { type: 'reasoning-delta'; delta: string }
  | { type: 'tool-input-start'; toolCallId: string; toolName: string }
  | { type: 'tool-input-delta'; toolCallId: string; delta: string }
  | { type: 'tool-input-end'; toolCallId: string }
  | ({ type: 'tool-call' } & ModelToolCall)
  | {
      type: 'response-metadata';
      /** The provider's id for this response (`chatcmpl-…`, `msg_…`, `resp_…`). */
      responseId?: string;
      /** The model that actually answered, which may be more precise than the one asked for. */
      modelId?: string;
    }
  | {
      type: 'finish';
      finishReason: ModelFinishReason;
      /** The provider's own word (`end_turn`, `max_tokens`, `stop`…), when it gave one. */
      rawFinishReason?: string;
      usage: ModelUsage;
    }
  | { type: 'error'; error: unknown };

/** What the agent loop asks of a model for one step. */
export interface ModelRequest {
  messages: readonly ModelMessage[];
  tools: readonly ModelToolDescription[];
}

/** Per-call options: the signal aborts the request (turn cancelled or timed out). */
export interface ModelCallOptions {
  signal: AbortSignal;
  /**
   * Told each time a model that retries (`resilientModel`) retries this call, with the error
   * code of the attempt that failed (for metrics). @default none
   */
  onRetry?: (code: string) => void;
}

/** The contract versions Parley accepts. */
export type ModelSpecificationVersion = 'parley.model.v1' | 'parley.model.v2';

/**
 * A streaming language model. `stream` yields parts as they arrive and ends with exactly one
 * `finish` part, or with an `error` part. Implementations must stop work (and close their HTTP
 * request) when `signal` aborts. A `parley.model.v1` model yields only the v1 parts
 * ({@link ModelStreamPartV1}); a `parley.model.v2` model may yield any part.
 *
 * @example
 * const model: LanguageModel = createOfflineModel();
 * for await (const part of model.stream({ messages, tools }, { signal })) console.log(part);
 */
export interface LanguageModel {
  readonly specificationVersion: ModelSpecificationVersion;
  /** Provider name, e.g. `offline`, `openai.chat`, `anthropic.messages`. */
  readonly provider: string;
  readonly modelId: string;
  stream(request: ModelRequest, options: ModelCallOptions): AsyncIterable<ModelStreamPart>;
}

/**
 * A model of contract version 2, what the provider adapters produce.
 *
 * @example
 * const model: LanguageModelV2 = createModelFromSpec('openai:gpt-4o-mini', process.env);
 */
export interface LanguageModelV2 extends LanguageModel {
  readonly specificationVersion: 'parley.model.v2';
}

/**
 * A model of contract version 1: text deltas and tool calls, ending with one `finish` part.
 *
 * @example
 * const model: LanguageModelV1 = createOfflineModel();
 */
export interface LanguageModelV1 extends LanguageModel {
  readonly specificationVersion: 'parley.model.v1';
  stream(request: ModelRequest, options: ModelCallOptions): AsyncIterable<ModelStreamPartV1>;
}
