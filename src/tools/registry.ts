/**
 * The tool registry: the tools an agent may call, their descriptions for function calling, and
 * the one place a model's tool call is validated and executed.
 */
import { z } from 'zod';
import type { ModelToolDescription } from '../agent/model.js';
import { ParleyError, toParleyError, type FrameIssue } from '../errors.js';
import { calculatorTool } from './calculator.js';
import { datetimeTool } from './datetime.js';
import { createSearchTool, type SearchBackend } from './search.js';
import type { AnyTool, ToolExecutionContext } from './tool.js';
import { createWeatherTool, type WeatherBackend } from './weather.js';

const TOOL_NAME_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;

/**
 * Holds the tools an agent may call, by unique name.
 *
 * @example
 * const registry = new ToolRegistry([calculatorTool, datetimeTool]).register(diceTool);
 * const tools = registry.describe(); // handed to the model
 * const result = await registry.execute('calculator', { operation: 'add', a: 5, b: 3 }, context);
 */
export class ToolRegistry {
  private readonly tools = new Map<string, AnyTool>();
  private readonly descriptions = new Map<string, ModelToolDescription>();

  constructor(tools: readonly AnyTool[] = []) {
    for (const tool of tools) this.register(tool);
  }

  /**
   * Adds a tool. Throws when the name is taken or is not `snake_case` of 1–64 characters starting
   * with a letter.
   */
  register(tool: AnyTool): this {
    if (!TOOL_NAME_PATTERN.test(tool.name)) {
      throw new Error(
        `Tool name "${tool.name}" is invalid: expected 1-64 characters of a-z, 0-9 and _, starting with a letter`,
      );
    }
    if (this.tools.has(tool.name)) {
      throw new Error(`A tool named "${tool.name}" is already registered`);
    }
    this.tools.set(tool.name, tool);
    return this;
  }

  /** The tool with this name, or `undefined`. */
  get(name: string): AnyTool | undefined {
    return this.tools.get(name);
  }

  /** Whether a tool with this name is registered. */
  has(name: string): boolean {
    return this.tools.has(name);
  }

  /** Every tool, in registration order. */
  list(): AnyTool[] {
    return [...this.tools.values()];
  }

  /**
   * Every tool as the model sees it: name, description and the JSON Schema of its parameters.
   * Each schema is computed once and cached.
   */
  describe(): ModelToolDescription[] {
    return this.list().map((tool) => {
      let description = this.descriptions.get(tool.name);
      if (description === undefined) {
        description = {
          name: tool.name,
          description: tool.description,
          inputSchema: toInputSchema(tool),
        };
        this.descriptions.set(tool.name, description);
      }
      return description;
    });
  }

  /**
   * Validates `input` against the tool's schema and runs the tool.
   *
   * Rejects with a `ParleyError`: `unknown_tool` (the message lists the available tools),
   * `invalid_tool_arguments` (with an issue per failing field) or `tool_failed` (whatever the
   * tool threw, kept as `cause`; a thrown `ParleyError` passes through). When `context.signal`
   * has aborted, rejects with the signal's reason untouched, so the caller can tell its own
   * timeout or cancellation from a failure.
   */
  async execute(name: string, input: unknown, context: ToolExecutionContext): Promise<unknown> {
    const tool = this.tools.get(name);
    if (tool === undefined) {
      const available = [...this.tools.keys()].join(', ') || '(none)';
      throw new ParleyError('unknown_tool', `Unknown tool "${name}"; available: ${available}`);
    }
    const parsed = await schemaOf(tool).safeParseAsync(input);
    if (!parsed.success) {
      const issues = parsed.error.issues.map(toIssue);
      const summary = issues
        .map((issue) => `${issue.path || '(arguments)'}: ${issue.message}`)
        .join('; ');
      throw new ParleyError(
        'invalid_tool_arguments',
        `Invalid arguments for tool "${name}": ${summary}`,
        { issues },
      );
    }
    // A call whose turn was cancelled while its arguments were validated is not started at all.
    context.signal.throwIfAborted();
    try {
      return await tool.execute(parsed.data, context);
    } catch (error) {
      if (context.signal.aborted) throw context.signal.reason;
      throw toParleyError(error, 'tool_failed');
    }
  }
}

/**
 * A registry with the built-in tools: `calculator`, `datetime`, `weather` and `search`, the last
 * two over the given backends (offline by default).
 *
 * @example
 * const registry = createDefaultToolRegistry({ weather: httpWeatherBackend });
 */
export function createDefaultToolRegistry(
  options: { weather?: WeatherBackend; search?: SearchBackend } = {},
): ToolRegistry {
  return new ToolRegistry([
    calculatorTool,
    datetimeTool,
    createWeatherTool(options.weather),
    createSearchTool(options.search),
  ]);
}

function toInputSchema(tool: AnyTool): Record<string, unknown> {
  // `io: 'input'` describes what the model may send: fields with a default stay optional.
  const schema: Record<string, unknown> = z.toJSONSchema(schemaOf(tool), { io: 'input' });
  // The `$schema` dialect marker is dropped because some function-calling APIs reject unknown keys.
  delete schema.$schema;
  return schema;
}

// `AnyTool` erases the schema's type to `any`; `ZodType` is all validation and export need.
function schemaOf(tool: AnyTool): z.ZodType {
  return tool.parameters as z.ZodType;
}

function toIssue(issue: z.core.$ZodIssue): FrameIssue {
  const result: FrameIssue = { path: issue.path.map(String).join('.'), message: issue.message };
  if (issue.code === 'invalid_type') result.expected = issue.expected;
  if (issue.code === 'invalid_value') result.expected = issue.values.map(String).join(' | ');
  if (issue.code === 'too_big') result.expected = `at most ${String(issue.maximum)}`;
  if (issue.code === 'too_small') result.expected = `at least ${String(issue.minimum)}`;
  return result;
}
