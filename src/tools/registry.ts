/**
 * The tool registry: the tools an agent may call, their descriptions for function calling, and
 * the one place a model's tool call is validated and executed. Tools may come and go while it
 * is in use (an MCP server's tool list changes): `register` and `unregister` at any time.
 */
import { z } from 'zod';
import type { ModelToolDescription } from '../agent/model.js';
import { ParleyError, toParleyError, type FrameIssue } from '../errors.js';
import { calculatorTool } from './calculator.js';
import { datetimeTool } from './datetime.js';
import { createSearchTool, type SearchBackend } from './search.js';
import {
  isJsonSchemaTool,
  type AnyTool,
  type JsonSchemaTool,
  type ToolExecutionContext,
} from './tool.js';
import { createWeatherTool, type WeatherBackend } from './weather.js';

/**
 * Something that keeps tools in a registry and may have to start before they can be described,
 * such as an agent's MCP servers (`McpTools` adds itself to the registry it fills).
 */
export interface ToolSource {
  /**
   * Starts what has not started yet and resolves once its tools are known (or its start failed);
   * `undefined` when there is nothing left to wait for, so a turn need not wait a tick.
   */
  ready(): Promise<void> | undefined;
}

/** A tool described by a zod schema, as `AnyTool` holds it. */
type ZodTool = Exclude<AnyTool, JsonSchemaTool>;

const TOOL_NAME_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
// Names of JSON Schema tools are chosen elsewhere (an MCP server's); this is what
// function-calling APIs accept, starting with a letter.
const JSON_SCHEMA_TOOL_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

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
  // Keyed by the tool object, so a tool registered again under the same name (a changed MCP
  // tool) gets a fresh description and an unregistered one is forgotten with it.
  private readonly descriptions = new WeakMap<AnyTool, ModelToolDescription>();
  private readonly sources = new Set<ToolSource>();

  constructor(tools: readonly AnyTool[] = []) {
    for (const tool of tools) this.register(tool);
  }

  /**
   * Adds a tool. Throws when the name is taken or is not `snake_case` of 1–64 characters starting
   * with a letter (a JSON Schema tool may also use capitals and `-`).
   */
  register(tool: AnyTool): this {
    if (isJsonSchemaTool(tool)) {
      if (!JSON_SCHEMA_TOOL_NAME_PATTERN.test(tool.name)) {
        throw new Error(
          `Tool name "${tool.name}" is invalid: expected 1-64 characters of A-Z, a-z, 0-9, _ and -, starting with a letter`,
        );
      }
    } else if (!TOOL_NAME_PATTERN.test(tool.name)) {
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

  /**
   * Removes the tool with this name; returns whether there was one. A call already running goes
   * on; later calls get `unknown_tool`.
   */
  unregister(name: string): boolean {
    return this.tools.delete(name);
  }

  /** Adds a source whose {@link ToolSource.ready} {@link ready} waits for. */
  addSource(source: ToolSource): this {
    this.sources.add(source);
    return this;
  }

  /** Removes a source; returns whether it was there. */
  removeSource(source: ToolSource): boolean {
    return this.sources.delete(source);
  }

  /**
   * Resolves once every source's tools are known (lazy MCP servers start on the first call);
   * `undefined` when no source has anything to wait for. The engine calls it before each turn
   * describes the tools.
   */
  ready(): Promise<void> | undefined {
    let pending: Promise<void>[] | undefined;
    for (const source of this.sources) {
      const ready = source.ready();
      if (ready !== undefined) (pending ??= []).push(ready);
    }
    return pending === undefined ? undefined : Promise.all(pending).then(() => undefined);
  }

  /** The tool with this name, or `undefined`. */
  get(name: string): AnyTool | undefined {
    return this.tools.get(name);
  }

  /**
   * Whether calls to the tool with this name wait for a participant's approval (its
   * `needsApproval`); false for an unknown name, whose call fails with `unknown_tool` anyway.
   */
  needsApproval(name: string): boolean {
    return this.tools.get(name)?.needsApproval === true;
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
   * Every tool as the model sees it now: name, description and the JSON Schema of its
   * parameters (a JSON Schema tool's own schema, unchanged). Each description is computed once
   * per registered tool and cached.
   */
  describe(): ModelToolDescription[] {
    return this.list().map((tool) => {
      let description = this.descriptions.get(tool);
      if (description === undefined) {
        description = {
          name: tool.name,
          description: tool.description,
          inputSchema: isJsonSchemaTool(tool) ? tool.inputSchema : toInputSchema(tool),
        };
        this.descriptions.set(tool, description);
      }
      return description;
    });
  }

  /**
   * Validates `input` against the tool's schema and runs the tool. A JSON Schema tool gets its
   * arguments unchanged once they are known to be an object: its own side validates the rest.
   *
   * Rejects with a `ParleyError`: `unknown_tool` (the message lists the available tools),
   * `invalid_tool_arguments` (with an issue per failing field) or `tool_failed` (whatever the
   * tool threw, kept as `cause`; a thrown `ParleyError`, such as an MCP tool's
   * `tool_unavailable`, passes through). When `context.signal` has aborted, rejects with the
   * signal's reason untouched, so the caller can tell its own timeout or cancellation from a
   * failure.
   */
  async execute(name: string, input: unknown, context: ToolExecutionContext): Promise<unknown> {
    const tool = this.tools.get(name);
    if (tool === undefined) {
      const available = [...this.tools.keys()].join(', ') || '(none)';
      throw new ParleyError('unknown_tool', `Unknown tool "${name}"; available: ${available}`);
    }
    const parameters = isJsonSchemaTool(tool)
      ? objectArguments(name, input)
      : await parseArguments(name, schemaOf(tool), input);
    // A call whose turn was cancelled while its arguments were validated is not started at all.
    context.signal.throwIfAborted();
    try {
      // Both kinds take an object: a zod tool's parameters schema is a `z.object` by contract.
      return await tool.execute(parameters as Record<string, unknown>, context);
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

async function parseArguments(name: string, schema: z.ZodType, input: unknown): Promise<unknown> {
  const parsed = await schema.safeParseAsync(input);
  if (parsed.success) return parsed.data;
  throw invalidArguments(name, parsed.error.issues.map(toIssue));
}

function objectArguments(name: string, input: unknown): Record<string, unknown> {
  if (typeof input === 'object' && input !== null && !Array.isArray(input)) {
    return input as Record<string, unknown>;
  }
  const received = input === null ? 'null' : Array.isArray(input) ? 'array' : typeof input;
  // Worded like zod's own issue, so both kinds of tool read the same to the model.
  throw invalidArguments(name, [
    {
      path: '',
      message: `Invalid input: expected object, received ${received}`,
      expected: 'object',
    },
  ]);
}

function invalidArguments(name: string, issues: FrameIssue[]): ParleyError {
  const summary = issues
    .map((issue) => `${issue.path || '(arguments)'}: ${issue.message}`)
    .join('; ');
  return new ParleyError(
    'invalid_tool_arguments',
    `Invalid arguments for tool "${name}": ${summary}`,
    { issues },
  );
}

function toInputSchema(tool: ZodTool): Record<string, unknown> {
  // `io: 'input'` describes what the model may send: fields with a default stay optional.
  const schema: Record<string, unknown> = z.toJSONSchema(schemaOf(tool), { io: 'input' });
  // The `$schema` dialect marker is dropped because some function-calling APIs reject unknown keys.
  delete schema.$schema;
  return schema;
}

// `AnyTool` erases the schema's type to `any`; `ZodType` is all validation and export need.
function schemaOf(tool: ZodTool): z.ZodType {
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
