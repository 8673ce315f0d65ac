/** Messages between {@link WorkerSqliteEventStore} and its worker thread (sqlite-worker.ts). */
import { ParleyError, type ErrorCode } from '../errors.js';
import type { FrameRange } from './event-store.js';

/** A request; `id` pairs it with its reply (0 is the worker's "opened" reply). */
export type WorkerRequest = { id: number } & (
  | { op: 'append'; batch: string }
  | {
      op: 'readEntries';
      conversationId: string;
      options?: { afterPosition?: number; limit?: number };
    }
  | { op: 'readFrames'; conversationId: string; range?: FrameRange }
  | { op: 'lastPosition'; conversationId: string }
  | { op: 'firstRetainedSeq'; conversationId: string }
  | { op: 'listConversations'; options?: { limit?: number } }
  | { op: 'idleConversations'; before: number; limit?: number }
  | { op: 'deleteConversation'; conversationId: string }
  | { op: 'sizeBytes' }
  | { op: 'close' }
);

/** A reply: the request's result, or the error it failed with. */
export type WorkerReply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: { code: ErrorCode; message: string } };

/** An error as a reply carries it: a {@link ParleyError}'s code and message, else `log_unavailable`. */
export function toWorkerFailure(error: unknown): { code: ErrorCode; message: string } {
  return error instanceof ParleyError
    ? { code: error.code, message: error.message }
    : { code: 'log_unavailable', message: String(error) };
}
