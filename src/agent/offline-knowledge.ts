/**
 * What the offline model knows how to say without a tool: canned answers, the topics it can
 * explain, and its answer to anything else.
 */

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
    '- calculations, e.g. "What is (5 + 3) * 2?", "subtract 9 from 20", "15% of 200", "twelve times seven", then "multiply that by 2"',
    '- the weather and a forecast, e.g. "weather in Paris" or "will it rain tomorrow in Berlin"',
    '- the time in other time zones, e.g. "current time in Tokyo" or "9am in London in New York"',
    '- dates, e.g. "what day is 30 days from 2026-01-01" or "how many days until 2026-12-25"',
    '- web search from an offline index, e.g. "search for WebSocket, 1 result"',
    '- short explanations of Go, concurrency, WebSocket, REST APIs and AI agents',
    '- remembering your name and what you asked before in this conversation',
  ].join('\n'),
};

const IDENTITY: CannedAnswer = {
  name: 'identity',
  kind: 'conversation',
  keywords: /\b(?:who|what) are you\b/i,
  answer:
    'I\'m parley-offline, a rule-based model that runs inside Parley without any network access. I recognise a few kinds of requests, call tools for calculations, dates, time zones, weather and search, and explain a handful of topics. Type "help" to see examples.',
};

const THANKS: CannedAnswer = {
  name: 'thanks',
  kind: 'conversation',
  keywords: /\b(?:thanks|thank you|thx|cheers)\b/i,
  answer:
    "You're welcome! Ask me anything else: a calculation, a date, the weather, the time somewhere, a search, or a topic such as WebSocket.",
};

const GREETING: CannedAnswer = {
  name: 'greeting',
  kind: 'conversation',
  keywords: /^\W*(?:hi|hello|hey|howdy|hiya|greetings|good (?:morning|afternoon|evening|day))\b/i,
  answer:
    "Hello! I'm Parley's offline assistant. I can do calculations, check the weather, tell the time in other cities, work with dates, search an offline index and explain a few topics. What would you like to know?",
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
    name: 'rest-api',
    kind: 'topic',
    keywords:
      /\brest(?:ful)?\b(?!\s+(?:of|day|days|assured))|\bapis?\b|\bendpoints?\b|\bhttp methods?\b/i,
    answer:
      'An API (application programming interface) is the contract one program offers another. A REST API exposes resources at URLs and acts on them with HTTP methods: GET reads, POST creates, PUT or PATCH updates and DELETE removes, with status codes such as 200 OK, 201 Created, 404 Not Found or 429 Too Many Requests, and usually JSON bodies. REST is stateless: each request carries everything the server needs, which makes it easy to cache and scale. Parley has a few REST endpoints (health, history) beside its WebSocket protocol, which suits streaming better.',
  },
  {
    name: 'parley',
    kind: 'topic',
    keywords: /\bparley\b/i,
    answer:
      'Parley is the engine you are talking to: a real-time engine for AI agent chat. WebSocket clients join conversations, an agent answers, calls tools and streams its answer token by token to every participant, and everything is logged before it is sent, so a session can be resumed, inspected and replayed. I am its built-in offline model; a real language model plugs in through the same contract.',
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
  'I\'m an offline, rule-based model, so I can\'t help with that. I can do calculations, work with dates, check the weather, tell the time in a city, search an offline index, and explain Go, concurrency, WebSocket, REST APIs and AI agents. Type "help" for examples.';

/** Words that end a place name: "in New York tomorrow", "in Paris in fahrenheit", "in London and …". */
export const NOT_PLACE_WORDS: ReadonlySet<string> = new Set(
  'and or but in on at for with the a an my your tomorrow today tonight now right currently this next later please fahrenheit celsius degrees then like is will be going weekend week morning afternoon evening when what whats it its to from time date local during over ago days weeks months years hours minutes'.split(
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
