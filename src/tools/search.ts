/**
 * The `search` tool and the backend contract behind it. The default backend searches a small
 * built-in corpus offline; a real web-search API implements {@link SearchBackend} and is passed to
 * {@link createSearchTool}.
 */
import { z } from 'zod';
import { defineTool, type Tool } from './tool.js';

/** One search hit. */
export interface SearchResult {
  title: string;
  url: string;
  /** A sentence or two from the page. */
  snippet: string;
  /**
   * Relevance to the query from 0 to 1, when the backend ranks: the offline one gives 1 when every
   * query word is in the title and the text.
   */
  score?: number;
}

/** What the `search` tool returns. */
export interface SearchToolResult {
  query: string;
  /** Best first; empty when nothing matched. */
  results: SearchResult[];
  /** The backend's {@link SearchBackend.source}. */
  source: string;
}

/**
 * Where the `search` tool gets its results. Implementations pass `signal` to their HTTP client so
 * a timed-out or cancelled call stops promptly, and return at most `limit` results, best first.
 *
 * @example
 * const httpSearchBackend: SearchBackend = {
 *   source: 'my-search-api',
 *   async search(query, limit, signal) {
 *     const response = await fetch(`${baseUrl}?q=${encodeURIComponent(query)}&n=${limit}`, { signal });
 *     if (!response.ok) throw new Error(`Search API answered ${response.status}`);
 *     return toSearchResults(await response.json());
 *   },
 * };
 */
export interface SearchBackend {
  /** Reported as `source` in the tool's result, e.g. `offline`. */
  readonly source: string;
  search(query: string, limit: number, signal: AbortSignal): Promise<SearchResult[]>;
}

const CORPUS: readonly SearchResult[] = [
  {
    title: 'WebSockets: full-duplex messaging over one TCP connection',
    url: 'https://example.org/websockets',
    snippet:
      'The WebSocket protocol (RFC 6455) upgrades an HTTP request into a persistent, bidirectional channel for real-time messages, with ping/pong frames and close codes.',
  },
  {
    title: 'Backpressure and slow consumers in WebSocket servers',
    url: 'https://example.org/websockets/backpressure',
    snippet:
      'Watch bufferedAmount, cap each outbound queue and disconnect clients that cannot keep up, so one slow reader cannot exhaust server memory.',
  },
  {
    title: 'XState: state machines and actors for JavaScript',
    url: 'https://example.org/xstate',
    snippet:
      'XState models application logic as state machines and statecharts; actors communicate by sending events, and invoked children report failures as events.',
  },
  {
    title: 'RxJS: reactive programming with observables',
    url: 'https://example.org/rxjs',
    snippet:
      'RxJS composes asynchronous event streams with operators such as mergeMap, switchMap and timeout; the TestScheduler checks timing with marble diagrams.',
  },
  {
    title: 'TypeScript strict mode and exactOptionalPropertyTypes',
    url: 'https://example.org/typescript/strict',
    snippet:
      'TypeScript strict settings such as noUncheckedIndexedAccess and exactOptionalPropertyTypes catch undefined values and missing checks at compile time.',
  },
  {
    title: 'Node.js event loop explained',
    url: 'https://example.org/nodejs/event-loop',
    snippet:
      'Node.js runs JavaScript on a single thread with an event loop; timers, I/O callbacks and microtasks run in phases, and blocking work stalls every connection.',
  },
  {
    title: 'Go concurrency: goroutines and channels',
    url: 'https://example.org/go/concurrency',
    snippet:
      'Go starts lightweight goroutines and connects them with channels; select waits on several channels, and context cancellation stops work that is no longer needed.',
  },
  {
    title: 'Concurrency versus parallelism',
    url: 'https://example.org/concurrency',
    snippet:
      'Concurrency structures a program as independently progressing tasks; parallelism runs tasks at the same time on several cores. Worker pools bound both.',
  },
  {
    title: 'AI agents: models that plan, call tools and act',
    url: 'https://example.org/ai-agents',
    snippet:
      'An AI agent loops between a language model and tools: the model proposes a tool call, the runtime executes it and returns the result, until the model answers.',
  },
  {
    title: 'LLM tool calling with JSON Schema',
    url: 'https://example.org/llm/tool-calling',
    snippet:
      'Large language models call functions described by a name, a description and a JSON Schema of parameters; validate the arguments before executing the tool.',
  },
  {
    title: 'Streaming LLM responses token by token',
    url: 'https://example.org/llm/streaming',
    snippet:
      'Streaming APIs send text deltas as the model generates them, so chat interfaces show the answer while it is being written and can cancel midway.',
  },
  {
    title: 'Redis pub/sub and streams',
    url: 'https://example.org/redis/pubsub',
    snippet:
      'Redis publish/subscribe fans messages out to every subscriber in real time; Redis Streams keep an append-only log that consumers can replay.',
  },
  {
    title: 'PostgreSQL indexes and query planning',
    url: 'https://example.org/postgresql/indexes',
    snippet:
      'PostgreSQL chooses between sequential scans and B-tree, GIN or BRIN indexes; EXPLAIN ANALYZE shows the plan and where the time goes.',
  },
  {
    title: 'Rate limiting with token buckets',
    url: 'https://example.org/rate-limiting',
    snippet:
      'A token bucket allows short bursts while capping the average rate; each request takes a token and tokens refill at a fixed rate.',
  },
  {
    title: 'JSON Web Tokens for API authentication',
    url: 'https://example.org/jwt',
    snippet:
      'A JWT carries signed claims such as subject and expiry; servers verify the signature and the exp claim before trusting the token.',
  },
  {
    title: 'Time zones and the IANA database',
    url: 'https://example.org/time-zones',
    snippet:
      'IANA zone names such as Europe/Paris encode offsets and daylight saving rules; store instants in UTC and convert to local time only for display.',
  },
];

// Words too common to say anything about relevance.
const STOP_WORDS = new Set(
  'a an and are as at be by for from how in is it of on or the to what when where which who why with'.split(
    ' ',
  ),
);

/**
 * Lower-case words without stop words, with a trailing plural `s` dropped so `websockets` meets
 * `websocket`; applied to queries and documents alike, so the stemming only has to be consistent.
 */
function terms(text: string): Set<string> {
  const words = text.toLowerCase().split(/[^a-z0-9]+/);
  return new Set(
    words
      .filter((word) => word !== '' && !STOP_WORDS.has(word))
      .map((word) => (word.length > 3 && word.endsWith('s') ? word.slice(0, -1) : word)),
  );
}

const INDEX = CORPUS.map((entry) => ({
  entry,
  titleTerms: terms(entry.title),
  snippetTerms: terms(`${entry.url} ${entry.snippet}`),
}));

/**
 * A deterministic offline backend over a built-in corpus of sixteen short entries on real-time
 * systems and AI agents (WebSockets, XState, RxJS, TypeScript, Node.js, Go, concurrency, LLM tool
 * calling, Redis, PostgreSQL, …). Each distinct query term scores 3 in a title and 1 in a snippet
 * or URL; results are ranked by score, ties in corpus order, and entries scoring 0 are left out,
 * so an unrelated query yields an empty list. Each result's `score` is its points over the most
 * the query could earn (4 a term), two decimals. The URLs are placeholders on example.org.
 *
 * @example
 * await offlineSearchBackend.search('xstate actors', 3, signal);
 * // [{ title: 'XState: state machines and actors for JavaScript', …, score: 1 }]
 */
export const offlineSearchBackend: SearchBackend = {
  source: 'offline',
  search(query, limit, signal) {
    // A promise chain, so an aborted signal rejects the call rather than throwing synchronously.
    return Promise.resolve().then(() => {
      signal.throwIfAborted();
      return rankCorpus(query, limit);
    });
  },
};

/** The corpus entries sharing terms with the query, best first; see {@link offlineSearchBackend}. */
function rankCorpus(query: string, limit: number): SearchResult[] {
  const queryTerms = [...terms(query)];
  const scored = INDEX.map(({ entry, titleTerms, snippetTerms }, position) => {
    let score = 0;
    for (const term of queryTerms) {
      if (titleTerms.has(term)) score += 3;
      if (snippetTerms.has(term)) score += 1;
    }
    return { entry, score, position };
  });
  const ranked = scored
    .filter(({ score }) => score > 0)
    .sort((left, right) => right.score - left.score || left.position - right.position);
  const best = 4 * queryTerms.length;
  return ranked
    .slice(0, limit)
    .map(({ entry, score }) => ({ ...entry, score: Math.round((score / best) * 100) / 100 }));
}

const searchParameters = z.object({
  query: z.string().trim().min(1).max(200).describe('What to look for, in a few keywords.'),
  limit: z.number().int().min(1).max(10).default(3).describe('How many results to return, 1-10.'),
});

/**
 * Creates the `search` tool over a backend; the tool validates its parameters and hands the
 * call's signal to the backend.
 *
 * @default backend {@link offlineSearchBackend}
 * @example
 * const registry = new ToolRegistry([createSearchTool(httpSearchBackend)]);
 */
export function createSearchTool(
  backend: SearchBackend = offlineSearchBackend,
): Tool<typeof searchParameters, SearchToolResult> {
  return defineTool({
    name: 'search',
    description:
      'Searches documents for a query and returns titles, URLs, snippets and relevance scores. Use it for facts you do not know.',
    parameters: searchParameters,
    async execute({ query, limit }, { signal }) {
      const results = await backend.search(query, limit, signal);
      // Backends are not trusted to honour the limit.
      return { query, results: results.slice(0, limit), source: backend.source };
    },
  });
}

/**
 * The `search` tool over the offline corpus.
 *
 * @example
 * await searchTool.execute({ query: 'xstate', limit: 3 }, context);
 */
export const searchTool = createSearchTool();
