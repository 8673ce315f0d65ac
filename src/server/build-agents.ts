/**
 * The agents a server runs, from configuration (`PARLEY_MODEL`, `PARLEY_AGENTS_FILE` and the
 * providers' keys and URLs) or from code (`startServer({ agents })`), each with its model built
 * and wrapped for live chat (retries before the first byte, first-byte and idle deadlines).
 */
import type { Agent } from '../agent/agent.js';
import {
  DEFAULT_AGENT_ID,
  loadAgentsFile,
  parseAgents,
  type AgentDefinition,
} from '../agent/agents.js';
import type { LanguageModel } from '../agent/model.js';
import type { ParleyConfig } from '../config.js';
import type { Logger } from '../logger.js';
import { createModelFromSpec, type ModelEnvironment } from '../providers/create-model-from-spec.js';
import { fromSpecificationModel } from '../providers/from-specification-model.js';
import type { ModelThread } from '../providers/model-thread.js';
import { resilientModel, type ResilienceOptions } from '../providers/resilient-model.js';
import { isSpecificationModel } from '../providers/specification-model.js';

/**
 * An agent given in code: as in the agents file, but `model` may also be a model object, either
 * a Parley `LanguageModel` (used as it is) or any AI SDK provider's language model (V3 or V4,
 * adapted and given Parley's retries and deadlines).
 *
 * @example
 * import { createOpenAI } from '@ai-sdk/openai';
 * await startServer({
 *   agents: [{ id: 'support', model: createOpenAI({ apiKey }).chat('gpt-4o-mini'), tools: ['weather'] }],
 * });
 */
export type AgentOptions = Omit<AgentDefinition, 'model'> & {
  model: string | LanguageModel | AiSdkLanguageModel;
};

/**
 * Any AI SDK provider's language model, described by shape only: the public types must not
 * depend on `@ai-sdk/provider`'s, which need `@types/json-schema` in the application.
 */
export interface AiSdkLanguageModel {
  readonly specificationVersion: 'v3' | 'v4';
  readonly provider: string;
  readonly modelId: string;
  doStream(options: never): PromiseLike<unknown>;
}

/** What {@link buildAgents} reads besides the configuration. */
export interface BuildAgentsOptions {
  /** Agents given in code; they replace `PARLEY_AGENTS_FILE` and `PARLEY_MODEL`. */
  agents?: readonly AgentOptions[];
  /** A model given in code (`startServer({ model })`): the agent `default`'s. */
  model?: LanguageModel;
  /** Whether `PARLEY_MODEL` was set (an agents file without it gets no extra `default`). */
  modelWasSet: boolean;
  /** The registered tools: an agent naming another one is refused. */
  toolNames: readonly string[];
  /** Receives the retries' warnings. */
  logger?: Pick<Logger, 'warn'>;
  /**
   * Where models given as a spec stream with `PARLEY_MODEL_THREAD=worker` (the offline model and
   * model objects stay on the server's thread). The caller closes it.
   */
  modelThread?: ModelThread;
}

/**
 * Resolves and builds the server's agents. Throws, naming the variable, file and field, when a
 * definition is invalid or a provider lacks its key or URL, so a misconfigured server stops at
 * start; no message contains a key.
 *
 * @example
 * const agents = await buildAgents(config, { modelWasSet: true, toolNames: registry.describe().map((tool) => tool.name) });
 */
export async function buildAgents(
  config: ParleyConfig,
  options: BuildAgentsOptions,
): Promise<Agent[]> {
  const definitions = await agentDefinitions(config, options);
  const environment = providerEnvironment(config);
  // Data only, so that the model thread can build the same models.
  const deadlines = {
    maxRetries: config.modelMaxRetries,
    firstByteTimeoutMs: config.modelFirstByteTimeoutMs,
    idleTimeoutMs: config.modelIdleTimeoutMs,
  };
  const resilience: ResilienceOptions = {
    ...deadlines,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  };
  return definitions.map((definition) => {
    const { model, ...settings } = definition;
    const sampling = {
      ...(settings.temperature === undefined ? {} : { temperature: settings.temperature }),
      ...(settings.maxOutputTokens === undefined
        ? {}
        : { maxOutputTokens: settings.maxOutputTokens }),
    };
    let built: LanguageModel;
    let modelSpec: string;
    if (typeof model === 'string') {
      // Built here in any case: a missing key or URL stops the server at start.
      built = createModelFromSpec(model, environment, { ...sampling, resilience });
      modelSpec = model.trim();
      if (options.modelThread !== undefined && built.provider !== 'offline') {
        built = options.modelThread.model(modelSpec, built, { ...sampling, ...deadlines });
      }
    } else if (isSpecificationModel(model)) {
      built = resilientModel(fromSpecificationModel(model, sampling), resilience);
      modelSpec = `${built.provider}:${built.modelId}`;
    } else if (typeof (model as Partial<LanguageModel>).stream === 'function') {
      built = model as LanguageModel;
      modelSpec = built.provider === 'offline' ? 'offline' : `${built.provider}:${built.modelId}`;
    } else {
      throw new TypeError(
        `Agent ${JSON.stringify(settings.id)}: model must be a model spec such as "openai:gpt-4o-mini", a Parley LanguageModel (with stream()) or an AI SDK language model (with doStream()).`,
      );
    }
    return { ...withoutUndefined(settings), modelSpec, model: built } as Agent;
  });
}

async function agentDefinitions(
  config: ParleyConfig,
  options: BuildAgentsOptions,
): Promise<AgentOptions[]> {
  const check = { toolNames: options.toolNames };
  if (options.agents !== undefined) {
    // Validated as a file would be, with each model object standing in as a spec.
    const asJson = options.agents.map((agent) => ({
      ...agent,
      model: typeof agent.model === 'string' ? agent.model : 'offline',
    }));
    parseAgents({ agents: asJson }, 'option agents', check);
    return [...options.agents];
  }
  const defaultModel: AgentOptions['model'] = options.model ?? config.defaultModel;
  if (config.agentsFile === undefined) return [{ id: DEFAULT_AGENT_ID, model: defaultModel }];
  const fromFile: AgentOptions[] = await loadAgentsFile(config.agentsFile, check);
  const hasDefault = fromFile.some((agent) => agent.id === DEFAULT_AGENT_ID);
  if (hasDefault || (!options.modelWasSet && options.model === undefined)) return fromFile;
  return [...fromFile, { id: DEFAULT_AGENT_ID, model: defaultModel }];
}

/** The provider variables as `createModelFromSpec` reads them, from the validated configuration. */
export function providerEnvironment(config: ParleyConfig): ModelEnvironment {
  return {
    OPENAI_API_KEY: config.openaiApiKey,
    OPENAI_BASE_URL: config.openaiBaseUrl,
    PARLEY_OPENAI_API: config.openaiApi,
    ANTHROPIC_API_KEY: config.anthropicApiKey,
    ANTHROPIC_BASE_URL: config.anthropicBaseUrl,
    PARLEY_MODEL_BASE_URL: config.modelBaseUrl,
    PARLEY_MODEL_API_KEY: config.modelApiKey,
  };
}

function withoutUndefined<TValue extends object>(value: TValue): TValue {
  return Object.fromEntries(
    Object.entries(value).filter(([, item]) => item !== undefined),
  ) as TValue;
}
