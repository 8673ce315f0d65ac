/**
 * The part of the Vercel AI SDK's LanguageModel specification (`@ai-sdk/provider`) that Parley
 * uses, written so that both a V3 model (`@ai-sdk/*` on the Node 20 line) and a V4 model (the
 * current line, Node 22+) fit it.
 *
 * V4 changes nothing Parley sends: the same prompt messages, function tools and call options. Its
 * stream adds parts Parley does not use (`ping`, `custom`, `reasoning-file`), a finish reason
 * (`interrupted`) and a tagged `data` on files; the adapter ignores what it does not know.
 */
import type { JSONSchema7, JSONValue, LanguageModelV3StreamPart } from '@ai-sdk/provider';

/** The specification versions Parley adapts. */
export type SpecificationVersion = 'v3' | 'v4';

/** A tool result as the specification carries it back to the model. */
export type SpecificationToolResultOutput =
  | { type: 'text'; value: string }
  | { type: 'json'; value: JSONValue }
  | { type: 'error-text'; value: string }
  | { type: 'error-json'; value: JSONValue };

/** A prompt message: the subset of the specification's messages a chat turn needs. */
export type SpecificationMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: { type: 'text'; text: string }[] }
  | {
      role: 'assistant';
      content: (
        | { type: 'text'; text: string }
        | { type: 'tool-call'; toolCallId: string; toolName: string; input: unknown }
      )[];
    }
  | {
      role: 'tool';
      content: {
        type: 'tool-result';
        toolCallId: string;
        toolName: string;
        output: SpecificationToolResultOutput;
      }[];
    };

/** A function tool: its name, description and JSON Schema, sent to the provider as they are. */
export interface SpecificationFunctionTool {
  type: 'function';
  name: string;
  description?: string;
  inputSchema: JSONSchema7;
}

/** The call options Parley sends with each `doStream`. */
export interface SpecificationCallOptions {
  prompt: SpecificationMessage[];
  tools?: SpecificationFunctionTool[];
  toolChoice?: { type: 'auto' };
  maxOutputTokens?: number;
  temperature?: number;
  abortSignal?: AbortSignal;
}

/** Parts only a V4 stream has, and V4's wider finish reason. */
type V4OnlyStreamPart =
  | { type: 'ping' }
  | { type: 'custom'; kind: string }
  | { type: 'reasoning-file'; mediaType: string }
  | {
      type: 'finish';
      usage: Extract<LanguageModelV3StreamPart, { type: 'finish' }>['usage'];
      finishReason: { unified: 'interrupted'; raw: string | undefined };
    };

/** One part of a V3 or V4 stream, as the adapter reads it. */
export type SpecificationStreamPart = LanguageModelV3StreamPart | V4OnlyStreamPart;

/**
 * A language model of the AI SDK specification, version 3 or 4: what `openai('gpt-4o-mini')`,
 * `anthropic('claude-…')` or `createOpenAICompatible(…)('llama3.2')` return.
 *
 * @example
 * import { createOpenAI } from '@ai-sdk/openai';
 * const model: SpecificationLanguageModel = createOpenAI({ apiKey }).chat('gpt-4o-mini');
 */
export interface SpecificationLanguageModel {
  readonly specificationVersion: SpecificationVersion;
  readonly provider: string;
  readonly modelId: string;
  /** Starts a streamed generation; its parts are checked as they are read. */
  doStream(options: SpecificationCallOptions): PromiseLike<{ stream: ReadableStream<unknown> }>;
}

/**
 * Whether `value` looks like an AI SDK specification model of a version Parley adapts.
 *
 * @example
 * if (isSpecificationModel(model)) model = fromSpecificationModel(model);
 */
export function isSpecificationModel(value: unknown): value is SpecificationLanguageModel {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<Record<'specificationVersion' | 'doStream', unknown>>;
  return (
    (candidate.specificationVersion === 'v3' || candidate.specificationVersion === 'v4') &&
    typeof candidate.doStream === 'function'
  );
}
