/**
 * Per-user limits on conversations (issue 14: "one user opened 10,000 conversations in 34 s, RSS
 * 80 → 592 MiB"): how many a user may create per hour, and how many of those may be live (their
 * actor running) at once. A conversation is created by `POST /api/conversations`, or in `open`
 * mode by the first join to an id the log does not know.
 */
import { ParleyError } from '../errors.js';

/** The window of {@link UserLimitsOptions.createdPerHour}. */
const HOUR_MS = 3_600_000;

/** Options for {@link createUserLimits}. */
export interface UserLimitsOptions {
  /** Conversations one user may create per sliding hour; 0: no limit. */
  createdPerHour: number;
  /** Conversations created by one user that may be live at once; 0: no limit. */
  live: number;
  /** Whether a conversation's actor is running. */
  isLive: (conversationId: string) => boolean;
  /** @default Date.now */
  now?: () => number;
}

/**
 * Counts what each user created and refuses past the limits with `user_limit` (HTTP 429).
 *
 * @example
 * const limits = createUserLimits({ createdPerHour: 100, live: 50, isLive });
 * limits.admitCreation('alice', 'conv_1'); // throws ParleyError('user_limit') past a limit
 */
export function createUserLimits({
  createdPerHour,
  live,
  isLive,
  now = Date.now,
}: UserLimitsOptions) {
  // Kept for every user who ever created a conversation: arrays of the exact length (`concat`),
  // not a `Set` per user or a `push`ed array that reserves 16 more slots (≈ 0.27 KiB per user
  // less, heap snapshots of bench/conversation-memory.ts, where every user creates one).
  const created = new Map<string, readonly number[]>();
  const started = new Map<string, readonly string[]>();
  return {
    /** Counts a creation by `userId`, or throws `user_limit` when a limit is reached. */
    admitCreation(userId: string, conversationId: string): void {
      const at = now();
      const recent = (created.get(userId) ?? []).filter((time) => time > at - HOUR_MS);
      if (createdPerHour > 0 && recent.length >= createdPerHour) {
        const retryAfterMs = (recent[0] ?? at) + HOUR_MS - at;
        throw new ParleyError(
          'user_limit',
          `You created ${createdPerHour} conversations in the last hour (PARLEY_USER_CONVERSATIONS_PER_HOUR); try again in ${Math.ceil(retryAfterMs / 1000)} s.`,
          { details: { limit: 'conversations_per_hour', retry_after_ms: retryAfterMs } },
        );
      }
      const mine = (started.get(userId) ?? []).filter(isLive);
      if (live > 0 && mine.length >= live) {
        throw new ParleyError(
          'user_limit',
          `You have ${live} live conversations (PARLEY_USER_LIVE_CONVERSATIONS); leave some (they stop when idle) before starting another.`,
          { details: { limit: 'live_conversations' } },
        );
      }
      created.set(userId, recent.concat([at]));
      started.set(
        userId,
        mine.includes(conversationId) ? mine.slice() : mine.concat([conversationId]),
      );
    },
  };
}

/** A server's per-user conversation limits. */
export type UserLimits = ReturnType<typeof createUserLimits>;
