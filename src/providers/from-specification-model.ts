/**
 * The one adapter from an AI SDK specification model (V3 or V4: OpenAI, Anthropic, any
 * OpenAI-compatible server, or any other `@ai-sdk/*` provider) to Parley's `parley.model.v2`.
 */
import type { LanguageModelV2, ModelRequest, ModelStreamPart } from '../agent/model.js';
import { toProviderError, type ProviderErrorContext } from './provider-error.js';
import {
  isSpecificationModel,
  type SpecificationCallOptions,
  type SpecificationLanguageModel,
  type SpecificationStreamPart,
} from './specification-model.js';
import { toModelStreamPart } from './to-model-stream-part.js';
import { toSpecificationPrompt, toSpecificationTools } from './to-specification-prompt.js';

/** Options of {@link fromSpecificationModel}. */
export interface SpecificationModelOptions {
  /** Sampling temperature, when the agent sets one. @default the provider's */
  temperature?: number;
  /** Output tokens per model call. @default the provider's */
  maxOutputTokens?: number;
  /** Strings never to show in an error message (the API key). @default [] */
  secrets?: readonly string[];
  /** The variable holding the credentials, named when the provider refuses them. */
  credentialVariable?: string;
}

/**
 * Adapts a specification model. Each `stream` call is one `doStream`: the conversation as a
 * specification prompt, the tools as function tools (`toolChoice: auto`), the abort signal passed
 * through so that aborting closes the HTTP request. Every part is mapped as it is read; a failure
 * (a rejected request, an error the provider streams, a connection cut mid-answer) becomes one
 * `error` part holding a `ParleyError` with a `provider_*` code, and the stream ends there.
 *
 * @example
 * import { createOpenAI } from '@ai-sdk/openai';
 * const model = fromSpecificationModel(createOpenAI({ apiKey }).chat('gpt-4o-mini'), { secrets: [apiKey] });
 */
export function fromSpecificationModel(
  model: SpecificationLanguageModel,
  options: SpecificationModelOptions = {},
): LanguageModelV2 {
  if (!isSpecificationModel(model)) {
    const version: unknown = (model as { specificationVersion?: unknown }).specificationVersion;
    throw new TypeError(
      `Expected an AI SDK language model of specification "v3" or "v4" with doStream, got specificationVersion ${JSON.stringify(version)}.`,
    );
  }
  const context: ProviderErrorContext = {
    secrets: options.secrets ?? [],
    ...(options.credentialVariable === undefined
      ? {}
      : { credentialVariable: options.credentialVariable }),
  };
  return {
    specificationVersion: 'parley.model.v2',
    provider: model.provider,
    modelId: model.modelId,
    stream: (request, { signal }) =>
      streamParts(model, callOptions(request, options, signal), context),
  };
}

function callOptions(
  request: ModelRequest,
  options: SpecificationModelOptions,
  signal: AbortSignal,
): SpecificationCallOptions {
  const tools = toSpecificationTools(request.tools);
  return {
    prompt: toSpecificationPrompt(request.messages),
    ...(tools.length === 0 ? {} : { tools, toolChoice: { type: 'auto' } }),
    ...(options.temperature === undefined ? {} : { temperature: options.temperature }),
    ...(options.maxOutputTokens === undefined ? {} : { maxOutputTokens: options.maxOutputTokens }),
    abortSignal: signal,
  };
}

async function* streamParts(
  model: SpecificationLanguageModel,
  options: SpecificationCallOptions,
  context: ProviderErrorContext,
): AsyncGenerator<ModelStreamPart> {
  const signal = options.abortSignal;
  let reader: ReadableStreamDefaultReader<unknown>;
  try {
    reader = (await model.doStream(options)).stream.getReader();
  } catch (error) {
    if (signal?.aborted === true) throw error;
    yield { type: 'error', error: toProviderError(error, context) };
    return;
  }
  try {
    for (;;) {
      let result: Awaited<ReturnType<typeof reader.read>>;
      try {
        result = await reader.read();
      } catch (error) {
        if (signal?.aborted === true) throw error;
        yield { type: 'error', error: toProviderError(error, context) };
        return;
      }
      if (result.done || signal?.aborted === true) return;
      const part = toModelStreamPart(result.value as SpecificationStreamPart);
      if (part === undefined) continue;
      if (part.type === 'error') {
        yield { type: 'error', error: toProviderError(part.error, context) };
        return;
      }
      yield part;
    }
  } finally {
    // Ending early (an error, or the consumer stopped) must release the HTTP response too.
    reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
