import type { IncomingMessage } from 'node:http';
import { ParleyError } from '../errors.js';
import { conversationIdSchema } from '../protocol/frames.js';
import type { Role } from '../../actors/membership.js';
import type { Access } from './access.js';
import type { AuthenticatedUser, Authenticator } from './authenticate.js';

/** The chat endpoint; the rest of the path is the conversation id. */
export const CHAT_PATH_PREFIX = '/ws/chat/';

/** What an admitted upgrade carries on. */
export interface Admission {
  userId: string;
  user: AuthenticatedUser;
  conversationId: string;
  /** `?since=`: resume after this seq. */
  since?: number;
  /** The member role the user reads (and maybe posts) with; absent when access is not a role's. */
  role?: Role;
  /**
   * The user may read but not post here: the `authorize` hook refused `post` (or, for an access
   * that is not a role's, the rules did). Holds for the connection's life.
   */
  readOnly?: true;
  /**
   * Gives back the connection slot this upgrade holds (idempotent): call it once the socket is
   * counted among the open ones, or when the upgrade fails.
   */
  releaseSlot: () => void;
  /** `?agent=`: the agent of a conversation this join creates. */
  agent?: string;
}

/** Options for {@link admitUpgrade}. */
export interface UpgradeGateOptions {
  authenticator: Authenticator;
  allowedOrigins: readonly string[] | undefined;
  maxConnections: number;
  /**
   * Takes one connection slot for this upgrade, counted with the open sockets, or undefined when
   * the cap is reached; the function it returns gives the slot back.
   */
  reserveSlot: () => (() => void) | undefined;
  access: Access;
  /** Counts a conversation a join starts against the user's limits (throws `user_limit`). */
  admitCreation?: (userId: string, conversationId: string) => void;
  isShuttingDown: () => boolean;
}

/**
 * Decides, before any WebSocket exists, whether an upgrade request may become a connection:
 * path and conversation id (400/404), shutdown (503), origin allowlist (403), connection cap
 * (503, a slot taken before the credentials are checked, so concurrent upgrades cannot pass it
 * together), credentials (401) and access to the conversation (404, as for one that does not
 * exist; `read` is asked, then `post`, whose refusal admits the socket read-only). Throws a {@link ParleyError} whose `httpStatus` is the answer, with the slot given back.
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
  const releaseSlot = options.reserveSlot();
  if (releaseSlot === undefined) {
    throw new ParleyError(
      'too_many_connections',
      `The server holds its maximum of ${options.maxConnections} connections; try again later.`,
    );
  }
  try {
    const since = parseSince(url);
    const agent = url.searchParams.get('agent');
    if (agent !== null && !/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(agent)) {
      throw new ParleyError(
        'unknown_agent',
        `Invalid agent=${JSON.stringify(agent.slice(0, 80))}: expected an agent id (1-64 letters, digits, _ or -).`,
      );
    }
    const user = await options.authenticator.authenticate(request, url);
    const { grant, readOnly } = await options.access.requireConnection(user, conversationId);
    if (grant.creates === true) options.admitCreation?.(user.userId, conversationId);
    return {
      userId: user.userId,
      user,
      conversationId,
      releaseSlot,
      ...(since === undefined ? {} : { since }),
      ...(grant.role === undefined ? {} : { role: grant.role }),
      ...(readOnly ? { readOnly: true as const } : {}),
      ...(agent === null ? {} : { agent }),
    };
  } catch (error) {
    releaseSlot();
    throw error;
  }
}

function parseSince(url: URL): number | undefined {
  const sinceParameter = url.searchParams.get('since');
  if (sinceParameter === null) return undefined;
  const since = Number(sinceParameter);
  if (!/^\d{1,15}$/.test(sinceParameter) || !Number.isSafeInteger(since)) {
    throw new ParleyError(
      'invalid_frame',
      `Invalid since=${JSON.stringify(sinceParameter)}: expected the last seq you saw, a whole number >= 0.`,
    );
  }
  return since;
}
