/**
 * The Parley client, importable as `parley-engine/client`: a typed WebSocket client that resumes from the
 * last seq it saw after a drop, so every conversation event reaches it exactly once, in order.
 *
 * @example
 * import { connect } from 'parley-engine/client';
 * const client = await connect({ url: 'http://127.0.0.1:8080', conversationId: 'demo', userId: 'alice' });
 * client.sendMessage('What is 5 + 3?');
 * const done = await client.waitFor((frame) => frame.type === 'agent_response_complete');
 */
export { connect } from './parley-client.js';
export type {
  ApprovalAnswerOptions,
  ClientFrameInput,
  HistoryQuery,
  ParleyClient,
  ParleyClientOptions,
  ParleyClientStatus,
  ReconnectOptions,
  StatusListener,
  WaitForOptions,
} from './client-types.js';
export {
  CLIENT_ERROR_CODES,
  ParleyClientError,
  type ClientErrorCode,
  type ParleyClientErrorOptions,
} from './client-error.js';
export { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
export { DEFAULT_MAX_BUFFERED_FRAMES } from './frame-queue.js';
export { SUBPROTOCOL, type WebSocketConstructor, type WebSocketLike } from './web-socket-like.js';
export type {
  ClientFrame,
  HistoryFrame,
  ServerFrame,
  WelcomeFrame,
  ErrorFrame,
  ConversationEventFrame,
  ToolApprovalRequestFrame,
  ToolApprovalDecisionFrame,
} from '../protocol/frames.js';
