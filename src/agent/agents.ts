/**
 * Named agents: each with its model, system prompt, tools and limits, from the JSON file at
 * `PARLEY_AGENTS_FILE`, or the one agent `default` that `PARLEY_MODEL` alone defines.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ParleyError } from '../errors.js';
import { isModelSpec } from '../providers/model-spec.js';
import { mcpConfigField } from '../tools/mcp/mcp-config.js';
import type { McpTools, McpToolsOptions } from '../tools/mcp/mcp-tools.js';

/** The id of the agent `PARLEY_MODEL` defines, which answers when a conversation names none. */
export const DEFAULT_AGENT_ID = 'default';

const MODEL_EXPECTED =
  'expected offline, openai:<model>, anthropic:<model> or openai-compatible:<model> (for example openai:gpt-4o-mini)';

const agentSchema = z.strictObject({
  /** Used in `?agent=<id>`: letters, digits, `_` and `-`. */
  id: z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/,
      'expected 1-64 letters, digits, _ or -, starting with a letter or digit',
    ),
  model: z.string().refine(isModelSpec, { message: MODEL_EXPECTED }),
  systemPrompt: z.string().max(100_000).optional(),
  /** Tool names the agent may call; absent: every registered tool; `[]`: none. */
  tools: z.array(z.string().min(1)).optional(),
  temperature: z.number().min(0).max(2).optional(),
  maxOutputTokens: z.number().int().min(1).max(1_000_000).optional(),
  maxSteps: z.number().int().min(1).max(100).optional(),
  toolTimeoutMs: z.number().int().min(1).max(600_000).optional(),
  /** Whether participants see the model's reasoning as it streams. @default false */
  showReasoning: z.boolean().optional(),
  /** MCP servers whose tools join the agent's as `<server>__<tool>` (docs/TOOLS_GUIDE.md). */
  mcp: mcpConfigField.optional(),
});

const agentsFileSchema = z.strictObject({ agents: z.array(agentSchema).min(1) });

/**
 * One agent as the agents file declares it. Unset options fall back to the server's settings
 * (`PARLEY_MAX_STEPS`, `PARLEY_TOOL_TIMEOUT_MS`…) and the provider's defaults.
 */
export type AgentDefinition = z.infer<typeof agentSchema>;

/** Options of {@link parseAgents}, {@link loadAgentsFile} and {@link resolveAgents}. */
export interface AgentsOptions {
  /** The registered tools: an agent naming another one is refused. @default any name */
  toolNames?: readonly string[];
}

/**
 * Validates the JSON of an agents file: `{ "agents": [ { "id", "model", … } ] }`, ids unique,
 * each model a valid spec, each tool registered. Throws a `ParleyError` (`internal_error`, as
 * for any invalid configuration) naming `source`, the field and what was expected.
 *
 * @example
 * parseAgents({ agents: [{ id: 'support', model: 'openai:gpt-4o-mini' }] }, 'agents.json');
 */
export function parseAgents(
  json: unknown,
  source: string,
  options: AgentsOptions = {},
): AgentDefinition[] {
  const parsed = agentsFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalid(source, issue === undefined ? '' : formatPath(issue.path), issue?.message ?? '');
  }
  const { agents } = parsed.data;
  const seen = new Set<string>();
  for (const [index, agent] of agents.entries()) {
    if (seen.has(agent.id)) {
      throw invalid(
        source,
        `agents[${index}].id`,
        `duplicate agent id ${JSON.stringify(agent.id)}`,
      );
    }
    seen.add(agent.id);
    const known = options.toolNames;
    for (const [toolIndex, name] of (agent.tools ?? []).entries()) {
      if (known !== undefined && !known.includes(name)) {
        throw invalid(
          source,
          `agents[${index}].tools[${toolIndex}]`,
          `unknown tool ${JSON.stringify(name)}: expected one of ${known.join(', ')}`,
        );
      }
    }
  }
  return agents;
}

/**
 * Reads and validates the agents file at `path`; errors name the path.
 *
 * @example
 * const agents = await loadAgentsFile('./agents.json', { toolNames: registry.names() });
 */
export async function loadAgentsFile(
  path: string,
  options: AgentsOptions = {},
): Promise<AgentDefinition[]> {
  const source = `PARLEY_AGENTS_FILE ${path}`;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw invalid(source, '', `cannot be read (${typeof code === 'string' ? code : 'error'})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text) as unknown;
  } catch (error) {
    throw invalid(source, '', `is not JSON (${(error as Error).message})`);
  }
  return parseAgents(json, source, options);
}

/**
 * The agents of a configuration: those of `PARLEY_AGENTS_FILE` when it is set, plus `default`
 * from `PARLEY_MODEL` when that is set and the file has no agent of that id; without a file, the
 * one agent `default` with `PARLEY_MODEL` (`offline` when unset) and every tool.
 *
 * @example
 * const agents = await resolveAgents(process.env, { toolNames: registry.names() });
 */
export async function resolveAgents(
  environment: Readonly<Record<string, string | undefined>>,
  options: AgentsOptions = {},
): Promise<AgentDefinition[]> {
  const model = environment.PARLEY_MODEL?.trim() ?? '';
  if (model !== '' && !isModelSpec(model)) {
    throw invalid('PARLEY_MODEL', '', MODEL_EXPECTED);
  }
  const path = environment.PARLEY_AGENTS_FILE?.trim() ?? '';
  if (path === '') return [{ id: DEFAULT_AGENT_ID, model: model === '' ? 'offline' : model }];
  const agents = await loadAgentsFile(path, options);
  const hasDefault = agents.some((agent) => agent.id === DEFAULT_AGENT_ID);
  return hasDefault || model === '' ? agents : [...agents, { id: DEFAULT_AGENT_ID, model }];
}

/**
 * The agent a conversation gets when it names none: `default`, else the first.
 *
 * @example
 * const agent = defaultAgent(await resolveAgents(process.env));
 */
export function defaultAgent<TAgent extends { id: string }>(agents: readonly TAgent[]): TAgent {
  const agent = agents.find((candidate) => candidate.id === DEFAULT_AGENT_ID) ?? agents[0];
  if (agent === undefined) throw new RangeError('There is no agent: expected at least one.');
  return agent;
}

/**
 * The agent's MCP servers as a tool source that registers their tools in `options.registry`
 * (the agent's own registry), calls bounded by the agent's `toolTimeoutMs` when it sets one;
 * `undefined` when the agent names no server. Starts nothing: add it to Parley's `McpHub`, which
 * starts, closes and reports on it. The MCP client loads only for an agent that has servers.
 *
 * @example
 * const mcp = await createAgentMcpTools(agent, { registry, toolTimeoutMs: config.toolTimeoutMs });
 * if (mcp !== undefined) hub.add(mcp, agent.id);
 */
export async function createAgentMcpTools(
  agent: AgentDefinition,
  options: McpToolsOptions,
): Promise<McpTools | undefined> {
  if (agent.mcp === undefined) return undefined;
  const { McpTools } = await import('../tools/mcp/mcp-tools.js');
  return new McpTools(agent.mcp, {
    ...options,
    ...(agent.toolTimeoutMs === undefined ? {} : { toolTimeoutMs: agent.toolTimeoutMs }),
  });
}

function invalid(source: string, field: string, expected: string): ParleyError {
  const where = field === '' ? source : `${source}: ${field}`;
  return new ParleyError('internal_error', `Invalid configuration: ${where}: ${expected}`);
}

function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((key, index) =>
      typeof key === 'number' ? `[${key}]` : `${index === 0 ? '' : '.'}${String(key)}`,
    )
    .join('');
}
