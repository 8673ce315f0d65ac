/**
 * The OpenAI Chat Completions streaming wire format, as the external bench model writes it and as
 * Parley's bench-only SSE model and the direct SSE client read it: server-sent events whose data
 * is one `chat.completion.chunk` JSON object each (`data: {...}\n\n`), then `data: [DONE]\n\n`.
 */

/** One streamed chunk's JSON, as the Chat Completions API sends it. */
export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: {
    index: number;
    delta: { role?: 'assistant'; content?: string };
    finish_reason: 'stop' | 'length' | null;
  }[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
}

/** The event that ends every stream. */
export const DONE_EVENT = 'data: [DONE]\n\n';

/** One SSE event carrying `chunk`. */
export function sseEvent(chunk: ChatCompletionChunk): string {
  return `data: ${JSON.stringify(chunk)}\n\n`;
}

/**
 * Splits an SSE byte stream into the `data` of each event, whatever the chunk boundaries of the
 * transport. Comments (`:`) and other fields (`event:`, `id:`) are ignored, as OpenAI sends none
 * that matter for text.
 *
 * @example
 * const parser = new SseDataParser();
 * for (const data of parser.push(text)) if (data !== '[DONE]') handle(JSON.parse(data));
 */
export class SseDataParser {
  private buffer = '';

  /** Adds received text; returns the data of every event it completed. */
  push(text: string): string[] {
    this.buffer += text;
    const events: string[] = [];
    for (let end = this.buffer.indexOf('\n\n'); end >= 0; end = this.buffer.indexOf('\n\n')) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const data = block
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(line.startsWith('data: ') ? 6 : 5));
      if (data.length > 0) events.push(data.join('\n'));
    }
    return events;
  }
}

/** The text of a chunk's first choice, or `''`. */
export function chunkContent(chunk: ChatCompletionChunk): string {
  return chunk.choices[0]?.delta.content ?? '';
}

/** The stamp (`@<ms>`) at the start of a bench token, or 0 when the text carries none. */
export function stampOf(text: string): number {
  return text.startsWith('@') ? parseFloat(text.slice(1)) : 0;
}
