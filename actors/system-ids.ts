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
