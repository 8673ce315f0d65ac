import type { EventStore } from '../event-log/event-store.js';
import { formatRecording } from './read-recording.js';

/**
 * A conversation's whole log as a JSONL recording (what `parley export` prints).
 *
 * @example
 * await writeFile('session.jsonl', await exportConversation(store, 'demo'));
 */
export async function exportConversation(
  store: EventStore,
  conversationId: string,
): Promise<string> {
  const entries = await store.readEntries(conversationId);
  return entries.length === 0 ? '' : formatRecording(entries);
}
