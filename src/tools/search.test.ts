import { describe, expect, it } from 'vitest';
import {
  createSearchTool,
  offlineSearchBackend,
  searchTool,
  type SearchBackend,
  type SearchToolResult,
} from './search.js';
import type { ToolExecutionContext } from './tool.js';

const signal = new AbortController().signal;
const context: ToolExecutionContext = { signal, now: () => 0 };

async function search(input: unknown): Promise<SearchToolResult> {
  return searchTool.execute(searchTool.parameters.parse(input), context);
}

describe('offlineSearchBackend', () => {
  it('ranks the entry whose title matches first', async () => {
    const results = await offlineSearchBackend.search('xstate actors', 3, signal);
    expect(results[0]).toEqual({
      title: 'XState: state machines and actors for JavaScript',
      url: 'https://example.org/xstate',
      snippet: expect.stringContaining('state machines') as unknown,
      score: 1,
    });
  });

  it('scores each result by the share of the best possible points, best first', async () => {
    // "websocket" is in both titles and snippets (4 of 4); "backpressure" only in one (4 of 4).
    const results = await offlineSearchBackend.search('websocket backpressure', 3, signal);
    expect(results.map(({ url, score }) => [url, score])).toEqual([
      ['https://example.org/websockets/backpressure', 1],
      ['https://example.org/websockets', 0.5],
    ]);
    const half = await offlineSearchBackend.search('redis bananas', 1, signal);
    expect(half[0]?.score).toBe(0.5);
  });

  it('matches plural and singular forms alike', async () => {
    const plural = await offlineSearchBackend.search('websockets', 5, signal);
    const singular = await offlineSearchBackend.search('WebSocket', 5, signal);
    expect(plural.map((result) => result.url)).toEqual(singular.map((result) => result.url));
    expect(plural.map((result) => result.url)).toEqual([
      'https://example.org/websockets',
      'https://example.org/websockets/backpressure',
    ]);
  });

  it('returns the same results for the same query', async () => {
    const first = await offlineSearchBackend.search('llm tool calling', 10, signal);
    const second = await offlineSearchBackend.search('llm tool calling', 10, signal);
    expect(second).toEqual(first);
    expect(first[0]?.url).toBe('https://example.org/llm/tool-calling');
  });

  it('returns different results for different queries', async () => {
    const redis = await offlineSearchBackend.search('redis', 3, signal);
    const postgres = await offlineSearchBackend.search('postgresql', 3, signal);
    expect(redis[0]?.url).toBe('https://example.org/redis/pubsub');
    expect(postgres[0]?.url).toBe('https://example.org/postgresql/indexes');
  });

  it('returns an empty list when nothing matches', async () => {
    await expect(offlineSearchBackend.search('banana bread recipe', 3, signal)).resolves.toEqual(
      [],
    );
    await expect(offlineSearchBackend.search('the of and', 3, signal)).resolves.toEqual([]);
  });

  it('returns at most limit results', async () => {
    const results = await offlineSearchBackend.search('concurrency go node.js rxjs', 2, signal);
    expect(results).toHaveLength(2);
  });

  it('rejects with the abort reason when the signal has already aborted', async () => {
    const controller = new AbortController();
    const reason = new Error('timed out');
    controller.abort(reason);
    await expect(offlineSearchBackend.search('redis', 3, controller.signal)).rejects.toBe(reason);
  });
});

describe('searchTool', () => {
  it('is named search and returns three results by default', async () => {
    expect(searchTool.name).toBe('search');
    const result = await search({ query: 'concurrency' });
    expect(result.query).toBe('concurrency');
    expect(result.source).toBe('offline');
    // Both entries score 4 (title and URL); ties keep corpus order.
    expect(result.results.map((entry) => entry.url)).toEqual([
      'https://example.org/go/concurrency',
      'https://example.org/concurrency',
    ]);
    expect((await search({ query: 'llm agent tool streaming model' })).results).toHaveLength(3);
  });

  it('rejects an empty query and a limit outside 1-10', () => {
    expect(searchTool.parameters.safeParse({ query: '' }).success).toBe(false);
    expect(searchTool.parameters.safeParse({ query: 'x', limit: 0 }).success).toBe(false);
    expect(searchTool.parameters.safeParse({ query: 'x', limit: 11 }).success).toBe(false);
    expect(searchTool.parameters.safeParse({ query: 'x', limit: 2.5 }).success).toBe(false);
  });

  it('hands the query, limit and signal to a custom backend and enforces the limit', async () => {
    const calls: [string, number, AbortSignal][] = [];
    const backend: SearchBackend = {
      source: 'test-api',
      search(query, limit, callSignal) {
        calls.push([query, limit, callSignal]);
        const hit = { title: 'Hit', url: 'https://example.org/hit', snippet: 'A hit.' };
        return Promise.resolve([hit, hit, hit, hit]);
      },
    };
    const tool = createSearchTool(backend);
    const result = await tool.execute(tool.parameters.parse({ query: 'q', limit: 2 }), context);
    expect(calls).toEqual([['q', 2, signal]]);
    expect(result.results).toHaveLength(2);
    expect(result.source).toBe('test-api');
  });
});
