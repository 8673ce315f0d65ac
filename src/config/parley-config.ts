/**
 * The resolved server configuration, one documented field per setting. Each comes from its
 * environment variable (src/config/variables.ts, README's table) or from `startServer({ config })`.
 */

/** Resolved server configuration. */
export interface ParleyConfig {
  /**
   * The configuration file this configuration was read from, when `parley serve` read one.
   * Env `PARLEY_CONFIG`. @default undefined (`./parley.config.json` when present)
   */
  configFile?: string | undefined;
  /** TCP port to listen on (0 picks a free port). Env `PORT`. @default 8080 */
  port: number;
  /** Interface to bind. Env `HOST`. @default '127.0.0.1' */
  host: string;
  /** pino log level. Env `LOG_LEVEL`. @default 'info' */
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Event log: an SQLite file, `memory`, or a `postgres://` URL. Env `PARLEY_DB`. @default './data/parley.db' */
  database: string;
  /** PostgreSQL schema of the event log. Env `PARLEY_DB_SCHEMA`. @default 'parley' */
  databaseSchema: string;
  /** Cluster mode's Redis; cluster mode is on when set. Env `PARLEY_REDIS_URL`. @default undefined */
  redisUrl?: string | undefined;
  /** Prefix of cluster mode's Redis keys. Env `PARLEY_REDIS_PREFIX`. @default 'parley:' */
  redisPrefix: string;
  /** Ownership lease time in cluster mode. Env `PARLEY_LEASE_MS`. @default 10_000 */
  leaseMs: number;
  /** This instance's name in cluster mode. Env `PARLEY_INSTANCE_ID`. @default host-pid-random */
  instanceId?: string | undefined;
  /** Log entries kept per conversation; 0 keeps all. Env `PARLEY_LOG_RETENTION`. @default 1_000_000 */
  logRetention: number;
  /**
   * Remove whole conversations idle longer than this, in ms (0 keeps them); from the environment
   * in seconds or with a unit (`30d`). Env `PARLEY_LOG_MAX_AGE`. @default 0
   */
  logMaxAgeMs: number;
  /**
   * Entries the log holds in memory while its store cannot take them; past it, a conversation
   * that logs more is restarted from the log once the store recovers. Env
   * `PARLEY_LOG_MAX_PENDING`. @default 200_000
   */
  logMaxPending: number;
  /** Thread that writes the SQLite log. Env `PARLEY_LOG_THREAD`. @default 'main' */
  logThread: 'main' | 'worker';
  /** Where the SQLite log's WAL checkpoints run. Env `PARLEY_LOG_CHECKPOINTS`. @default 'background' */
  logCheckpoints: 'background' | 'inline';
  /**
   * Accept `?user_id=` without a JWT. Env `PARLEY_DEV_MODE`.
   * @default true only when `host` is loopback and no JWT key is set
   */
  devMode: boolean;
  /** HS256 secret for client JWTs (16+ characters). Env `PARLEY_JWT_SECRET`. @default undefined */
  jwtSecret?: string | undefined;
  /** PEM public key or JWKS file for client JWTs. Env `PARLEY_JWT_PUBLIC_KEY_FILE`. @default undefined */
  jwtPublicKeyFile?: string | undefined;
  /** Required `iss` claim. Env `PARLEY_JWT_ISSUER`. @default undefined */
  jwtIssuer?: string | undefined;
  /** Required `aud` claim. Env `PARLEY_JWT_AUDIENCE`. @default undefined */
  jwtAudience?: string | undefined;
  /**
   * Who may use a conversation: `open` (anyone who knows its id) or `members`. Env `PARLEY_ACCESS`.
   * @default 'members' when a JWT key is set, else 'open'
   */
  access: 'open' | 'members';
  /** `Origin` allowlist for browsers; unset allows any. Env `PARLEY_ALLOWED_ORIGINS`. @default undefined */
  allowedOrigins?: string[] | undefined;
  /** Serve the inspector. Env `PARLEY_INSPECTOR`. @default `devMode` */
  inspector: boolean;
  /** Admin token the inspector needs outside development mode. Env `PARLEY_INSPECTOR_TOKEN`. @default undefined */
  inspectorToken?: string | undefined;
  /** Longest string the inspector shows from a context. Env `PARLEY_INSPECTOR_MAX_STRING`. @default 500 */
  inspectorMaxString: number;
  /** Items the inspector shows from an array. Env `PARLEY_INSPECTOR_MAX_ARRAY`. @default 50 */
  inspectorMaxArray: number;
  /** Also forward inspection events to a Stately Inspector server. Env `PARLEY_INSPECTOR_FORWARD`. @default undefined */
  inspectorForward?: string | undefined;
  /** Open WebSocket connections before upgrades get 503. Env `PARLEY_MAX_CONNECTIONS`. @default 20_000 */
  maxConnections: number;
  /** Largest inbound frame in bytes; larger closes with 1009. Env `PARLEY_MAX_FRAME_BYTES`. @default 65_536 */
  maxFrameBytes: number;
  /** Frames a connection may have unsent before 1013. Env `PARLEY_OUTBOUND_BUFFER_FRAMES`. @default 256 */
  outboundBufferFrames: number;
  /** Time a slow consumer has to read its 1013 close frame before termination. Env `PARLEY_SLOW_CONSUMER_GRACE_MS`. @default 1_000 */
  slowConsumerGraceMs: number;
  /** Conversations one user may create per hour; 0: no limit. Env `PARLEY_USER_CONVERSATIONS_PER_HOUR`. @default 100 */
  userConversationsPerHour: number;
  /** Conversations created by one user live at once; 0: no limit. Env `PARLEY_USER_LIVE_CONVERSATIONS`. @default 20 */
  userLiveConversations: number;
  /** Interval of server WebSocket pings. Env `PARLEY_HEARTBEAT_MS`. @default 30_000 */
  heartbeatIntervalMs: number;
  /** Quiet time before a connection hibernates; 0: never. Env `PARLEY_HIBERNATE_AFTER_MS`. @default 30_000 */
  hibernateAfterMs: number;
  /** `user_message` frames a user may send per window. Env `PARLEY_RATE_LIMIT_MESSAGES`. @default 20 */
  rateLimitMessages: number;
  /** Rate-limit window. Env `PARLEY_RATE_LIMIT_WINDOW_MS`. @default 10_000 */
  rateLimitWindowMs: number;
  /** Connections per conversation. Env `PARLEY_MAX_PARTICIPANTS`. @default 100 */
  maxParticipants: number;
  /** Agent turns running at once (the worker pool). Env `PARLEY_TURN_CONCURRENCY`. @default 10 */
  turnConcurrency: number;
  /** Turns that may wait for a worker; one more gets `busy`. Env `PARLEY_TURN_QUEUE`. @default 100 */
  turnQueueSize: number;
  /**
   * Of those, turns one user's messages may have waiting at once; one more gets `busy`; 0: no
   * per-user limit. Env `PARLEY_USER_TURN_QUEUE`. @default 10
   */
  userTurnQueueSize: number;
  /** A message during a running turn: queue it or interrupt. Env `PARLEY_OVERLAP_POLICY`. @default 'queue' */
  overlapPolicy: 'queue' | 'interrupt';
  /** Delay before each streamed token; 0: none. Env `PARLEY_TOKEN_PACING_MS`. @default 30 */
  tokenPacingMs: number;
  /** Per tool call. Env `PARLEY_TOOL_TIMEOUT_MS`. @default 10_000 */
  toolTimeoutMs: number;
  /** Deadline for a whole turn. Env `PARLEY_TURN_TIMEOUT_MS`. @default 300_000 */
  turnTimeoutMs: number;
  /**
   * How long a tool call that needs approval waits for an answer; then it counts as denied.
   * Env `PARLEY_APPROVAL_TIMEOUT_MS`. @default 300_000
   */
  approvalTimeoutMs: number;
  /** Model calls per turn. Env `PARLEY_MAX_STEPS`. @default 8 */
  maxSteps: number;
  /** Model of the agent `default`. Env `PARLEY_MODEL`. @default 'offline' */
  defaultModel: string;
  /** JSON file of named agents. Env `PARLEY_AGENTS_FILE`. @default undefined */
  agentsFile?: string | undefined;
  /** API key for `openai:` models (a secret). Env `OPENAI_API_KEY`. @default undefined */
  openaiApiKey?: string | undefined;
  /** Base URL of the OpenAI API. Env `OPENAI_BASE_URL`. @default undefined (https://api.openai.com/v1) */
  openaiBaseUrl?: string | undefined;
  /** API of `openai:` models. Env `PARLEY_OPENAI_API`. @default 'chat' */
  openaiApi: 'chat' | 'responses';
  /** API key for `anthropic:` models (a secret). Env `ANTHROPIC_API_KEY`. @default undefined */
  anthropicApiKey?: string | undefined;
  /** Base URL of the Anthropic API. Env `ANTHROPIC_BASE_URL`. @default undefined (https://api.anthropic.com/v1) */
  anthropicBaseUrl?: string | undefined;
  /** Base URL of an OpenAI-compatible server. Env `PARLEY_MODEL_BASE_URL`. @default undefined */
  modelBaseUrl?: string | undefined;
  /** API key of the OpenAI-compatible server (a secret). Env `PARLEY_MODEL_API_KEY`. @default undefined */
  modelApiKey?: string | undefined;
  /** First-byte deadline of a remote model call; 0: none. Env `PARLEY_MODEL_FIRST_BYTE_TIMEOUT_MS`. @default 60_000 */
  modelFirstByteTimeoutMs: number;
  /** Deadline between two parts of a remote answer; 0: none. Env `PARLEY_MODEL_IDLE_TIMEOUT_MS`. @default 30_000 */
  modelIdleTimeoutMs: number;
  /** Retries of a model call that failed before any output. Env `PARLEY_MODEL_MAX_RETRIES`. @default 2 */
  modelMaxRetries: number;
  /** Thread that reads remote models' streams. Env `PARLEY_MODEL_THREAD`. @default 'worker' */
  modelThread: 'main' | 'worker';
  /** Longest tool result given to a model, in characters of JSON. Env `PARLEY_TOOL_RESULT_MAX_CHARS`. @default 16_000 */
  toolResultMaxChars: number;
  /** Tokens a user's turns may spend per window; 0: no budget. Env `PARLEY_USER_TOKEN_BUDGET`. @default 0 */
  userTokenBudget: number;
  /** Window of the user token budget. Env `PARLEY_USER_TOKEN_WINDOW_MS`. @default 86_400_000 */
  userTokenWindowMs: number;
  /** Messages kept in memory per conversation as model context. Env `PARLEY_HISTORY_MESSAGES`. @default 200 */
  historyMessages: number;
  /** An empty conversation stops after this long. Env `PARLEY_CONVERSATION_IDLE_MS`. @default 300_000 */
  conversationIdleMs: number;
  /** Quiet time before an idle conversation hibernates; 0: never. Env `PARLEY_CONVERSATION_HIBERNATE_AFTER_MS`. @default 30_000 */
  conversationHibernateAfterMs: number;
  /** Of those, one with no participant: how long it waits; 0: at once. Env `PARLEY_CONVERSATION_EMPTY_HIBERNATE_AFTER_MS`. @default 0 */
  conversationEmptyHibernateAfterMs: number;
  /** How long running turns may finish at shutdown. Env `PARLEY_SHUTDOWN_GRACE_MS`. @default 10_000 */
  shutdownGraceMs: number;
}
