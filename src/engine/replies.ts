import type { ClientFrame } from '../protocol/frames.js';
import { ParleyError, toParleyError } from '../errors.js';
import type { EventLog } from '../event-log/event-log.js';
import type { EventStore } from '../event-log/event-store.js';
import type { Sockets } from './sockets.js';

/** Frames read from the log per page during a catch-up. */
const CATCH_UP_PAGE = 500;

/** What {@link createReplies} needs. */
export interface RepliesOptions {
  log: EventLog;
  store: EventStore;
  sockets: Sockets;
  currentSeq: (conversationId: string) => number | undefined;
}

/**
 * Answers the requests that read the log for one connection: resume (send every event after a
 * seq, then go live without a gap or a duplicate) and history (a page of past events). Both wait
 * until everything already appended is in the log, so the read sees every frame that was sent.
 *
 * @example
 * const replies = createReplies({ log, store, sockets, currentSeq });
 * await replies.resume('conn_1', 41);
 */
export function createReplies({ log, store, sockets, currentSeq }: RepliesOptions) {
  const durable = () =>
    new Promise<void>((resolve) => {
      log.afterDurable(() => {
        resolve();
      });
    });

  const sendError = (connectionId: string, error: ParleyError, inReplyTo: string) => {
    sockets.reply(connectionId, {
      type: 'error',
      code: error.code,
      message: error.message,
      in_reply_to: inReplyTo,
      ...(error.details === undefined ? {} : { details: error.details }),
    });
  };

  return {
    async resume(connectionId: string, since: number): Promise<void> {
      const conversationId = sockets.conversationOf(connectionId);
      if (conversationId === undefined) return;
      sockets.hold(connectionId);
      try {
        await durable();
        const current = currentSeq(conversationId) ?? 0;
        const firstRetained = await store.firstRetainedSeq(conversationId);
        if (since > current) {
          throw new ParleyError(
            'resume_unavailable',
            `Cannot resume from seq ${since}: the conversation is at seq ${current}.`,
            { details: { current_seq: current } },
          );
        }
        if (firstRetained !== undefined && since + 1 < firstRetained) {
          throw new ParleyError(
            'resume_unavailable',
            `Cannot resume from seq ${since}: the log keeps events from seq ${firstRetained} on. Ask for history or start from the current state (seq ${current}).`,
            { details: { first_retained_seq: firstRetained, current_seq: current } },
          );
        }
        for (let after = since; ;) {
          const page = await store.readFrames(conversationId, { after, limit: CATCH_UP_PAGE });
          for (const entry of page) {
            sockets.sendMissed(connectionId, JSON.stringify(entry.frame), entry.seq);
          }
          const last = page.at(-1);
          if (last === undefined || page.length < CATCH_UP_PAGE) break;
          after = last.seq;
        }
      } catch (error) {
        sendError(connectionId, toParleyError(error, 'log_unavailable'), 'resume');
      } finally {
        sockets.release(connectionId);
      }
    },

    async history(
      connectionId: string,
      query: Extract<ClientFrame, { type: 'history' }>,
    ): Promise<void> {
      const conversationId = sockets.conversationOf(connectionId);
      if (conversationId === undefined) return;
      try {
        await durable();
        const page = await readHistoryPage(store, conversationId, query);
        sockets.reply(connectionId, {
          type: 'history',
          ...(query.request_id === undefined ? {} : { request_id: query.request_id }),
          ...page,
        });
      } catch (error) {
        sendError(connectionId, toParleyError(error, 'log_unavailable'), 'history');
      }
    },
  };
}

/**
 * One page of past event frames: `after` < seq < `before`, oldest first. With only `before`, the
 * newest page before it; otherwise the oldest page after `after`.
 */
export async function readHistoryPage(
  store: EventStore,
  conversationId: string,
  query: { before?: number | undefined; after?: number | undefined; limit: number },
) {
  const entries = await store.readFrames(conversationId, {
    ...(query.after === undefined ? {} : { after: query.after }),
    ...(query.before === undefined ? {} : { before: query.before }),
    limit: query.limit + 1,
  });
  const hasMore = entries.length > query.limit;
  const backwards = query.before !== undefined && query.after === undefined;
  const kept = hasMore ? (backwards ? entries.slice(1) : entries.slice(0, -1)) : entries;
  return { frames: kept.map((entry) => entry.frame), has_more: hasMore };
}
