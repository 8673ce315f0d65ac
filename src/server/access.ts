/**
 * Who may do what with a conversation (docs/SECURITY.md): the application's `authorize` hook
 * first, then the built-in rules: an admin (JWT `parley_role: "admin"`) may do anything; in `open`
 * mode anyone may read and post; a JWT `parley_conversations` claim grants reading and posting in
 * the conversations it names; otherwise the user's member role decides. A user who may not read
 * a conversation is told it does not exist (`not_found`), so ids cannot be probed.
 */
import { mayManage, mayWrite, roleOf, type Role } from '../../actors/membership.js';
import type { ConversationInfo } from '../engine/engine-types.js';
import { ParleyError } from '../errors.js';
import type { AuthenticatedUser } from './authenticate.js';

/** `open`: anyone who knows a conversation's id may use it; `members`: members and grants only. */
export type AccessMode = 'open' | 'members';

/**
 * What is being done: `read` (join, resume, history, `GET …/events`, `…/export`, `GET …/{id}`),
 * `post` (`user_message`, `cancel`, `tool_approval`, typing), `create`, `manage` (members), `delete`.
 */
export type AccessAction = 'read' | 'post' | 'create' | 'manage' | 'delete';

/** What the `authorize` hook is asked. */
export interface AuthorizeRequest {
  /** The authenticated user (`userId`, and how they proved it). */
  user: AuthenticatedUser;
  /** The JWT's claims (`{}` for a development `?user_id=`). */
  claims: Readonly<Record<string, unknown>>;
  conversationId: string;
  action: AccessAction;
}

/**
 * An application's own access rule, asked before the built-in ones: `true` allows (the built-in
 * rules are skipped), `false` denies (the caller is told the conversation does not exist),
 * `undefined` leaves the decision to the built-in rules. Over a WebSocket it is asked at the
 * upgrade (`read`, then `post`) and the answers hold for the connection's life.
 *
 * @example
 * startServer({ authorize: ({ user, conversationId }) => conversationId.startsWith(`${user.userId}-`) || undefined });
 */
export type AuthorizeHook = (
  request: AuthorizeRequest,
) => boolean | undefined | Promise<boolean | undefined>;

/**
 * Why an action is allowed: `role` when it is the user's member role (a participant admitted so
 * follows later membership changes), otherwise no role (`open` mode, claim, admin or hook).
 */
export interface Grant {
  via: 'hook' | 'admin' | 'open' | 'claim' | 'member';
  role?: Role;
  /** The conversation does not exist yet: this join starts it (`open` mode only). */
  creates?: true;
}

/** Options of {@link createAccess}. */
export interface AccessOptions {
  mode: AccessMode;
  authorize?: AuthorizeHook | undefined;
  /** What the log knows of a conversation (undefined: it does not exist). */
  conversationInfo: (conversationId: string) => Promise<ConversationInfo | undefined>;
}

/** Whether the user's JWT says `parley_role: "admin"`. */
export function isAdmin(user: AuthenticatedUser): boolean {
  return user.claims.parley_role === 'admin';
}

/**
 * Whether a `parley_conversations` claim names the conversation: an exact id, or a pattern
 * ending in `*` that matches by prefix (`team-a-*`).
 *
 * @example
 * claimGrants({ parley_conversations: ['team-a-*'] }, 'team-a-7') // true
 */
export function claimGrants(
  claims: Readonly<Record<string, unknown>>,
  conversationId: string,
): boolean {
  const listed = claims.parley_conversations;
  if (!Array.isArray(listed)) return false;
  return listed.some(
    (pattern) =>
      typeof pattern === 'string' &&
      (pattern.endsWith('*')
        ? conversationId.startsWith(pattern.slice(0, -1))
        : pattern === conversationId),
  );
}

/**
 * Builds the access checks a server uses for every conversation read and write.
 *
 * @example
 * const access = createAccess({ mode: 'members', conversationInfo: engine.conversationInfo });
 * const grant = await access.require(user, 'demo', 'read'); // throws not_found when not allowed
 */
export function createAccess({ mode, authorize, conversationInfo }: AccessOptions) {
  const notFound = (conversationId: string) =>
    new ParleyError('not_found', `No conversation ${conversationId}.`);

  /** The application's verdict on an action (undefined: no hook, or it leaves it to the rules). */
  async function askHook(
    user: AuthenticatedUser,
    conversationId: string,
    action: AccessAction,
  ): Promise<boolean | undefined> {
    if (authorize === undefined) return undefined;
    return authorize({ user, claims: user.claims, conversationId, action });
  }

  /** The built-in rules' grant for an action, once the hook has left it to them. */
  function ruleGrant(
    user: AuthenticatedUser,
    conversationId: string,
    action: AccessAction,
    info: ConversationInfo | undefined,
  ): Grant | undefined {
    if (isAdmin(user)) return { via: 'admin' };
    if (action === 'create') return { via: mode === 'open' ? 'open' : 'member' };
    const role = info?.members === undefined ? undefined : roleOf(info.members, user.userId);
    if (action === 'manage' || action === 'delete') {
      return mayManage(role)
        ? { via: 'member', ...(role === undefined ? {} : { role }) }
        : undefined;
    }
    if (mode === 'open') return { via: 'open' };
    if (claimGrants(user.claims, conversationId)) return { via: 'claim' };
    if (role === undefined) return undefined;
    if (action === 'post' && !mayWrite(role)) return undefined;
    return { via: 'member', role };
  }

  /** The grant for an action on an existing (or, for `create`, a new) conversation, or undefined. */
  async function grantOf(
    user: AuthenticatedUser,
    conversationId: string,
    action: AccessAction,
    info: ConversationInfo | undefined,
  ): Promise<Grant | undefined> {
    const verdict = await askHook(user, conversationId, action);
    if (verdict === true) return { via: 'hook' };
    if (verdict === false) return undefined;
    return ruleGrant(user, conversationId, action, info);
  }

  /** Throws `not_found` or `forbidden` for an action `grantOf` refused. */
  async function refusal(
    user: AuthenticatedUser,
    conversationId: string,
    action: AccessAction,
    info: ConversationInfo | undefined,
  ): Promise<never> {
    if (action === 'read') throw notFound(conversationId);
    const readable = await grantOf(user, conversationId, 'read', info);
    if (readable === undefined) throw notFound(conversationId);
    throw new ParleyError(
      'forbidden',
      action === 'post'
        ? `Your role in conversation ${conversationId} may read it but not post.`
        : `Only an owner (or an admin) may ${action === 'delete' ? 'delete' : 'change the members of'} conversation ${conversationId}.`,
    );
  }

  /** The conversation's record, or `not_found` when the action needs it to exist. */
  async function infoFor(
    conversationId: string,
    action: AccessAction,
  ): Promise<ConversationInfo | undefined> {
    const info = await conversationInfo(conversationId);
    if (info === undefined && !(mode === 'open' && (action === 'read' || action === 'post'))) {
      throw notFound(conversationId);
    }
    return info;
  }

  return {
    mode,
    /**
     * The grant for `action`, or a {@link ParleyError}: `not_found` when the user may not read
     * the conversation (or it does not exist; in `open` mode a join may start one), `forbidden`
     * when they may read it but not do this.
     */
    async require(
      user: AuthenticatedUser,
      conversationId: string,
      action: AccessAction,
    ): Promise<Grant> {
      const info = await infoFor(conversationId, action);
      const grant = await grantOf(user, conversationId, action, info);
      if (grant !== undefined) return info === undefined ? { ...grant, creates: true } : grant;
      return refusal(user, conversationId, action, info);
    },
    /**
     * What a WebSocket connection may do for its whole life, decided once at the upgrade: the
     * `read` grant (or `not_found`), then `post`. `readOnly` is set when posting is refused by
     * the hook, or by the rules for an access that is not a member role's; a role's own limit (a
     * viewer) is left to the role, which follows later membership changes.
     *
     * @example
     * const { grant, readOnly } = await access.requireConnection(user, 'demo');
     */
    async requireConnection(
      user: AuthenticatedUser,
      conversationId: string,
    ): Promise<{ grant: Grant; readOnly: boolean }> {
      const info = await infoFor(conversationId, 'read');
      const read = await grantOf(user, conversationId, 'read', info);
      if (read === undefined) return refusal(user, conversationId, 'read', info);
      const grant = info === undefined ? { ...read, creates: true as const } : read;
      const verdict = await askHook(user, conversationId, 'post');
      if (verdict !== undefined) return { grant, readOnly: !verdict };
      return {
        grant,
        readOnly:
          grant.role === undefined && ruleGrant(user, conversationId, 'post', info) === undefined,
      };
    },
    /** Whether `user` may read a conversation, for filtering lists (never throws `not_found`). */
    async mayRead(user: AuthenticatedUser, info: ConversationInfo): Promise<boolean> {
      return (await grantOf(user, info.conversationId, 'read', info)) !== undefined;
    },
    /** Whether the user may create a conversation (the hook may refuse). */
    async mayCreate(user: AuthenticatedUser, conversationId: string): Promise<boolean> {
      return (await grantOf(user, conversationId, 'create', undefined)) !== undefined;
    },
  };
}

/** The access checks of a server. */
export type Access = ReturnType<typeof createAccess>;
