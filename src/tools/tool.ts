/**
 * The tool contract: a name, a description, a zod schema for its parameters (exported as JSON
 * Schema for function calling) and an `execute` that honours its `AbortSignal`.
 */
import type { z } from 'zod';

/** What a tool receives besides its parameters. */
export interface ToolExecutionContext {
  /** Aborted when the call times out or its turn is cancelled; stop work when it fires. */
  signal: AbortSignal;
  /** The current time in epoch milliseconds (injected, so replays are deterministic). */
  now: () => number;
}

/**
 * A tool the agent can call.
 *
 * @example
 * const echo = defineTool({
 *   name: 'echo',
 *   description: 'Repeats its input.',
 *   parameters: z.object({ text: z.string() }),
 *   execute: ({ text }) => ({ text }),
 * });
 */
export interface Tool<TParameters extends z.ZodType = z.ZodType, TResult = unknown> {
  /** Unique name the model uses, `snake_case`, 1–64 characters. */
  readonly name: string;
  /** One or two sentences telling the model when to use the tool. */
  readonly description: string;
  /** Schema of the parameters object; validated before `execute` runs. */
  readonly parameters: TParameters;
  /** Runs the tool. Throw (or reject) to report a tool error to the model. */
  execute(
    parameters: z.infer<TParameters>,
    context: ToolExecutionContext,
  ): TResult | Promise<TResult>;
}

/** Any tool, whatever its parameters and result. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- execute is contravariant in its parameters
export type AnyTool = Tool<any>;

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
