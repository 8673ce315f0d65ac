/**
 * What the connection actor says to its conversation: client frames translated into
 * conversation requests.
 */
import { ERROR_CODES, type CloseCode, type ErrorCode } from '../src/errors.js';
import type { ClientFrame } from '../src/protocol/frames.js';
import type { ConversationInput } from './conversation-state.js';
import type { ConnectionContext } from './connection-types.js';

/** The conversation request for a client frame (pings, resumes and history are answered here). */
export function toConversationRequest(
  context: ConnectionContext,
  frame: ClientFrame,
): ConversationInput {
  const who = { connectionId: context.connectionId, userId: context.userId };
  switch (frame.type) {
    case 'user_message':
      return {
        type: 'user.message',
        ...who,
        content: frame.content,
        ...(frame.client_message_id === undefined
          ? {}
          : { clientMessageId: frame.client_message_id }),
      };
    case 'typing_indicator':
      return { type: 'user.typing', ...who, isTyping: frame.is_typing };
    case 'cancel':
      return {
        type: 'user.cancel',
        ...who,
        ...(frame.turn_id === undefined ? {} : { turnId: frame.turn_id }),
      };
    case 'tool_approval':
      return {
        type: 'user.tool_approval',
        ...who,
        toolCallId: frame.tool_call_id,
        decision: frame.decision,
        ...(frame.reason === undefined ? {} : { reason: frame.reason }),
      };
    case 'ping':
    case 'resume':
    case 'history':
      throw new Error(`${frame.type} frames are answered by the connection actor`);
    case 'authenticate':
      throw new Error('authenticate frames are answered at the socket edge');
  }
}

/** The close code for an error code; 1000 for errors that do not close. */
export function closeCodeOf(code: ErrorCode): CloseCode {
  return ERROR_CODES[code].close ?? 1000;
}
