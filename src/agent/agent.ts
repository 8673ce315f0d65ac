/**
 * An agent as the engine runs it: its model, ready to stream, and the settings its turns apply.
 * A conversation gets one when it is created; its id and settings go into the conversation's
 * log (`conversation.started`), so a restart and a replay run it the same way.
 */
import type { RecordedAgent } from '../event-log/log-entry.js';
import type { LanguageModel } from './model.js';

/**
 * A resolved agent. Unset limits fall back to the server's (`PARLEY_MAX_STEPS`,
 * `PARLEY_TOOL_TIMEOUT_MS`); `tools` absent means every registered tool.
 *
 * @example
 * const agent: Agent = { id: 'default', modelSpec: 'offline', model: createOfflineModel() };
 */
export interface Agent {
  id: string;
  /** How the model was named (`openai:gpt-4o-mini`), or `<provider>:<model id>` for an object. */
  modelSpec: string;
  model: LanguageModel;
  systemPrompt?: string;
  /** Tool names the agent may call; absent: every registered tool. */
  tools?: readonly string[];
  /** Recorded only: baked into `model` when it was built from its spec. */
  temperature?: number;
  /** Recorded only: baked into `model` when it was built from its spec. */
  maxOutputTokens?: number;
  maxSteps?: number;
  toolTimeoutMs?: number;
  /** Whether participants see the model's reasoning (`agent_reasoning_chunk` frames). @default false */
  showReasoning?: boolean;
  /** MCP servers of the agent, passed through untouched (the MCP client owns the shape). */
  mcp?: unknown;
}

/** An agent's settings as its conversation's log records them (snake_case JSON). */
export type { RecordedAgent };

/**
 * The log's record of an agent. The model's key never appears: only its spec.
 *
 * @example
 * recordAgent(agent); // { id: 'default', model: 'openai-compatible:llama3.2:1b', max_steps: 4 }
 */
export function recordAgent(agent: Agent): RecordedAgent {
  return {
    id: agent.id,
    model: agent.modelSpec,
    ...(agent.systemPrompt === undefined ? {} : { system_prompt: agent.systemPrompt }),
    ...(agent.tools === undefined ? {} : { tools: [...agent.tools] }),
    ...(agent.temperature === undefined ? {} : { temperature: agent.temperature }),
    ...(agent.maxOutputTokens === undefined ? {} : { max_output_tokens: agent.maxOutputTokens }),
    ...(agent.maxSteps === undefined ? {} : { max_steps: agent.maxSteps }),
    ...(agent.toolTimeoutMs === undefined ? {} : { tool_timeout_ms: agent.toolTimeoutMs }),
    ...(agent.showReasoning === undefined ? {} : { show_reasoning: agent.showReasoning }),
  };
}

/**
 * The agent a conversation runs after a restart or in a replay: the recorded settings, with the
 * model of `current` (the agent of that id the server has now; a model holds a live client and
 * its key, which the log never does).
 *
 * @example
 * const agent = restoreAgent(recorded, agents.get(recorded.id) ?? defaultAgent);
 */
export function restoreAgent(recorded: RecordedAgent, current: Agent): Agent {
  return {
    id: recorded.id,
    modelSpec: recorded.model,
    model: current.model,
    ...(recorded.system_prompt === undefined ? {} : { systemPrompt: recorded.system_prompt }),
    ...(recorded.tools === undefined ? {} : { tools: recorded.tools }),
    ...(recorded.temperature === undefined ? {} : { temperature: recorded.temperature }),
    ...(recorded.max_output_tokens === undefined
      ? {}
      : { maxOutputTokens: recorded.max_output_tokens }),
    ...(recorded.max_steps === undefined ? {} : { maxSteps: recorded.max_steps }),
    ...(recorded.tool_timeout_ms === undefined ? {} : { toolTimeoutMs: recorded.tool_timeout_ms }),
    ...(recorded.show_reasoning === undefined ? {} : { showReasoning: recorded.show_reasoning }),
    ...(current.mcp === undefined ? {} : { mcp: current.mcp }),
  };
}
