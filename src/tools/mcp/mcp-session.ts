/**
 * One attempt at a server: an official MCP `Client` over a fresh transport, wired to report what
 * happens to it, and what it learned that explains a failure (the transport's last error, the
 * server's last stderr line).
 */
import {
  Client,
  SdkError,
  SdkErrorCode,
  type Tool as McpToolDefinition,
} from '@modelcontextprotocol/client';
import type { McpServerSettings } from './mcp-config.js';
import { createMcpTransport, type McpTransport } from './mcp-transport.js';
import type { Redact } from './redact-secrets.js';

/** A client, its transport, and the clues to why it may fail. */
export interface McpSession {
  client: Client;
  transport: McpTransport;
  /** The last line the server wrote to stderr (redacted): the best clue when it dies. */
  lastStderr?: string;
  /**
   * The last failure the transport reported (redacted). The client often closes, rejecting what
   * is pending with a bare "Connection closed", before the request that failed learns why.
   */
  lastTransportError?: string;
}

/** What a session needs to be opened. */
export interface McpSessionOptions {
  settings: McpServerSettings;
  clientInfo: { name: string; version: string };
  redact: Redact;
  /** Gets each stderr line of a stdio server, redacted. */
  onStderr: (line: string) => void;
}

/** What a session reports. */
export interface McpSessionEvents {
  /** The server's tool list changed and was listed again. */
  toolsChanged: (tools: McpToolDefinition[]) => void;
  /** The connection closed, for whatever reason. */
  closed: () => void;
  /** The transport or the list refresh failed out of band (an SSE stream, a POST, a list). */
  failed: (error: Error) => void;
}

/** The reason given when a connection closes without saying why. */
export const CONNECTION_CLOSED = 'the connection closed';

/**
 * Creates the client and transport of one attempt; `client.connect` starts them.
 *
 * @example
 * const session = openMcpSession(options, { toolsChanged, closed, failed });
 * await session.client.connect(session.transport.transport, { timeout });
 */
export function openMcpSession(options: McpSessionOptions, events: McpSessionEvents): McpSession {
  const { settings, clientInfo, redact, onStderr } = options;
  const transport = createMcpTransport(settings, (line) => {
    const redacted = redact(line);
    session.lastStderr = redacted;
    onStderr(redacted);
  });
  const client = new Client(clientInfo, {
    listChanged: {
      tools: {
        onChanged: (error, tools) => {
          if (error !== null) events.failed(error);
          else if (tools !== null) events.toolsChanged(tools);
        },
      },
    },
  });
  client.onclose = events.closed;
  client.onerror = (error) => {
    session.lastTransportError = redact(error.message);
    events.failed(error);
  };
  const session: McpSession = { client, transport };
  return session;
}

/**
 * Why a session failed, for the status and for `tool_unavailable` messages: the error's own
 * message, or the transport's last error when the error only says the connection closed, then
 * the server's last stderr line. Secrets redacted.
 *
 * @example
 * describeSessionFailure(error, session, redact); // 'the connection closed; last stderr line: …'
 */
export function describeSessionFailure(
  error: unknown,
  session: McpSession | undefined,
  redact: Redact,
): string {
  let message = redact(error instanceof Error ? error.message : String(error));
  const closedOnly =
    message === CONNECTION_CLOSED ||
    (error instanceof SdkError && error.code === SdkErrorCode.ConnectionClosed);
  if (closedOnly && session?.lastTransportError !== undefined) message = session.lastTransportError;
  const stderr = session?.lastStderr;
  return stderr === undefined ? message : `${message}; last stderr line: ${stderr}`;
}
