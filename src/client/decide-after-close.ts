/**
 * What the client does when its connection closes without it having asked to.
 */
// errors.ts imports nothing, and the client already bundles it through the wire schema
// (protocol/frames.ts): taking the codes from the one table pulls in no server code.
import { CLOSE_CODES, type ErrorCode } from '../errors.js';
import { ParleyClientError } from './client-error.js';

/**
 * Close codes that blame the client (unsupported data, invalid payload, policy) or end its access
 * (token expired, membership revoked, conversation deleted): retrying is pointless.
 */
export const REJECTING_CLOSE_CODES: ReadonlySet<number> = new Set([
  CLOSE_CODES.unsupported_data,
  CLOSE_CODES.invalid_payload,
  CLOSE_CODES.policy_violation,
  CLOSE_CODES.token_expired,
  CLOSE_CODES.membership_revoked,
  CLOSE_CODES.conversation_deleted,
]);

/** Service restart: reconnect at the first backoff step, another instance may already serve. */
const SERVICE_RESTART = CLOSE_CODES.service_restart;

/** A close the client did not ask for, with what is known about why. */
export interface UnexpectedClose {
  code: number;
  reason: string;
  /** The last `error` frame the server sent on that connection, often the explanation. */
  serverError: { code: ErrorCode; message: string } | undefined;
  /** The message of the socket's `error` event, e.g. `Unexpected server response: 401` from `ws`. */
  socketError: string | undefined;
}

/** Reconnect after the backoff delay of `step`, or end the client with `error`. */
export type CloseDecision =
  { reconnect: true; step: number } | { reconnect: false; error: ParleyClientError };

/**
 * Decides between reconnecting and giving up:
 * - the first connection failing before `welcome` ends the client (`connect()` rejects with
 *   `connect_failed`): a wrong URL or a refused token should not spin;
 * - 1003, 1007, 1008, 4401, 4403 and 4404 end it with `rejected`: reconnecting would repeat
 *   the client's fault, or the server took its access away;
 * - with reconnection off, any close ends it with `connection_lost`;
 * - otherwise it reconnects at step `attempts`, or at step 0 after 1012.
 *
 * @example
 * decideAfterClose({ code: 1012, reason: 'server_shutdown', serverError: undefined, socketError: undefined },
 *   { firstConnection: false, reconnect: true, attempts: 3 }); // { reconnect: true, step: 0 }
 */
export function decideAfterClose(
  close: UnexpectedClose,
  state: { firstConnection: boolean; reconnect: boolean; attempts: number },
): CloseDecision {
  const { code, reason, serverError, socketError } = close;
  const because = [reason, serverError?.message, socketError].filter(Boolean).join('; ');
  const description = `closed with ${code}${because === '' ? '' : ` (${because})`}`;
  const options = {
    closeCode: code,
    ...(serverError === undefined ? {} : { details: { ...serverError } }),
  };
  if (state.firstConnection) {
    const message = `The connection ${description} before welcome.`;
    return { reconnect: false, error: new ParleyClientError('connect_failed', message, options) };
  }
  if (REJECTING_CLOSE_CODES.has(code)) {
    const message = `The server ${description}; not reconnecting.`;
    return { reconnect: false, error: new ParleyClientError('rejected', message, options) };
  }
  if (!state.reconnect) {
    const message = `The connection ${description}.`;
    return { reconnect: false, error: new ParleyClientError('connection_lost', message, options) };
  }
  return { reconnect: true, step: code === SERVICE_RESTART ? 0 : state.attempts };
}
