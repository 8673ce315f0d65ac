import type { EventLog } from '../event-log/event-log.js';
import type { EventStore } from '../event-log/event-store.js';
import { restoreConversation, type RestoredConversation } from './restore-conversation.js';

/** What {@link createConversationLoader} needs. */
export interface ConversationLoaderOptions {
  log: EventLog;
  store: EventStore;
  historyMessages: number;
  /** The wall clock a restored approval's deadline is read against. @default Date.now */
  now?: () => number;
  /** Whether the conversation's actor is running (then there is nothing to load). */
  isAlive: (conversationId: string) => boolean;
}

/**
 * Loads conversations from the log before their actor is spawned: waits for pending appends,
 * opens the log for the conversation (so positions continue) and reads back its state. Calls for
 * the same conversation share one load; the spawned actor takes the result once.
 *
 * @example
 * await loader.load('demo');
 * const restored = loader.take('demo'); // undefined for a conversation the log never saw
 */
export function createConversationLoader({
  log,
  store,
  historyMessages,
  now,
  isAlive,
}: ConversationLoaderOptions) {
  const restored = new Map<string, RestoredConversation | undefined>();
  const loading = new Map<string, Promise<void>>();
  return {
    async load(conversationId: string): Promise<void> {
      if (isAlive(conversationId)) return;
      let load = loading.get(conversationId);
      if (load === undefined) {
        load = (async () => {
          await log.flush();
          await log.open(conversationId);
          restored.set(
            conversationId,
            await restoreConversation(store, conversationId, {
              historyMessages,
              ...(now === undefined ? {} : { now }),
            }),
          );
        })().finally(() => loading.delete(conversationId));
        loading.set(conversationId, load);
      }
      await load;
    },
    /** Whether a load of the conversation is under way or waits for its actor to take it. */
    isLoading(conversationId: string): boolean {
      return loading.has(conversationId) || restored.has(conversationId);
    },
    take(conversationId: string): RestoredConversation | undefined {
      const result = restored.get(conversationId);
      restored.delete(conversationId);
      return result;
    },
  };
}
