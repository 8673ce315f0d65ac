/**
 * The one place a frame gets its envelope: every frame the server sends, a conversation event or a
 * reply to one connection, is stamped here with `conversation_id`, `seq` and `timestamp`.
 */

/** A frame body before its envelope. */
export type FrameBody = Record<string, unknown> & { type: string };

/** A frame with its envelope. */
export type StampedFrame = FrameBody & { conversation_id: string; seq: number; timestamp: number };

/**
 * Adds the envelope to a frame body, in place: the body is a fresh literal built for this frame,
 * and stamping it keeps the field order (body, then envelope) while saving a copy per token (a
 * spread costs ~1.3 µs on Node 20).
 *
 * @example
 * stampFrame({ type: 'pong', id: '1' }, 'demo', 12, Date.now())
 * // { type: 'pong', id: '1', conversation_id: 'demo', seq: 12, timestamp: … }
 */
export function stampFrame(
  body: FrameBody,
  conversationId: string,
  seq: number,
  timestamp: number,
): StampedFrame {
  return Object.assign(body, { conversation_id: conversationId, seq, timestamp });
}
