/**
 * What an MCP `tools/call` result becomes in Parley: the tool result every participant sees and
 * the model reads (JSON), or, for `isError`, the message of a `tool_failed` error.
 *
 * The mapping (docs/TOOLS_GUIDE.md lists it too):
 * - `structuredContent`, when present, is the result as is (the text blocks only repeat it);
 * - otherwise a single `text` block is the result as a string;
 * - otherwise the result is `{ content: [...] }`, a block each: `text` stays `{ type, text }`;
 *   `image` and `audio` become `{ type, mimeType, bytes }` (Parley's models take tool results as
 *   text, so the base64 data is left out and its decoded size said); an embedded `resource` keeps
 *   `uri`, `mimeType` and its `text`, or `bytes` for a blob; a `resource_link` keeps `uri`,
 *   `name`, `mimeType` and `description`. Annotations and `_meta` are dropped.
 */
import type { CallToolResult, ContentBlock } from '@modelcontextprotocol/client';

/** One content block as Parley passes it on. */
export type ToolContentBlock =
  | { type: 'text'; text: string }
  | { type: 'image' | 'audio'; mimeType: string; bytes: number }
  | { type: 'resource'; uri: string; mimeType?: string; text: string }
  | { type: 'resource'; uri: string; mimeType?: string; bytes: number }
  | { type: 'resource_link'; uri: string; name: string; mimeType?: string; description?: string };

/**
 * The Parley tool result of a successful MCP tool call.
 *
 * @example
 * toToolResult({ content: [{ type: 'text', text: 'hi' }] }); // 'hi'
 */
export function toToolResult(result: CallToolResult): unknown {
  if (result.structuredContent !== undefined) return result.structuredContent;
  const [only, ...rest] = result.content;
  if (only?.type === 'text' && rest.length === 0) return only.text;
  return { content: result.content.map(toContentBlock) };
}

/**
 * The error message of an MCP result with `isError`: its text blocks, one a line, or a plain
 * sentence when it has none.
 *
 * @example
 * toolErrorMessage({ content: [{ type: 'text', text: 'No such file' }], isError: true });
 */
export function toolErrorMessage(result: CallToolResult): string {
  const text = result.content
    .flatMap((block) => (block.type === 'text' ? [block.text] : []))
    .join('\n')
    .trim();
  return text === '' ? 'The tool reported an error without a message.' : text;
}

function toContentBlock(block: ContentBlock): ToolContentBlock {
  switch (block.type) {
    case 'text':
      return { type: 'text', text: block.text };
    case 'image':
    case 'audio':
      return { type: block.type, mimeType: block.mimeType, bytes: base64Bytes(block.data) };
    case 'resource': {
      const { resource } = block;
      const mimeType = resource.mimeType === undefined ? {} : { mimeType: resource.mimeType };
      return 'text' in resource
        ? { type: 'resource', uri: resource.uri, ...mimeType, text: resource.text }
        : { type: 'resource', uri: resource.uri, ...mimeType, bytes: base64Bytes(resource.blob) };
    }
    case 'resource_link':
      return {
        type: 'resource_link',
        uri: block.uri,
        name: block.name,
        ...(block.mimeType === undefined ? {} : { mimeType: block.mimeType }),
        ...(block.description === undefined ? {} : { description: block.description }),
      };
  }
}

/** The decoded size of base64 data, without decoding it. */
function base64Bytes(data: string): number {
  const padding = data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0;
  return Math.floor((data.length * 3) / 4) - padding;
}
