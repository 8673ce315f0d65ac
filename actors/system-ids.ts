/**
 * The stable system ids of Parley's actors, which the actors use to address each other and the
 * inspector uses to name them (instead of XState's per-process `x:N` ids).
 */

/** The system id of a conversation actor. */
export const conversationKey = (conversationId: string) => `conversation:${conversationId}`;

/** The system id of a connection actor. */
export const connectionKey = (connectionId: string) => `connection:${connectionId}`;

/** The system id of the root actor (parley.machine.ts), which wakes hibernated conversations. */
export const ROOT_SYSTEM_ID = 'parley';

/**
 * A stable hash of an id (FNV-1a, then murmur3's finalizer so the low bits mix well): same id,
 * same number, in every process. Shards are chosen by it.
 *
 * @example
 * stableHash('conn_9b2f0c7d1a6e4b35') % 64 // always the same shard
 */
export function stableHash(id: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < id.length; index += 1) {
    hash = Math.imul(hash ^ id.charCodeAt(index), 0x01000193);
  }
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
  return (hash ^ (hash >>> 16)) >>> 0;
}

/** How many conversation shards the root spawns (conversation-shard.machine.ts). */
export const CONVERSATION_SHARDS = 64;

/** The id (and system id) of conversation shard `index`: `conversations:0` … (not `conversation:`). */
export const conversationShardKeyAt = (index: number) => `conversations:${String(index)}`;

/**
 * The id (and system id) of the shard that holds a conversation.
 *
 * @example
 * conversationShardKey('demo') // 'conversations:17', always the same one
 */
export const conversationShardKey = (conversationId: string) =>
  conversationShardKeyAt(stableHash(conversationId) % CONVERSATION_SHARDS);
