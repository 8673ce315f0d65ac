/**
 * A bench-only `parley.model.v1` model that reads an OpenAI-compatible Chat Completions stream
 * over HTTP (the external bench model, `sse-model-server.ts`). It is the seam the real provider
 * adapter of issue 12 will take over: once `openai-compatible:` exists, the Parley bench server
 * passes no model and sets `PARLEY_MODEL=openai-compatible:bench-sse` with
 * `PARLEY_MODEL_BASE_URL=<the model server>/v1` instead (see `model-from-environment.ts`).
 *
 * Deliberately small: one keep-alive agent, text deltas only, no retries; every delta is yielded
 * in the tick its bytes arrived in, so several tokens in one TCP read reach Parley together, as
 * they would from a real provider.
 */
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import type { LanguageModel, ModelMessage, ModelStreamPart } from '../../src/agent/model.js';
import { chunkContent, SseDataParser, type ChatCompletionChunk } from '../support/sse.js';
import { streamCounter } from './bench-model.js';

/** Options of {@link createSseModel}. */
export interface SseModelOptions {
  /** The API's base URL, e.g. `http://127.0.0.1:4000/v1`. */
  baseUrl: string;
  /** Sent as `model`. @default 'bench-sse' */
  modelId?: string;
}

// One agent for every stream: connections are reused between answers, as a provider SDK does.
const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });

function toOpenAiMessage(message: ModelMessage): { role: string; content: string } {
  if (message.role === 'tool') return { role: 'tool', content: JSON.stringify(message.output) };
  return { role: message.role, content: message.content };
}

function post(url: URL, body: string, signal: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (response) => {
        if (response.statusCode !== 200) {
          response.resume();
          reject(new Error(`bench model server answered ${String(response.statusCode)}`));
          return;
        }
        resolve(response);
      },
    );
    const abort = () => outgoing.destroy(new Error('aborted'));
    signal.addEventListener('abort', abort, { once: true });
    outgoing.on('close', () => {
      signal.removeEventListener('abort', abort);
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/**
 * Creates the model.
 *
 * @example
 * await startServer({ model: createSseModel({ baseUrl: 'http://127.0.0.1:4000/v1' }) });
 */
export function createSseModel(options: SseModelOptions): LanguageModel {
  const url = new URL(`${options.baseUrl.replace(/\/$/, '')}/chat/completions`);
  const modelId = options.modelId ?? 'bench-sse';
  return {
    specificationVersion: 'parley.model.v1',
    provider: 'bench-sse',
    modelId,
    async *stream(request, { signal }): AsyncGenerator<ModelStreamPart> {
      streamCounter.active += 1;
      streamCounter.started += 1;
      streamCounter.maxActive = Math.max(streamCounter.maxActive, streamCounter.active);
      try {
        const body = JSON.stringify({
          model: modelId,
          messages: request.messages.map(toOpenAiMessage),
          stream: true,
          stream_options: { include_usage: true },
        });
        const response = await post(url, body, signal);
        response.setEncoding('utf8');
        const parser = new SseDataParser();
        let outputTokens = 0;
        let usage = { inputTokens: 0, outputTokens: 0 };
        for await (const text of response as AsyncIterable<string>) {
          for (const data of parser.push(text)) {
            if (data === '[DONE]') continue;
            const chunk = JSON.parse(data) as ChatCompletionChunk;
            const delta = chunkContent(chunk);
            if (delta !== '') {
              outputTokens += 1;
              yield { type: 'text-delta', delta };
            }
            if (chunk.usage != null) {
              usage = {
                inputTokens: chunk.usage.prompt_tokens,
                outputTokens: chunk.usage.completion_tokens,
              };
            }
          }
        }
        yield {
          type: 'finish',
          finishReason: 'stop',
          usage: usage.outputTokens > 0 ? usage : { inputTokens: 1, outputTokens },
        };
      } finally {
        streamCounter.active -= 1;
      }
    },
  };
}
