/**
 * Which conversation the page opens and as whom: the conversation and the user come from the
 * URL (`/?conversation=demo&user=alice`), so a link opens a conversation; the JWT, when the
 * server wants one, is kept in this tab's session storage and never put in the URL.
 */
import { conversationIdSchema } from 'parley-engine/protocol';

const TOKEN_KEY = 'parley.chat.token';
const DEFAULT_CONVERSATION = 'demo';

/** What the page connects with. */
export interface ChatSettings {
  conversationId: string;
  /** The user id sent in development mode; a server with JWT auth takes the token's `sub`. */
  userId: string;
  /** The JWT, '' for none. */
  token: string;
  /** `?agent=`: the agent of a conversation this page creates. */
  agent?: string;
}

/** The settings and what was wrong with the URL, if anything. */
export interface ReadSettings {
  settings: ChatSettings;
  /** Why a URL value was replaced by a default. */
  problem?: string;
}

function guestName(): string {
  const letters = Array.from(crypto.getRandomValues(new Uint8Array(4)), (byte) =>
    (byte % 36).toString(36),
  );
  return `guest-${letters.join('')}`;
}

/**
 * Reads the settings from the URL and the session storage. A missing user gets a guest name, and
 * the URL is rewritten (without a reload) to hold it, so reloading keeps the same identity.
 *
 * @example
 * const { settings } = readSettings(); // { conversationId: 'demo', userId: 'guest-4f2a', token: '' }
 */
export function readSettings(): ReadSettings {
  const url = new URL(location.href);
  const asked = url.searchParams.get('conversation') ?? DEFAULT_CONVERSATION;
  const valid = conversationIdSchema.safeParse(asked).success;
  const conversationId = valid ? asked : DEFAULT_CONVERSATION;
  const userId = url.searchParams.get('user')?.trim() || guestName();
  // `?agent=` picks the agent of a conversation this page creates; it stays in the URL.
  const agent = url.searchParams.get('agent')?.trim() || undefined;
  const settings = {
    conversationId,
    userId,
    token: sessionStorage.getItem(TOKEN_KEY) ?? '',
    ...(agent === undefined ? {} : { agent }),
  };
  history.replaceState(null, '', settingsUrl(settings));
  return valid
    ? { settings }
    : {
        settings,
        problem: `"${asked}" is not a conversation id (1-128 characters of A-Z a-z 0-9 _ - . :); opened ${conversationId} instead.`,
      };
}

/** The page's URL for these settings (never with the token). */
export function settingsUrl(
  settings: Pick<ChatSettings, 'conversationId' | 'userId' | 'agent'>,
): string {
  const query = new URLSearchParams({
    conversation: settings.conversationId,
    user: settings.userId,
    ...(settings.agent === undefined ? {} : { agent: settings.agent }),
  });
  return `${location.pathname}?${query.toString()}`;
}

/** Keeps the token for this tab (or forgets it, for ''). */
export function storeToken(token: string): void {
  if (token === '') sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

/** The token kept for this tab, read when (re)connecting so a new one is used at once. */
export function storedToken(): string {
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}
