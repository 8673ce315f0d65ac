/**
 * What the connection actor says: client frames translated into conversation events, and replies
 * to its own client (which repeat the conversation's current seq).
 */
import { ERROR_CODES, type ErrorCode } from '../src/errors.js';
import type { ClientFrame } from '../src/protocol/frames.js';
import type { ConnectionContext } from './connection-types.js';

/** The conversation event for a client frame (pings are answered by the connection). */
export function toConversationEvent(context: ConnectionContext, frame: ClientFrame) {
  const who = { connectionId: context.connectionId, userId: context.userId };
  switch (frame.type) {
    case 'user_message':
      return {
        type: 'user.message' as const,
        ...who,
        content: frame.content,
        ...(frame.client_message_id === undefined
          ? {}
          : { clientMessageId: frame.client_message_id }),
      };
    case 'typing_indicator':
      return { type: 'user.typing' as const, ...who, isTyping: frame.is_typing };
    case 'cancel':
      return {
        type: 'user.cancel' as const,
        ...who,
        ...(frame.turn_id === undefined ? {} : { turnId: frame.turn_id }),
      };
    case 'ping':
    case 'resume':
    case 'history':
      throw new Error(`${frame.type} frames are answered by the connection actor`);
  }
}

/** A reply to this connection only: it repeats the conversation's current seq. */
export function reply(context: ConnectionContext, body: Record<string, unknown>): void {
  const snapshot = context.conversation.getSnapshot() as { context?: { seq?: number } };
  context.socket.send(
    JSON.stringify({
      ...body,
      conversation_id: context.conversationId,
      seq: snapshot.context?.seq ?? 0,
      timestamp: context.effects.now(),
    }),
  );
}

/** The close code for an error code; 1000 for errors that do not close. */
export function closeCodeOf(code: ErrorCode): number {
  return ERROR_CODES[code].close ?? 1000;
}
