/**
 * Parley's messages and tools in the AI SDK specification's prompt format.
 */
import type { JSONValue } from '@ai-sdk/provider';
import type { ModelMessage, ModelToolDescription } from '../agent/model.js';
import type {
  SpecificationFunctionTool,
  SpecificationMessage,
  SpecificationToolResultOutput,
} from './specification-model.js';

/**
 * Maps a conversation to a specification prompt: system text as it is, a user message as one
 * text part, an assistant message as its text and its tool calls, and the results of one step's
 * tool calls together in one `tool` message (Anthropic wants all results of a step in one user
 * turn; OpenAI takes them either way). An assistant message with neither text nor tool calls (a
 * turn cancelled before its first token) is left out: Anthropic refuses empty content.
 *
 * @example
 * toSpecificationPrompt([{ role: 'user', content: 'Hi', userId: 'alice' }]);
 * // [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }]
 */
export function toSpecificationPrompt(messages: readonly ModelMessage[]): SpecificationMessage[] {
  const prompt: SpecificationMessage[] = [];
  for (const message of messages) {
    switch (message.role) {
      case 'system':
        prompt.push({ role: 'system', content: message.content });
        break;
      case 'user':
        prompt.push({ role: 'user', content: [{ type: 'text', text: message.content }] });
        break;
      case 'assistant': {
        const content: Extract<SpecificationMessage, { role: 'assistant' }>['content'] = [];
        if (message.content !== '') content.push({ type: 'text', text: message.content });
        for (const call of message.toolCalls ?? []) {
          content.push({
            type: 'tool-call',
            toolCallId: call.toolCallId,
            toolName: call.toolName,
            input: call.input,
          });
        }
        if (content.length > 0) prompt.push({ role: 'assistant', content });
        break;
      }
      case 'tool': {
        const result = {
          type: 'tool-result' as const,
          toolCallId: message.toolCallId,
          toolName: message.toolName,
          output: toToolResultOutput(message.output, message.isError),
        };
        const previous = prompt.at(-1);
        if (previous?.role === 'tool') previous.content.push(result);
        else prompt.push({ role: 'tool', content: [result] });
        break;
      }
    }
  }
  return prompt;
}

/**
 * Maps tool descriptions to function tools, their JSON Schema passed on unchanged.
 *
 * @example
 * toSpecificationTools(registry.describe());
 */
export function toSpecificationTools(
  tools: readonly ModelToolDescription[],
): SpecificationFunctionTool[] {
  return tools.map((tool) => ({
    type: 'function',
    name: tool.name,
    description: tool.description,
    inputSchema: tool.inputSchema,
  }));
}

/** A string result goes as text (no extra quotes for the model to read), anything else as JSON. */
function toToolResultOutput(output: unknown, isError: boolean): SpecificationToolResultOutput {
  if (typeof output === 'string') {
    return { type: isError ? 'error-text' : 'text', value: output };
  }
  return { type: isError ? 'error-json' : 'json', value: toJsonValue(output) };
}

/** What the model will read: the value as JSON would carry it (dates as strings, no undefined). */
function toJsonValue(value: unknown): JSONValue {
  if (value === undefined) return null;
  try {
    return JSON.parse(JSON.stringify(value)) as JSONValue;
  } catch {
    // A bigint or a cycle: the model still gets something readable.
    return typeof value === 'bigint' ? value.toString() : '[a value JSON cannot carry]';
  }
}
