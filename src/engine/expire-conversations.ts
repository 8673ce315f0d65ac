/**
 * `PARLEY_LOG_MAX_AGE`: whole conversations leave the log once idle long enough, unless running.
 */
import type { EventLog } from '../event-log/event-log.js';

/** What {@link expireIdleConversations} needs from the engine. */
export interface ExpiryOptions {
  log: EventLog;
  now: () => number;
  /** Whether the conversation runs or is being loaded: such a conversation is kept. */
  isBusy: (conversationId: string) => boolean;
}

/**
 * Removes from the log every conversation whose newest entry is older than `maxAgeMs` and that is
 * not busy; resolves with their ids. Nothing on a store without `idleConversations` and
 * `deleteConversation`.
 *
 * @example
 * const removed = await expireIdleConversations({ log, now, isBusy }, 30 * 86_400_000);
 */
export async function expireIdleConversations(
  { log, now, isBusy }: ExpiryOptions,
  maxAgeMs: number,
): Promise<string[]> {
  const { store } = log;
  if (store.idleConversations === undefined || store.deleteConversation === undefined) return [];
  // Entries still on their way would otherwise land after the removal.
  await log.flush();
  const removed: string[] = [];
  for (const conversationId of await store.idleConversations(now() - maxAgeMs)) {
    // Checked right before each removal: a conversation joined meanwhile is kept.
    if (isBusy(conversationId)) continue;
    log.forget(conversationId);
    await store.deleteConversation(conversationId);
    removed.push(conversationId);
  }
  return removed;
}
