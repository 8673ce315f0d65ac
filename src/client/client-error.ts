/**
 * The client's one error class and the table of its codes.
 *
 * These are the client's own codes, distinct from the server's wire codes in `src/errors.ts`
 * (which arrive as `error` frames and are delivered like any other frame). `fatal` says whether
 * the error ends the client (status `closed`) or is only reported while it carries on.
 */

/** Every code a {@link ParleyClientError} can carry, and whether it ends the client. */
export const CLIENT_ERROR_CODES = {
  /** The options given to `connect` are unusable (bad URL, malformed conversation id). */
  invalid_options: { fatal: true },
  /** The first connection closed (or was refused) before the server's `welcome`. */
  connect_failed: { fatal: true },
  /** The server closed with 1003, 1007 or 1008: the client's own fault, so it does not retry. */
  rejected: { fatal: true },
  /** The connection was lost and reconnection is off. */
  connection_lost: { fatal: true },
  /** `reconnect.maxAttempts` consecutive reconnection attempts failed. */
  reconnect_failed: { fatal: true },
  /** `send` (or a helper built on it) was called while the client was not `open`. */
  not_open: { fatal: false },
  /** A conversation event skipped seqs; it was still delivered. The server promises no gaps. */
  seq_gap: { fatal: false },
  /** An incoming frame was not JSON or failed `serverFrameSchema`; it was skipped. */
  invalid_frame: { fatal: false },
  /** A `frames()` iterator fell more than its buffer behind; that iterator ends with this. */
  frame_buffer_overflow: { fatal: false },
  /** `waitFor` or `history` did not get its frame in time. */
  timeout: { fatal: false },
  /** The server answered a `history` request with an `error` frame. */
  request_failed: { fatal: false },
  /** The client was closed while a `waitFor` or `history` was pending. */
  client_closed: { fatal: false },
  /** A `subscribe` or `onStatus` listener threw; the other listeners still ran. */
  listener_failed: { fatal: false },
} as const satisfies Record<string, { fatal: boolean }>;

/** A code of {@link CLIENT_ERROR_CODES}. */
export type ClientErrorCode = keyof typeof CLIENT_ERROR_CODES;

/** Options for {@link ParleyClientError}. */
export interface ParleyClientErrorOptions {
  cause?: unknown;
  /** The WebSocket close code involved, when a close caused the error. */
  closeCode?: number;
  details?: Record<string, unknown>;
}

/**
 * An error raised or reported by the Parley client. `code` is stable; `message` is for people.
 *
 * @example
 * client.onStatus((status, error) => {
 *   if (error?.code === 'rejected') console.error(`refused (${error.closeCode}): ${error.message}`);
 * });
 */
export class ParleyClientError extends Error {
  override readonly name = 'ParleyClientError';
  readonly code: ClientErrorCode;
  readonly closeCode: number | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ClientErrorCode, message: string, options: ParleyClientErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.closeCode = options.closeCode;
    this.details = options.details;
  }

  /** Whether this error ended the client. */
  get fatal(): boolean {
    return CLIENT_ERROR_CODES[this.code].fatal;
  }
}
