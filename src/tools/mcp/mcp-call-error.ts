/**
 * What a failed MCP request means: for the call (the `ParleyError` the model reads) and for the
 * connection (whether the server is gone and must be reconnected).
 */
import {
  ProtocolError,
  ProtocolErrorCode,
  SdkError,
  SdkErrorCode,
} from '@modelcontextprotocol/client';
import { ParleyError } from '../../errors.js';
import type { Redact } from './redact-secrets.js';

/**
 * How a failure bears on the connection:
 * - `lost`: the server is gone (its process exited, the connection closed, the HTTP endpoint
 *   refuses connections, or it answered 404 for the session): reconnect;
 * - `suspect`: the transport failed in a way that may pass (an HTTP 5xx): check with a ping;
 * - `call`: the server answered; only this call failed.
 */
export type FailureScope = 'lost' | 'suspect' | 'call';

/** Where a failure belongs (see {@link FailureScope}). */
export function failureScope(error: unknown): FailureScope {
  if (error instanceof SdkError) {
    const status = (error.data as { status?: unknown } | undefined)?.status;
    // The spec's 404 for a session the server no longer knows: only a new session helps.
    if (status === 404) return 'lost';
    if (typeof status === 'number') return 'suspect';
    if (error.code === SdkErrorCode.ConnectionClosed || error.code === SdkErrorCode.NotConnected) {
      return 'lost';
    }
    if (error.code === SdkErrorCode.SendFailed) return 'suspect';
    return 'call';
  }
  // Node's fetch rejects with a TypeError ("fetch failed") when it cannot reach the server.
  if (error instanceof TypeError) return 'lost';
  return 'call';
}

/** What {@link toCallError} needs to word its message. */
export interface CallErrorContext {
  /** The server's configured name. */
  server: string;
  /** The tool's Parley name (`<server>__<tool>`). */
  tool: string;
  /** The tool timeout the call ran with. */
  timeoutMs: number;
  redact: Redact;
}

/**
 * The `ParleyError` for a `tools/call` that did not produce a result: `tool_timeout` when the
 * SDK's request timeout fired, `tool_unavailable` when the server is gone or its transport
 * failed, `invalid_tool_arguments` when the server refused the parameters (JSON-RPC -32602),
 * `tool_failed` for anything else. The original error is kept as `cause`.
 */
export function toCallError(error: unknown, context: CallErrorContext): ParleyError {
  const message = context.redact(error instanceof Error ? error.message : String(error));
  if (error instanceof SdkError && error.code === SdkErrorCode.RequestTimeout) {
    return new ParleyError(
      'tool_timeout',
      `The tool did not finish within ${context.timeoutMs} ms.`,
      { cause: error },
    );
  }
  if (failureScope(error) !== 'call') return unavailable(context.server, message, error);
  if (
    error instanceof ProtocolError &&
    error.code === (ProtocolErrorCode.InvalidParams as number)
  ) {
    return new ParleyError(
      'invalid_tool_arguments',
      `Invalid arguments for tool "${context.tool}": ${message}`,
      { cause: error },
    );
  }
  return new ParleyError('tool_failed', message, { cause: error });
}

/**
 * The `tool_unavailable` error of a call to a server that is not connected.
 *
 * @example
 * throw unavailable('files', 'reconnecting after 3 failed attempts');
 */
export function unavailable(server: string, reason: string, cause?: unknown): ParleyError {
  return new ParleyError(
    'tool_unavailable',
    `MCP server "${server}" is unavailable (${reason}); try again later.`,
    cause === undefined ? {} : { cause },
  );
}
