import type { IncomingMessage } from 'node:http';
import { ParleyError } from '../errors.js';
import { conversationIdSchema } from '../protocol/frames.js';
import type { Authenticator } from './authenticate.js';

/** The chat endpoint; the rest of the path is the conversation id. */
export const CHAT_PATH_PREFIX = '/ws/chat/';

/** What an admitted upgrade carries on. */
export interface Admission {
  userId: string;
  conversationId: string;
  /** `?since=`: resume after this seq. */
  since?: number;
  /** `?agent=`: the agent of a conversation this join creates. */
  agent?: string;
}

/** Options for {@link admitUpgrade}. */
export interface UpgradeGateOptions {
  authenticator: Authenticator;
  allowedOrigins: readonly string[] | undefined;
  maxConnections: number;
  openConnections: () => number;
  isShuttingDown: () => boolean;
}

/**
 * Decides, before any WebSocket exists, whether an upgrade request may become a connection:
 * path and conversation id (400/404), shutdown (503), origin allowlist (403), connection cap
 * (503) and credentials (401). Throws a {@link ParleyError} whose `httpStatus` is the answer.
 *
 * @example
 * const { userId, conversationId } = await admitUpgrade(request, options);
 */
export async function admitUpgrade(
  request: IncomingMessage,
  options: UpgradeGateOptions,
): Promise<Admission> {
  const url = new URL(request.url ?? '/', 'http://localhost');
  if (options.isShuttingDown()) {
    throw new ParleyError('server_shutdown', 'The server is shutting down; reconnect shortly.');
  }
  if (!url.pathname.startsWith(CHAT_PATH_PREFIX)) {
    throw new ParleyError(
      'not_found',
      `No WebSocket endpoint at ${url.pathname}; use ${CHAT_PATH_PREFIX}{conversation_id}.`,
    );
  }
  let conversationId: string;
  try {
    conversationId = decodeURIComponent(url.pathname.slice(CHAT_PATH_PREFIX.length));
  } catch {
    throw new ParleyError(
      'invalid_conversation_id',
      'The conversation id is not valid URL encoding.',
    );
  }
  const parsed = conversationIdSchema.safeParse(conversationId);
  if (!parsed.success) {
    throw new ParleyError(
      'invalid_conversation_id',
      `Invalid conversation id ${JSON.stringify(conversationId)}: expected 1-128 characters of A-Z a-z 0-9 _ - . :`,
    );
  }
  const origin = request.headers.origin;
  if (
    options.allowedOrigins !== undefined &&
    origin !== undefined &&
    !options.allowedOrigins.includes(origin)
  ) {
    throw new ParleyError('origin_not_allowed', `Origin ${origin} is not allowed.`);
  }
  if (options.openConnections() >= options.maxConnections) {
    throw new ParleyError(
      'too_many_connections',
      `The server holds its maximum of ${options.maxConnections} connections; try again later.`,
    );
  }
  const sinceParameter = url.searchParams.get('since');
  let since: number | undefined;
  if (sinceParameter !== null) {
    since = Number(sinceParameter);
    if (!/^\d{1,15}$/.test(sinceParameter) || !Number.isSafeInteger(since)) {
      throw new ParleyError(
        'invalid_frame',
        `Invalid since=${JSON.stringify(sinceParameter)}: expected the last seq you saw, a whole number >= 0.`,
      );
    }
  }
  const agent = url.searchParams.get('agent');
  if (agent !== null && !/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(agent)) {
    throw new ParleyError(
      'unknown_agent',
      `Invalid agent=${JSON.stringify(agent.slice(0, 80))}: expected an agent id (1-64 letters, digits, _ or -).`,
    );
  }
  const user = await options.authenticator.authenticate(request, url);
  return {
    userId: user.userId,
    conversationId,
    ...(since === undefined ? {} : { since }),
    ...(agent === null ? {} : { agent }),
  };
}
