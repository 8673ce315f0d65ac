/**
 * A model from configuration alone: a model spec and the environment's keys and endpoints.
 */
import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import type { LanguageModel } from '../agent/model.js';
import { createOfflineModel } from '../agent/offline-model.js';
import { fromSpecificationModel } from './from-specification-model.js';
import { parseModelSpec, type ModelSpec } from './model-spec.js';
import { resilientModel, type ResilienceOptions } from './resilient-model.js';
import type { SpecificationLanguageModel } from './specification-model.js';

/** The environment variables a model is built from (usually `process.env`). */
export type ModelEnvironment = Readonly<Record<string, string | undefined>>;

/** Every variable {@link createModelFromSpec} reads, with its meaning (docs/PROVIDERS.md lists them). */
export const PROVIDER_VARIABLES = {
  OPENAI_API_KEY: 'API key for `openai:` models (required for them).',
  OPENAI_BASE_URL: 'Base URL of the OpenAI API. Default: `https://api.openai.com/v1`.',
  PARLEY_OPENAI_API:
    'Which OpenAI API `openai:` models use: `chat` (Chat Completions, the default) or `responses` (the Responses API).',
  ANTHROPIC_API_KEY: 'API key for `anthropic:` models (required for them).',
  ANTHROPIC_BASE_URL: 'Base URL of the Anthropic API. Default: `https://api.anthropic.com/v1`.',
  PARLEY_MODEL_BASE_URL:
    'Base URL of the OpenAI-compatible server for `openai-compatible:` models (required for them), e.g. `http://127.0.0.1:11434/v1` for Ollama.',
  PARLEY_MODEL_API_KEY:
    'API key sent to the OpenAI-compatible server, when it needs one (as `Authorization: Bearer`).',
} as const;

/** Options of {@link createModelFromSpec}. */
export interface CreateModelOptions {
  /** Sampling temperature (an agent's `temperature`). @default the provider's */
  temperature?: number;
  /** Output tokens per model call (an agent's `maxOutputTokens`). @default the provider's */
  maxOutputTokens?: number;
  /** Retries and deadlines of every call (see {@link resilientModel}). */
  resilience?: ResilienceOptions;
}

/**
 * Builds the model a spec names, reading keys and endpoints from `environment`: `offline` is
 * the built-in offline model; `openai:<id>` uses Chat Completions, or the Responses API with
 * `PARLEY_OPENAI_API=responses`; `anthropic:<id>` the Messages API; `openai-compatible:<id>` any
 * server at `PARLEY_MODEL_BASE_URL` (Ollama, vLLM, llama.cpp, LM Studio), with usage asked for
 * (`stream_options.include_usage`). A remote model comes adapted to `parley.model.v2` and
 * wrapped in {@link resilientModel}. Throws a `TypeError` naming the variable when one is
 * missing or malformed; no message ever contains a key.
 *
 * @example
 * const model = createModelFromSpec('openai-compatible:llama3.2:1b', {
 *   PARLEY_MODEL_BASE_URL: 'http://127.0.0.1:11434/v1',
 * });
 */
export function createModelFromSpec(
  spec: string,
  environment: ModelEnvironment,
  options: CreateModelOptions = {},
): LanguageModel {
  const parsed = parseModelSpec(spec);
  if (parsed.provider === 'offline') return createOfflineModel();
  const { model, apiKey, credentialVariable } = createProviderModel(parsed, environment);
  const secrets = apiKey === undefined ? [] : [apiKey];
  const adapted = fromSpecificationModel(model, {
    ...(options.temperature === undefined ? {} : { temperature: options.temperature }),
    ...(options.maxOutputTokens === undefined ? {} : { maxOutputTokens: options.maxOutputTokens }),
    secrets,
    credentialVariable,
  });
  return resilientModel(adapted, {
    ...options.resilience,
    secrets: [...secrets, ...(options.resilience?.secrets ?? [])],
  });
}

interface ProviderModel {
  model: SpecificationLanguageModel;
  apiKey: string | undefined;
  credentialVariable: string;
}

function createProviderModel(
  spec: Exclude<ModelSpec, { provider: 'offline' }>,
  environment: ModelEnvironment,
): ProviderModel {
  const needs = `PARLEY_MODEL=${spec.provider}:${spec.modelId}`;
  // Every value is passed explicitly: left undefined, the packages would read process.env.
  switch (spec.provider) {
    case 'openai': {
      const apiKey = required(environment, 'OPENAI_API_KEY', `${needs} needs an OpenAI API key`);
      const baseURL = url(environment, 'OPENAI_BASE_URL') ?? 'https://api.openai.com/v1';
      const openai = createOpenAI({ apiKey, baseURL });
      const api = environment.PARLEY_OPENAI_API ?? 'chat';
      if (api !== 'chat' && api !== 'responses') {
        throw new TypeError(
          `PARLEY_OPENAI_API must be "chat" (Chat Completions) or "responses" (the Responses API), got ${JSON.stringify(api)}.`,
        );
      }
      const model = api === 'chat' ? openai.chat(spec.modelId) : openai.responses(spec.modelId);
      return { model, apiKey, credentialVariable: 'OPENAI_API_KEY' };
    }
    case 'anthropic': {
      const apiKey = required(
        environment,
        'ANTHROPIC_API_KEY',
        `${needs} needs an Anthropic API key`,
      );
      const baseURL = url(environment, 'ANTHROPIC_BASE_URL') ?? 'https://api.anthropic.com/v1';
      const model = createAnthropic({ apiKey, baseURL })(spec.modelId);
      return { model, apiKey, credentialVariable: 'ANTHROPIC_API_KEY' };
    }
    case 'openai-compatible': {
      const baseURL = url(environment, 'PARLEY_MODEL_BASE_URL');
      if (baseURL === undefined) {
        throw new TypeError(
          `PARLEY_MODEL_BASE_URL is not set: ${needs} needs the server's base URL, e.g. http://127.0.0.1:11434/v1 for Ollama or http://127.0.0.1:8000/v1 for vLLM.`,
        );
      }
      const apiKey = nonEmpty(environment.PARLEY_MODEL_API_KEY);
      const provider = createOpenAICompatible({
        name: 'openai-compatible',
        baseURL,
        ...(apiKey === undefined ? {} : { apiKey }),
        includeUsage: true,
      });
      return { model: provider(spec.modelId), apiKey, credentialVariable: 'PARLEY_MODEL_API_KEY' };
    }
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function required(environment: ModelEnvironment, name: string, why: string): string {
  const value = nonEmpty(environment[name]);
  if (value === undefined) throw new TypeError(`${name} is not set: ${why}.`);
  return value;
}

/** An http(s) URL variable, or undefined when unset. The value is never echoed: a URL can hold credentials. */
function url(environment: ModelEnvironment, name: string): string | undefined {
  const value = nonEmpty(environment[name]);
  if (value === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new TypeError(
      `${name} is not a URL: expected an http(s) base URL such as http://127.0.0.1:11434/v1.`,
    );
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TypeError(`${name} must be an http: or https: URL, got a ${parsed.protocol} one.`);
  }
  return value;
}
