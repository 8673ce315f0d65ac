/**
 * Parley's one error class and the table of every error code it can carry.
 *
 * Each code maps to the WebSocket close code used when the error ends the connection, or to
 * `null` when it is reported as an `error` frame and the socket stays open. The same table is
 * listed in docs/WEBSOCKET_API.md; a test keeps the two in step.
 */

/** The WebSocket close codes Parley uses, by name. */
export const CLOSE_CODES = {
  normal: 1000,
  going_away: 1001,
  unsupported_data: 1003,
  invalid_payload: 1007,
  policy_violation: 1008,
  message_too_big: 1009,
  internal_error: 1011,
  service_restart: 1012,
  try_again_later: 1013,
  /** The connection's token expired (send `authenticate` with a fresh one before `exp`). */
  token_expired: 4401,
  /** The user was removed from the conversation (or lost the right to read it). */
  membership_revoked: 4403,
  /** The conversation was deleted. */
  conversation_deleted: 4404,
} as const;

/** A WebSocket close code Parley sends. */
export type CloseCode = (typeof CLOSE_CODES)[keyof typeof CLOSE_CODES];

const CLOSE_CODE_SET: ReadonlySet<number> = new Set(Object.values(CLOSE_CODES));

/**
 * Whether a number read from outside the type system (a stream field) is one of Parley's close
 * codes.
 *
 * @example
 * isCloseCode(4401); // true
 */
export function isCloseCode(code: number): code is CloseCode {
  return CLOSE_CODE_SET.has(code);
}

/**
 * Every error code Parley reports, with its close code (`null`: an `error` frame, socket stays
 * open) and the HTTP status used when the error happens at the upgrade.
 */
export const ERROR_CODES = {
  /** A text frame that is not JSON. */
  invalid_json: { close: 1007, http: null },
  /** JSON that does not match any client frame schema (or a bad `?since=`); `issues` says which field and what was expected. */
  invalid_frame: { close: null, http: 400 },
  /** Binary frames are not part of the protocol. */
  unsupported_data: { close: 1003, http: null },
  /** A frame larger than `maxFrameBytes` (the `ws` library closes the socket itself). */
  frame_too_large: { close: 1009, http: null },
  /** The user sends messages faster than the configured rate. */
  rate_limited: { close: null, http: null },
  /** Repeated invalid frames or rate-limit violations. */
  policy_violation: { close: 1008, http: null },
  /** The turn queue of the worker pool is full; the message was not accepted. */
  busy: { close: null, http: null },
  /**
   * A `user_message` with a `client_message_id` the same user sent in one of the conversation's
   * recent messages: it was taken already, and is not taken twice.
   */
  duplicate_message: { close: null, http: null },
  /** `cancel` was sent while no turn was running or waiting. */
  no_active_turn: { close: null, http: null },
  /** The client did not read its frames fast enough; its outbound buffer hit the limit. */
  slow_consumer: { close: 1013, http: null },
  /** The conversation already has the maximum number of participants. */
  conversation_full: { close: 1008, http: null },
  /** A `resume`/`?since=` asks for events the log no longer holds (or a seq not reached yet). */
  resume_unavailable: { close: null, http: null },
  /** The event log could not be read or written. */
  log_unavailable: { close: null, http: 503 },
  /** The server is shutting down or restarting. */
  server_shutdown: { close: 1012, http: 503 },
  /** An unexpected fault; details are in the server log, never in the frame. */
  internal_error: { close: 1011, http: 500 },
  /** The conversation id in the URL is malformed. */
  invalid_conversation_id: { close: null, http: 400 },
  /** Missing, malformed, expired or wrongly signed credentials. */
  unauthorized: { close: null, http: 401 },
  /** The `Origin` header is not in the allowlist. */
  origin_not_allowed: { close: null, http: 403 },
  /** The server holds its maximum number of connections. */
  too_many_connections: { close: null, http: 503 },
  /** The path is not a known route. */
  not_found: { close: null, http: 404 },
  /** An HTTP method the route does not take. */
  method_not_allowed: { close: null, http: 405 },
  /** A request body that is not the JSON the route expects; `issues` says which field. */
  invalid_request: { close: null, http: 400 },
  /**
   * The caller may see the conversation but not do this: a viewer (or a socket the `authorize`
   * hook made read-only) posting or cancelling (an `error` frame), or a non-owner changing members
   * or deleting (HTTP 403).
   */
  forbidden: { close: null, http: 403 },
  /** `POST /api/conversations` with an id that already exists (and the caller may see). */
  conversation_exists: { close: null, http: 409 },
  /** The user was removed from the conversation: the socket is closed with 4403. */
  membership_revoked: { close: 4403, http: null },
  /** The conversation was deleted: its sockets are closed with 4404. */
  conversation_deleted: { close: 4404, http: null },
  /** The connection's token reached its `exp`: the socket is closed with 4401. */
  token_expired: { close: 4401, http: 401 },
  /**
   * A per-user limit: conversations created per window or live at once (HTTP 429,
   * `details.retry_after_ms` when waiting helps), or turns waiting in the queue (an `error` frame).
   */
  user_limit: { close: null, http: 429 },
  /** A tool call did not finish within its timeout; the tool's signal was aborted. */
  tool_timeout: { close: null, http: null },
  /** A tool threw or rejected; the message says why. */
  tool_failed: { close: null, http: null },
  /** The tool's MCP server is not connected (starting, reconnecting or closed); the call did not run. */
  tool_unavailable: { close: null, http: null },
  /** The model asked for a tool that is not registered. */
  unknown_tool: { close: null, http: null },
  /** The model called a tool with arguments that fail its schema. */
  invalid_tool_arguments: { close: null, http: null },
  /**
   * A tool call that needed a participant's approval was denied, or nobody answered before its
   * deadline; the tool did not run, and the model was told why.
   */
  tool_denied: { close: null, http: null },
  /** `tool_approval` names a call that is not waiting for approval (unknown, or decided already). */
  approval_not_pending: { close: null, http: null },
  /** `tool_approval` from a participant whose role may not approve tool calls (a viewer). */
  approval_not_allowed: { close: null, http: null },
  /** A whole turn did not finish within `turnTimeoutMs`. */
  turn_timeout: { close: null, http: null },
  /** The model stream failed. */
  model_failed: { close: null, http: null },
  /** The model provider kept answering 429 (rate limit or quota) after the retries. */
  provider_rate_limited: { close: null, http: null },
  /** The model provider could not be reached, answered 5xx or dropped the connection. */
  provider_unavailable: { close: null, http: null },
  /** The model provider refused the request (bad key, unknown model, invalid request). */
  provider_rejected: { close: null, http: null },
  /** The model provider sent nothing within the first-byte or idle deadline. */
  provider_timeout: { close: null, http: null },
  /** The model provider's stream broke its API's format (e.g. ended without a finish reason). */
  provider_protocol_error: { close: null, http: null },
  /** `?agent=` names an agent the server does not have (400 at the upgrade). */
  unknown_agent: { close: null, http: 400 },
  /**
   * The user's turns spent their token budget (`PARLEY_USER_TOKEN_BUDGET`) for the current window:
   * a message is refused before its turn starts (`details.retry_after_ms`), and a running turn that
   * crosses it completes with `status: "budget_exceeded"` before its next model call.
   */
  budget_exceeded: { close: null, http: null },
  /**
   * Cluster mode: another instance took over the conversation with a newer fencing epoch, so the
   * event log refused this instance's write (`details.conversation_ids` names the conversations).
   */
  cluster_fenced: { close: null, http: null },
  /**
   * Cluster mode: Redis or PostgreSQL cannot be reached (or the ownership lease was lost), so the
   * conversation takes no input until it recovers by itself.
   */
  cluster_unavailable: { close: null, http: 503 },
} as const satisfies Record<string, { close: CloseCode | null; http: number | null }>;

/** A stable, documented error code. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Every error code, in the table's order (for the wire schema's enum). */
export const ERROR_CODE_NAMES = Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]];

/**
 * Whether a value from a loosely typed frame body is one of the table's error codes.
 *
 * @example
 * if (body.type === 'error' && isErrorCode(body.code)) metrics.refused(body.code);
 */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);
}

/** One issue in a rejected frame: where, and what was expected. */
export interface FrameIssue {
  /** Dotted path of the field, `""` for the frame itself. */
  path: string;
  /** Human-readable explanation. */
  message: string;
  /** What the schema expected at that path, when zod says so. */
  expected?: string;
}

/** Options for {@link ParleyError}. */
export interface ParleyErrorOptions {
  cause?: unknown;
  issues?: FrameIssue[];
  details?: Record<string, unknown>;
}

/**
 * The error class used across Parley. `code` is stable and documented; `message` is for people.
 *
 * @example
 * throw new ParleyError('busy', 'The turn queue is full (100 waiting); try again shortly.');
 */
export class ParleyError extends Error {
  override readonly name = 'ParleyError';
  readonly code: ErrorCode;
  readonly issues: FrameIssue[] | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: ParleyErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.issues = options.issues;
    this.details = options.details;
  }

  /** The WebSocket close code for this error, or `null` when it is reported as a frame. */
  get closeCode(): CloseCode | null {
    return ERROR_CODES[this.code].close;
  }

  /** The HTTP status used when this error refuses an upgrade. */
  get httpStatus(): number {
    return ERROR_CODES[this.code].http ?? 500;
  }
}

/**
 * Converts anything thrown into a {@link ParleyError}, keeping the original as `cause`.
 *
 * @example
 * catchError((error) => of(failed(toParleyError(error, 'model_failed'))))
 */
export function toParleyError(error: unknown, fallback: ErrorCode = 'internal_error'): ParleyError {
  if (error instanceof ParleyError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ParleyError(fallback, message, { cause: error });
}
