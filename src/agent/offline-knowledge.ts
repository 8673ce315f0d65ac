/**
 * What the offline model knows how to say: canned answers, the topics it can explain, the time
 * zones of common places, and the sentences that turn a tool's result into an answer.
 */
import type { ModelMessage } from './model.js';

/** A tool result message, as the offline model reads it back. */
export type ToolResultMessage = Extract<ModelMessage, { role: 'tool' }>;

/** A text answer, given when its keywords match the user's message. */
export interface CannedAnswer {
  name: string;
  /** Several topics asked about together are all explained; a conversational answer stands alone. */
  kind: 'topic' | 'conversation';
  keywords: RegExp;
  answer: string;
}

const HELP: CannedAnswer = {
  name: 'help',
  kind: 'conversation',
  keywords: /\bhelp\b|\bwhat (?:can|do) you do\b|\bhow do i use you\b/i,
  answer: [
    'I can help with:',
    '- calculations, e.g. "What is (5 + 3) * 2?" or "square root of 16"',
    '- the weather, e.g. "weather in Paris"',
    '- the time in other time zones, e.g. "current time in Tokyo"',
    '- web search from an offline index, e.g. "search for WebSocket"',
    '- short explanations of Go, concurrency, WebSocket and AI agents',
  ].join('\n'),
};

const IDENTITY: CannedAnswer = {
  name: 'identity',
  kind: 'conversation',
  keywords: /\b(?:who|what) are you\b/i,
  answer:
    'I\'m parley-offline, a rule-based model that runs inside Parley without any network access. I recognise a few kinds of requests, call tools for calculations, weather, time and search, and explain a handful of topics. Type "help" to see examples.',
};

const THANKS: CannedAnswer = {
  name: 'thanks',
  kind: 'conversation',
  keywords: /\b(?:thanks|thank you|thx|cheers)\b/i,
  answer:
    "You're welcome! Ask me anything else: a calculation, the weather, the time somewhere, a search, or a topic such as WebSocket.",
};

const GREETING: CannedAnswer = {
  name: 'greeting',
  kind: 'conversation',
  keywords: /^\W*(?:hi|hello|hey|howdy|hiya|greetings|good (?:morning|afternoon|evening|day))\b/i,
  answer:
    "Hello! I'm Parley's offline assistant. I can do calculations, check the weather, tell the time in other cities, search an offline index and explain a few topics. What would you like to know?",
};

const TOPICS: readonly CannedAnswer[] = [
  {
    name: 'go',
    kind: 'topic',
    // "go" alone is a common verb, so it only counts after words that introduce a subject.
    keywords:
      /\bgolang\b|\bgoroutines?\b|\bgo\s+(?:language|lang|programming|channels?|runtime)\b|\b(?:about|is|explain|learn|learning|in|using|of)\s+go\b(?!\s+(?:to|ahead|back|on|out|away|home|up|down|for|with|through|over|into|there|here)\b)/i,
    answer:
      "Go is a statically typed, compiled, garbage-collected programming language designed at Google by Robert Griesemer, Rob Pike and Ken Thompson and released as open source in 2009. It is known for fast builds, a small language and a strong standard library. Its concurrency model rests on goroutines, lightweight functions that the Go runtime schedules onto a few OS threads, and channels, typed pipes through which goroutines send and receive values. Go's motto is: don't communicate by sharing memory; share memory by communicating.",
  },
  {
    name: 'concurrency',
    kind: 'topic',
    keywords:
      /\bconcurren(?:cy|t)\b|\bparallelism\b|\bmulti-?threading\b|\brace conditions?\b|\bdeadlocks?\b/i,
    answer:
      'Concurrency means structuring a program as several tasks whose executions overlap in time, such as serving many network connections at once; parallelism means actually running them at the same instant on several cores. Common models are threads with locks, message passing between actors or goroutines, and a single event loop with async/await, as in Node.js. The hard parts are shared mutable state, race conditions, deadlocks and cancellation, which is why many designs prefer passing messages to sharing memory.',
  },
  {
    name: 'websocket',
    kind: 'topic',
    keywords: /\bweb\s?-?sockets?\b|\brfc\s?6455\b/i,
    answer:
      'WebSocket (RFC 6455) is a protocol that gives a client and a server one long-lived, full-duplex connection over TCP. It starts as an HTTP/1.1 request with an "Upgrade: websocket" header; once the server answers 101 Switching Protocols, both sides exchange framed text or binary messages, plus ping, pong and close control frames. Frames sent by the client are masked, and a close frame carries a status code such as 1000 for a normal closure or 1009 for a message that is too big.',
  },
  {
    name: 'ai-agents',
    kind: 'topic',
    keywords: /\bagents?\b|\bagentic\b|\btool[- ](?:use|calling|calls?)\b|\bfunction[- ]calling\b/i,
    answer:
      'An AI agent is a language model run in a loop with tools: the model reads the conversation and either answers or asks for one or more tool calls, the host runs those tools and appends their results, and the model is called again until it answers in text. Good agent loops cap the number of steps, time out slow tools and hand tool errors back to the model instead of crashing. Parley runs exactly this loop and streams every token and tool call to everyone in the conversation.',
  },
];

/**
 * Every canned answer in the order it is tried. Topics come before thanks and greetings, so
 * "thanks, and what is Go?" explains Go instead of only saying "you're welcome".
 */
export const CANNED_ANSWERS: readonly CannedAnswer[] = [
  HELP,
  IDENTITY,
  ...TOPICS,
  THANKS,
  GREETING,
];

/** The answer to anything the offline model does not understand. */
export const FALLBACK_ANSWER =
  'I\'m an offline, rule-based model, so I can\'t help with that. I can do calculations, check the weather, tell the time in a city, search an offline index, and explain Go, concurrency, WebSocket and AI agents. Type "help" for examples.';

/** Words that end a place name: "in New York tomorrow", "in Paris in fahrenheit", "in London and …". */
export const NOT_PLACE_WORDS: ReadonlySet<string> = new Set(
  'and or but in on at for with the tomorrow today tonight now right currently this next later please fahrenheit celsius degrees then like is will be going weekend week morning afternoon evening'.split(
    ' ',
  ),
);

/** Words kept lower case inside a place name, as in "Rio de Janeiro". */
export const NAME_PARTICLES: ReadonlySet<string> = new Set([
  'de',
  'da',
  'do',
  'del',
  'la',
  'le',
  'of',
  'upon',
  'am',
]);

/** IANA time zones of the places the offline model recognises, keyed by lower-case name. */
export const TIME_ZONES: Readonly<Record<string, string>> = {
  tokyo: 'Asia/Tokyo',
  japan: 'Asia/Tokyo',
  london: 'Europe/London',
  uk: 'Europe/London',
  'new york': 'America/New_York',
  nyc: 'America/New_York',
  paris: 'Europe/Paris',
  france: 'Europe/Paris',
  berlin: 'Europe/Berlin',
  germany: 'Europe/Berlin',
  sydney: 'Australia/Sydney',
  'los angeles': 'America/Los_Angeles',
  'san francisco': 'America/Los_Angeles',
  seattle: 'America/Los_Angeles',
  chicago: 'America/Chicago',
  singapore: 'Asia/Singapore',
  mumbai: 'Asia/Kolkata',
  delhi: 'Asia/Kolkata',
  'new delhi': 'Asia/Kolkata',
  india: 'Asia/Kolkata',
  utc: 'UTC',
  gmt: 'UTC',
};

/** Turns one tool result (or tool error) into a sentence of the answer. */
export function describeToolResult(message: ToolResultMessage): string {
  const output = isRecord(message.output) ? message.output : {};
  if (message.isError) return describeToolError(message.toolName, output['error']);
  const described = describeToolOutput(message.toolName, output);
  if (described !== undefined) return described;
  // A result in an unexpected shape is still shown, so the user sees what the tool did.
  const shown = message.output === undefined ? 'nothing' : JSON.stringify(message.output);
  return `The ${message.toolName} tool returned ${truncate(shown, 200)}.`;
}

function describeToolOutput(toolName: string, output: Record<string, unknown>): string | undefined {
  switch (toolName) {
    case 'calculator': {
      const { expression, result } = output;
      if (typeof expression !== 'string' || typeof result !== 'number') return undefined;
      return `${expression} = ${formatNumber(result)}.`;
    }
    case 'weather': {
      const { location, temperature, units, condition, humidity, wind_kph: wind } = output;
      if (typeof location !== 'string' || typeof temperature !== 'number') return undefined;
      if (typeof condition !== 'string' || typeof humidity !== 'number') return undefined;
      if (typeof wind !== 'number') return undefined;
      const degrees = units === 'imperial' ? '°F' : '°C';
      return `In ${location} it is ${formatNumber(temperature)}${degrees} and ${condition.toLowerCase()}, with ${formatNumber(humidity)}% humidity and wind at ${formatNumber(wind)} km/h.`;
    }
    case 'search': {
      const { query, results } = output;
      if (typeof query !== 'string' || !Array.isArray(results)) return undefined;
      if (results.length === 0) return `I found nothing for "${query}".`;
      const lines = results.filter(isRecord).slice(0, 3).map(describeSearchResult);
      return [`Here is what I found for "${query}":`, ...lines].join('\n');
    }
    case 'datetime': {
      const { timezone, local, weekday, utc_offset: offset } = output;
      if (typeof timezone !== 'string' || typeof local !== 'string') return undefined;
      if (typeof weekday !== 'string' || typeof offset !== 'string') return undefined;
      const utcOffset = /^[+-]/.test(offset) ? `UTC${offset}` : offset;
      return `It is ${weekday} ${local.replace('T', ' ')} in ${timezone} (${utcOffset}).`;
    }
    default:
      return undefined;
  }
}

function describeSearchResult(result: Record<string, unknown>, index: number): string {
  const title = typeof result['title'] === 'string' ? result['title'] : 'Untitled';
  const snippet = typeof result['snippet'] === 'string' ? ` — ${result['snippet']}` : '';
  const url = typeof result['url'] === 'string' ? ` (${result['url']})` : '';
  return `${index + 1}. ${title}${snippet}${url}`;
}

const TOOL_FAILURES: Readonly<Record<string, string>> = {
  calculator: "I couldn't finish the calculation",
  weather: "I couldn't get the weather",
  datetime: "I couldn't get the time",
  search: "I couldn't search",
};

function describeToolError(toolName: string, error: unknown): string {
  const code = isRecord(error) ? error['code'] : undefined;
  const reason = isRecord(error) ? error['message'] : undefined;
  if (code === 'tool_timeout') {
    return `The ${toolName} tool did not answer in time, so I can't tell you that right now.`;
  }
  const failure = TOOL_FAILURES[toolName] ?? `The ${toolName} tool failed`;
  const detail =
    typeof reason === 'string' && reason.trim() !== '' ? reason.trim() : 'unknown error';
  return `${failure}: ${/[.!?]$/.test(detail) ? detail : `${detail}.`}`;
}

function formatNumber(value: number): string {
  // Twelve significant digits hide binary floating-point noise such as 0.1 + 0.2 = 0.30000000000000004.
  return Number.isFinite(value) ? String(Number(value.toPrecision(12))) : String(value);
}

function truncate(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
