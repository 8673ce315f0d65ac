/** Messages between {@link WorkerSqliteEventStore} and its worker thread (sqlite-worker.ts). */
import type { ErrorCode } from '../errors.js';
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
  | { op: 'close' }
);

/** A reply: the request's result, or the error it failed with. */
export type WorkerReply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: { code: ErrorCode; message: string } };
