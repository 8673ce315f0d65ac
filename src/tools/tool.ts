/**
 * The tool contract: a name, a description, the parameters (a zod schema exported as JSON Schema
 * for function calling, or a JSON Schema given as is) and an `execute` that honours its
 * `AbortSignal`.
 */
import type { z } from 'zod';

/** What a tool receives besides its parameters. */
export interface ToolExecutionContext {
  /** Aborted when the call times out or its turn is cancelled; stop work when it fires. */
  signal: AbortSignal;
  /** The current time in epoch milliseconds (injected, so replays are deterministic). */
  now: () => number;
}

/** A JSON Schema object, as a model's function-calling API takes it. */
export type JsonSchema = Record<string, unknown>;

/** What every kind of tool has. */
interface ToolBase {
  /** Unique name the model uses, `snake_case`, 1–64 characters. */
  readonly name: string;
  /** One or two sentences telling the model when to use the tool. */
  readonly description: string;
  /**
   * Whether a participant must approve each call before it runs: the turn pauses (its worker is
   * freed), every participant gets a `tool_approval_request`, and a denied or unanswered call
   * reaches the model as a `tool_denied` error (docs/TOOLS_GUIDE.md, "Tool approval").
   *
   * @default false
   */
  readonly needsApproval?: boolean;
}

/**
 * A tool the agent can call, its parameters described by a zod schema.
 *
 * @example
 * const echo = defineTool({
 *   name: 'echo',
 *   description: 'Repeats its input.',
 *   parameters: z.object({ text: z.string() }),
 *   execute: ({ text }) => ({ text }),
 * });
 */
export interface Tool<
  TParameters extends z.ZodType = z.ZodType,
  TResult = unknown,
> extends ToolBase {
  /** Schema of the parameters object; validated before `execute` runs. */
  readonly parameters: TParameters;
  /** Runs the tool. Throw (or reject) to report a tool error to the model. */
  execute(
    parameters: z.infer<TParameters>,
    context: ToolExecutionContext,
  ): TResult | Promise<TResult>;
}

/**
 * A tool whose parameters come as a JSON Schema that reaches the model unchanged, such as a tool
 * of an MCP server. Parley only checks that the arguments are a JSON object; whoever runs the
 * tool validates the rest and reports what is wrong.
 *
 * Its name may also hold capitals and `-` (`^[A-Za-z][A-Za-z0-9_-]{0,63}$`), the characters
 * function-calling APIs accept, since such names are chosen by someone else.
 *
 * @example
 * const lookup = defineJsonSchemaTool({
 *   name: 'crm__find-contact',
 *   description: 'Finds a contact by e-mail.',
 *   inputSchema: { type: 'object', properties: { email: { type: 'string' } }, required: ['email'] },
 *   execute: ({ email }, { signal }) => crm.find(String(email), signal),
 * });
 */
export interface JsonSchemaTool<TResult = unknown> extends ToolBase {
  /** JSON Schema of the parameters object (`type: "object"`), handed to the model as is. */
  readonly inputSchema: JsonSchema;
  /** Runs the tool with the arguments exactly as the model sent them. */
  execute(
    parameters: Record<string, unknown>,
    context: ToolExecutionContext,
  ): TResult | Promise<TResult>;
}

/** Any tool, whatever its parameters and result. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- execute is contravariant in its parameters
export type AnyTool = Tool<any> | JsonSchemaTool;

/**
 * Declares a tool with its parameter types inferred from the schema.
 *
 * @example
 * export const weatherTool = defineTool({ name: 'weather', description, parameters, execute });
 */
export function defineTool<TParameters extends z.ZodType, TResult>(
  tool: Tool<TParameters, TResult>,
): Tool<TParameters, TResult> {
  return tool;
}

/**
 * Declares a tool described by a raw JSON Schema (see {@link JsonSchemaTool}).
 *
 * @example
 * registry.register(defineJsonSchemaTool({ name, description, inputSchema, execute }));
 */
export function defineJsonSchemaTool<TResult>(
  tool: JsonSchemaTool<TResult>,
): JsonSchemaTool<TResult> {
  return tool;
}

/** Whether the tool carries a raw JSON Schema rather than a zod schema. */
export function isJsonSchemaTool(tool: AnyTool): tool is JsonSchemaTool {
  return 'inputSchema' in tool;
}
