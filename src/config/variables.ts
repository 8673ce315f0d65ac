/**
 * Over 300 lines because it is the table of every configuration variable, one entry each.
 *
 * Every configuration variable: its environment name, its key in {@link ParleyConfig}, the schema
 * that validates it (from the environment's string or a value given in code, the same rules) with
 * its default, and its meaning. README's configuration table lists these; test/readme.test.ts
 * keeps the two in step.
 */
import { z } from 'zod';
import { isModelSpec } from '../providers/model-spec.js';

/** A whole number in a range: from the environment's string or a number given in code. */
const int = (min: number, max: number) =>
  z
    .union([
      z.number(),
      z
        .string()
        .regex(/^-?\d+$/, 'expected a whole number')
        .transform(Number),
    ])
    .pipe(z.number().int('expected a whole number').min(min).max(max));
/** On or off: `1`/`true`/`0`/`false` from the environment, or a boolean given in code. */
const flag = z.union([
  z.boolean(),
  z.enum(['0', '1', 'true', 'false']).transform((value) => value === '1' || value === 'true'),
]);

const DURATION_UNITS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
/** A duration in ms: `90`, `90s`, `15m`, `12h`, `30d` from the environment (bare = seconds), or ms given in code. */
const duration = z
  .union([
    z.number(),
    z
      .string()
      .regex(
        /^\d+[smhd]?$/,
        'expected a whole number of seconds, or one with a unit: 90s, 15m, 12h, 30d',
      )
      .transform((value) => {
        const unit = value.at(-1) as string;
        return unit in DURATION_UNITS
          ? Number(value.slice(0, -1)) * DURATION_UNITS[unit as keyof typeof DURATION_UNITS]
          : Number(value) * 1000;
      }),
  ])
  .pipe(
    z
      .number()
      .int('expected a whole number')
      .min(0)
      .max(3650 * 86_400_000),
  );
/** An http(s) URL (a base URL of a model API). */
const httpUrl = z
  .string()
  .regex(
    /^https?:\/\/[^\s]+$/,
    'expected an http:// or https:// URL such as http://127.0.0.1:11434/v1',
  );
/** A secret: any non-empty string (shown nowhere; see SECRET_SETTINGS in src/config.ts). */
const secret = z.string().min(1, 'expected a non-empty key');

/** Every configuration variable: env name → [config key, schema with default, meaning]. */
export const CONFIG_VARIABLES = {
  PARLEY_CONFIG: [
    'configFile',
    z.string().min(1).optional(),
    'JSON configuration file with these variables as keys; the environment overrides it. Default: `./parley.config.json` when present (read by `parley serve` and `parley config`).',
  ],
  PORT: ['port', int(0, 65_535).default(8080), 'TCP port to listen on (0 picks a free port).'],
  HOST: ['host', z.string().min(1).default('127.0.0.1'), 'Interface to bind.'],
  LOG_LEVEL: [
    'logLevel',
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    'pino log level.',
  ],
  PARLEY_DB: [
    'database',
    z.string().min(1).default('./data/parley.db'),
    'Event log: an SQLite file (created with its directory), `memory` to keep it in memory only, or a `postgres://` URL (required in cluster mode).',
  ],
  PARLEY_DB_SCHEMA: [
    'databaseSchema',
    z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'expected a lower-case PostgreSQL identifier')
      .default('parley'),
    'PostgreSQL schema that holds the event log (created when missing).',
  ],
  PARLEY_REDIS_URL: [
    'redisUrl',
    z
      .string()
      .regex(/^rediss?:\/\//, 'expected a redis:// or rediss:// URL')
      .optional(),
    'Cluster mode: the Redis that holds ownership leases and carries frames between instances. Needs `PARLEY_DB=postgres://…`.',
  ],
  PARLEY_REDIS_PREFIX: [
    'redisPrefix',
    z.string().min(1).max(64).default('parley:'),
    "Cluster mode: prefix of Parley's Redis keys (instances of one cluster share it).",
  ],
  PARLEY_LEASE_MS: [
    'leaseMs',
    int(100, 600_000).default(10_000),
    "Cluster mode: how long a conversation's ownership lease lives unless renewed; an owner that died is replaced after about this long.",
  ],
  PARLEY_INSTANCE_ID: [
    'instanceId',
    z
      .string()
      .regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'expected 1-128 characters of A-Za-z0-9_.:-')
      .optional(),
    "Cluster mode: this instance's name in leases, the inspector and logs. Default: host name, process id and a random suffix.",
  ],
  PARLEY_LOG_RETENTION: [
    'logRetention',
    int(0, 1_000_000_000).default(1_000_000),
    'Log entries kept per conversation (0 keeps all); resuming from before them gets `resume_unavailable`.',
  ],
  PARLEY_LOG_MAX_PENDING: [
    'logMaxPending',
    int(1, 100_000_000).default(200_000),
    'Entries held in memory while the store cannot take them (disk full, database down). A conversation that would go past it logs and sends nothing more; once the store has caught up, its sockets close with 1012 and it goes on from its last logged seq (clients resume with `?since=`): no seq is ever skipped.',
  ],
  PARLEY_LOG_MAX_AGE: [
    'logMaxAgeMs',
    duration.default(0),
    'Whole conversations idle (no new entry) for longer than this are removed from the log, checked every minute or so; `0` (the default) keeps them. Seconds, or with a unit: `90s`, `15m`, `12h`, `30d`. A running conversation is never removed. Not available in cluster mode (the server refuses to start with it).',
  ],
  PARLEY_LOG_THREAD: [
    'logThread',
    z.enum(['main', 'worker']).default('main'),
    'Thread that writes the SQLite event log: `main` (lowest token latency) or `worker` (a worker thread: more frames/s under heavy fan-out, higher latency, ~10 MiB more memory; see docs/PERFORMANCE.md).',
  ],
  PARLEY_LOG_CHECKPOINTS: [
    'logCheckpoints',
    z.enum(['background', 'inline']).default('background'),
    "Where the SQLite log's WAL checkpoints run with `PARLEY_LOG_THREAD=main`: `background` (a worker thread started at the first checkpoint, ~10 MiB; their fsyncs never stall the event loop) or `inline` (SQLite's own, inside a commit: 10-15 ms stalls).",
  ],
  PARLEY_DEV_MODE: [
    'devMode',
    flag.optional(),
    'Accept `?user_id=` without a JWT. Default: on only when HOST is loopback and no JWT key is set.',
  ],
  PARLEY_JWT_SECRET: ['jwtSecret', z.string().min(16).optional(), 'HS256 secret for client JWTs.'],
  PARLEY_JWT_PUBLIC_KEY_FILE: [
    'jwtPublicKeyFile',
    z.string().min(1).optional(),
    'PEM public key or JWKS file for client JWTs (RS/PS/ES/EdDSA).',
  ],
  PARLEY_JWT_ISSUER: ['jwtIssuer', z.string().optional(), 'Required `iss` claim, when set.'],
  PARLEY_JWT_AUDIENCE: ['jwtAudience', z.string().optional(), 'Required `aud` claim, when set.'],
  PARLEY_ACCESS: [
    'access',
    z.enum(['open', 'members']).optional(),
    'Who may use a conversation: `open` (anyone who knows its id) or `members` (its members, and JWT claims that grant it; docs/SECURITY.md). Default: `members` when a JWT key is set, else `open`.',
  ],
  PARLEY_ALLOWED_ORIGINS: [
    'allowedOrigins',
    z
      .union([
        z.array(z.string().min(1)),
        z.string().transform((value) =>
          value
            .split(',')
            .map((origin) => origin.trim())
            .filter(Boolean),
        ),
      ])
      .optional(),
    'Comma-separated `Origin` allowlist for browsers; unset allows any. Clients that send no `Origin` (non-browser) are not affected.',
  ],
  PARLEY_INSPECTOR: [
    'inspector',
    flag.optional(),
    'Serve the inspector (`/inspector`, `/ws/inspect`). Default: on in development mode, else off.',
  ],
  PARLEY_INSPECTOR_TOKEN: [
    'inspectorToken',
    z.string().min(16).optional(),
    'Admin token the inspector must send (`?token=` or `Authorization: Bearer`); required outside development mode.',
  ],
  PARLEY_INSPECTOR_MAX_STRING: [
    'inspectorMaxString',
    int(16, 1_000_000).default(500),
    'Longest string the inspector shows from an actor context; longer ones are cut.',
  ],
  PARLEY_INSPECTOR_MAX_ARRAY: [
    'inspectorMaxArray',
    int(1, 100_000).default(50),
    'Items the inspector shows from an array in a context (the last ones).',
  ],
  PARLEY_INSPECTOR_FORWARD: [
    'inspectorForward',
    z
      .string()
      .regex(/^wss?:\/\//, 'expected a ws:// or wss:// URL')
      .optional(),
    'Also forward inspection events to a Stately Inspector WebSocket server (`@statelyai/inspect`).',
  ],
  PARLEY_MAX_CONNECTIONS: [
    'maxConnections',
    int(1, 1_000_000).default(20_000),
    'Open WebSocket connections before upgrades get 503.',
  ],
  PARLEY_MAX_FRAME_BYTES: [
    'maxFrameBytes',
    int(1024, 16 * 1024 * 1024).default(64 * 1024),
    'Largest inbound frame; larger closes with 1009.',
  ],
  PARLEY_OUTBOUND_BUFFER_FRAMES: [
    'outboundBufferFrames',
    int(1, 1_000_000).default(256),
    'Frames a connection may have unsent; past it the client is closed with 1013.',
  ],
  PARLEY_SLOW_CONSUMER_GRACE_MS: [
    'slowConsumerGraceMs',
    int(0, 60_000).default(1_000),
    'A client past `PARLEY_OUTBOUND_BUFFER_FRAMES` gets the 1013 close frame behind what is queued, and this long to read it before its socket is terminated.',
  ],
  PARLEY_HEARTBEAT_MS: [
    'heartbeatIntervalMs',
    int(100, 3_600_000).default(30_000),
    'Interval of server WebSocket pings; two missed pongs terminate the socket.',
  ],
  PARLEY_HIBERNATE_AFTER_MS: [
    'hibernateAfterMs',
    int(0, 86_400_000).default(30_000),
    'A connection that sent nothing (but pings) for this long hibernates at its next heartbeat: its socket stays open, its actor is replaced by its saved context until the next event. 0: never.',
  ],
  PARLEY_RATE_LIMIT_MESSAGES: [
    'rateLimitMessages',
    int(1, 1_000_000).default(20),
    '`user_message` frames a user may send per window, across all their connections.',
  ],
  PARLEY_RATE_LIMIT_WINDOW_MS: [
    'rateLimitWindowMs',
    int(1, 3_600_000).default(10_000),
    'Rate-limit window.',
  ],
  PARLEY_MAX_PARTICIPANTS: [
    'maxParticipants',
    int(1, 100_000).default(100),
    'Connections per conversation before joins are refused (1008).',
  ],
  PARLEY_USER_CONVERSATIONS_PER_HOUR: [
    'userConversationsPerHour',
    int(0, 1_000_000).default(100),
    'Conversations one user may create per sliding hour (`POST /api/conversations`, or a join that starts one in `open` mode); past it `user_limit` (429). 0: no limit.',
  ],
  PARLEY_USER_LIVE_CONVERSATIONS: [
    'userLiveConversations',
    int(0, 1_000_000).default(20),
    'Conversations created by one user that may be live (loaded) at once; past it `user_limit` (429). 0: no limit.',
  ],
  PARLEY_TURN_CONCURRENCY: [
    'turnConcurrency',
    int(1, 1_000).default(10),
    'Agent turns running at once across all conversations (the worker pool).',
  ],
  PARLEY_TURN_QUEUE: [
    'turnQueueSize',
    int(0, 100_000).default(100),
    'Turns that may wait for a worker; one more gets `busy`.',
  ],
  PARLEY_USER_TURN_QUEUE: [
    'userTurnQueueSize',
    int(0, 100_000).default(10),
    "Of those, turns one user's messages may have waiting at once (so a few users cannot fill the queue for everybody); one more gets `busy`. 0: no per-user limit.",
  ],
  PARLEY_OVERLAP_POLICY: [
    'overlapPolicy',
    z.enum(['queue', 'interrupt']).default('queue'),
    'A message during a running turn: `queue` it, or `interrupt` the running turn.',
  ],
  PARLEY_TOKEN_PACING_MS: [
    'tokenPacingMs',
    int(0, 10_000).default(30),
    'Delay before each streamed token; 0 streams as fast as the model produces.',
  ],
  PARLEY_TOOL_TIMEOUT_MS: [
    'toolTimeoutMs',
    int(1, 600_000).default(10_000),
    'Per tool call; on timeout the tool is aborted and the model gets an error.',
  ],
  PARLEY_TURN_TIMEOUT_MS: [
    'turnTimeoutMs',
    int(1, 3_600_000).default(300_000),
    'Deadline for a whole turn, pacing included; stalls of a model are caught sooner by `PARLEY_MODEL_FIRST_BYTE_TIMEOUT_MS` and `PARLEY_MODEL_IDLE_TIMEOUT_MS`.',
  ],
  PARLEY_APPROVAL_TIMEOUT_MS: [
    'approvalTimeoutMs',
    int(1, 86_400_000).default(300_000),
    "How long a tool call that needs approval waits for a participant's answer; then it counts as denied.",
  ],
  PARLEY_MAX_STEPS: [
    'maxSteps',
    int(1, 100).default(8),
    'Model calls per turn (model → tools → model …).',
  ],
  PARLEY_MODEL: [
    'defaultModel',
    z
      .string()
      .refine(isModelSpec, {
        message:
          'expected offline, openai:<model>, anthropic:<model> or openai-compatible:<model> (the model id is everything after the first colon)',
      })
      .default('offline'),
    'Model of the agent `default`: `offline`, `openai:<model>`, `anthropic:<model>` or `openai-compatible:<model>` (docs/PROVIDERS.md).',
  ],
  PARLEY_AGENTS_FILE: [
    'agentsFile',
    z.string().min(1).optional(),
    'JSON file of named agents (model, system prompt, tools, limits); a conversation picks one with `?agent=<id>` on its first join (docs/PROVIDERS.md).',
  ],
  OPENAI_API_KEY: ['openaiApiKey', secret.optional(), 'API key for `openai:` models.'],
  OPENAI_BASE_URL: [
    'openaiBaseUrl',
    httpUrl.optional(),
    'Base URL of the OpenAI API. Unset: `https://api.openai.com/v1`.',
  ],
  PARLEY_OPENAI_API: [
    'openaiApi',
    z.enum(['chat', 'responses']).default('chat'),
    'API of `openai:` models: `chat` (Chat Completions) or `responses` (the Responses API).',
  ],
  ANTHROPIC_API_KEY: ['anthropicApiKey', secret.optional(), 'API key for `anthropic:` models.'],
  ANTHROPIC_BASE_URL: [
    'anthropicBaseUrl',
    httpUrl.optional(),
    'Base URL of the Anthropic API. Unset: `https://api.anthropic.com/v1`.',
  ],
  PARLEY_MODEL_BASE_URL: [
    'modelBaseUrl',
    httpUrl.optional(),
    'Base URL of the server of `openai-compatible:` models (required for them), e.g. `http://127.0.0.1:11434/v1` for Ollama.',
  ],
  PARLEY_MODEL_API_KEY: [
    'modelApiKey',
    secret.optional(),
    'API key sent to the server of `openai-compatible:` models, when it needs one.',
  ],
  PARLEY_MODEL_FIRST_BYTE_TIMEOUT_MS: [
    'modelFirstByteTimeoutMs',
    int(0, 3_600_000).default(60_000),
    'Time a remote model may take to send the first part of an answer before the turn fails with `provider_timeout`; 0: no limit.',
  ],
  PARLEY_MODEL_IDLE_TIMEOUT_MS: [
    'modelIdleTimeoutMs',
    int(0, 3_600_000).default(30_000),
    'Time a remote model may stay silent between two parts of an answer before the turn fails with `provider_timeout`; 0: no limit.',
  ],
  PARLEY_MODEL_MAX_RETRIES: [
    'modelMaxRetries',
    int(0, 10).default(2),
    'Retries of a model call that failed before any output (429, 5xx, connection refused), with backoff and `retry-after`.',
  ],
  PARLEY_MODEL_THREAD: [
    'modelThread',
    z.enum(['main', 'worker']).default('worker'),
    "Thread that reads remote models' streams (models configured with a spec: `openai:`, `anthropic:`, `openai-compatible:`): `worker` (one worker thread for all of them, started at the first call, 20–35 MiB; the HTTP streams' parsing stays off the server's event loop, which halves its load per token; see docs/PROVIDERS.md) or `main` (the server's own thread). Model objects given in code always run on the server's thread.",
  ],
  PARLEY_TOOL_RESULT_MAX_CHARS: [
    'toolResultMaxChars',
    int(100, 1_000_000).default(16_000),
    'Longest tool result (as JSON) given to a model; longer ones are cut, and invisible and control characters are removed first.',
  ],
  PARLEY_USER_TOKEN_BUDGET: [
    'userTokenBudget',
    int(0, 1_000_000_000_000).default(0),
    "Model tokens (input + output, from the providers' usage) a user's turns may spend per window; over it, a message gets `budget_exceeded`. 0: no budget.",
  ],
  PARLEY_USER_TOKEN_WINDOW_MS: [
    'userTokenWindowMs',
    int(1_000, 2_592_000_000).default(86_400_000),
    'Window of `PARLEY_USER_TOKEN_BUDGET` (sliding).',
  ],
  PARLEY_HISTORY_MESSAGES: [
    'historyMessages',
    int(1, 10_000).default(200),
    'Messages kept in memory per conversation as model context.',
  ],
  PARLEY_CONVERSATION_IDLE_MS: [
    'conversationIdleMs',
    int(0, 86_400_000).default(300_000),
    'A conversation with no participants and no turn is stopped after this long.',
  ],
  PARLEY_CONVERSATION_HIBERNATE_AFTER_MS: [
    'conversationHibernateAfterMs',
    int(0, 86_400_000).default(30_000),
    'A conversation with no turn running, queued or awaiting approval that saw no event for this long hibernates: its actor stops, the engine keeps its seq, ids and participants (~0.3 KiB), and the next join or message wakes it with its history read back from the log (a leave does not: the record takes it in place). 0: never.',
  ],
  PARLEY_CONVERSATION_EMPTY_HIBERNATE_AFTER_MS: [
    'conversationEmptyHibernateAfterMs',
    int(0, 86_400_000).default(0),
    'How long a conversation with no participant and no turn waits before it hibernates, while conversation hibernation is on; 0: at once. Nobody is there to serve, and the next join wakes it from the log with its history, as a restart would. An empty conversation kept awake holds about 3-4 KiB of heap, a hibernated one about 1.3 KiB.',
  ],
  PARLEY_SHUTDOWN_GRACE_MS: [
    'shutdownGraceMs',
    int(0, 600_000).default(10_000),
    'On SIGTERM/SIGINT, how long running turns may finish before they are interrupted.',
  ],
} as const;
