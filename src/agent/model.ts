/**
 * The model contract (version `parley.model.v1`): what every language model, offline or remote,
 * implements. It follows the shape of the real LLM streaming APIs so that a provider for OpenAI,
 * Anthropic or any other API plugs in without touching actors or streams.
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
  inputTokens: number;
  outputTokens: number;
}

/** Why the model stopped. */
export type ModelFinishReason = 'stop' | 'tool-calls' | 'length' | 'error' | 'other';

/** One part of a model's streamed response, discriminated on `type`. */
export type ModelStreamPart =
  | { type: 'text-delta'; delta: string }
  | ({ type: 'tool-call' } & ModelToolCall)
  | { type: 'finish'; finishReason: ModelFinishReason; usage: ModelUsage }
  | { type: 'error'; error: unknown };

/** What the agent loop asks of a model for one step. */
export interface ModelRequest {
  messages: readonly ModelMessage[];
  tools: readonly ModelToolDescription[];
}

/** Per-call options: the signal aborts the request (turn cancelled or timed out). */
export interface ModelCallOptions {
  signal: AbortSignal;
}

/**
 * A streaming language model. `stream` yields text deltas and tool calls as they arrive and ends
 * with exactly one `finish` part. Implementations must stop work when `signal` aborts.
 *
 * @example
 * const model: LanguageModel = createOfflineModel();
 * for await (const part of model.stream({ messages, tools }, { signal })) console.log(part);
 */
export interface LanguageModel {
  readonly specificationVersion: 'parley.model.v1';
  /** Provider name, e.g. `offline`, `openai`. */
  readonly provider: string;
  readonly modelId: string;
  stream(request: ModelRequest, options: ModelCallOptions): AsyncIterable<ModelStreamPart>;
}
