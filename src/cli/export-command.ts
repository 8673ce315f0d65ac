import { existsSync } from 'node:fs';
import { SqliteEventStore } from '../event-log/sqlite-store.js';
import { exportConversation } from '../replay/export-conversation.js';

/**
 * `parley export <conversation_id> [--db path]`: prints the conversation's log as JSONL, ready
 * for `parley replay`. Without an id, lists the conversations in the database.
 */
export async function exportCommand(
  conversationId: string | undefined,
  values: { db?: string },
): Promise<number> {
  const path = values.db ?? process.env.PARLEY_DB ?? './data/parley.db';
  if (!existsSync(path)) {
    process.stderr.write(`parley export: no database at ${path} (set --db or PARLEY_DB)\n`);
    return 1;
  }
  // A reader beside a running server: it takes no lock.
  const store = SqliteEventStore.open(path, { lock: false });
  try {
    if (conversationId === undefined) {
      const conversations = await store.listConversations({ limit: 1000 });
      for (const summary of conversations) {
        process.stdout.write(
          `${summary.conversation_id}\t${summary.last_seq} events\t${summary.entries} entries\t${new Date(summary.last_at).toISOString()}\n`,
        );
      }
      return 0;
    }
    const text = await exportConversation(store, conversationId);
    if (text === '') {
      process.stderr.write(`parley export: no conversation "${conversationId}" in ${path}\n`);
      return 1;
    }
    process.stdout.write(text);
    return 0;
  } finally {
    await store.close();
  }
}
