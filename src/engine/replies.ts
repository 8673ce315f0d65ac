import type { ClientFrame } from '../protocol/frames.js';
import { ParleyError, toParleyError } from '../errors.js';
import type { EventLog } from '../event-log/event-log.js';
import type { EventStore } from '../event-log/event-store.js';
import type { Sockets } from './sockets.js';

/** What {@link createReplies} needs. */
export interface RepliesOptions {
  log: EventLog;
  store: EventStore;
  sockets: Sockets;
  currentSeq: (conversationId: string) => number | undefined;
  /** The outbound limit a catch-up must stay under (`outboundBufferFrames`). */
  outboundBufferFrames: number;
}

/**
 * Frames per catch-up page: half the outbound limit, so the connection's own replies (its welcome,
 * a pong, an error) always have room beside a page, and at most 128, so 1,000 clients resuming at
 * once hold at most 128 frames each in the kernel's and ws's buffers.
 */
export function catchUpPageFrames(outboundBufferFrames: number): number {
  return Math.max(1, Math.min(128, Math.floor(outboundBufferFrames / 2)));
}

/**
 * Answers the requests that read the log for one connection: resume (send every event after a
 * seq, then go live without a gap or a duplicate) and history (a page of past events). Both wait
 * until everything already appended is in the log, so the read sees every frame that was sent.
 *
 * A resume is flow-controlled: it reads one page from the log, sends it, and reads the next only
 * once the socket has flushed everything (`Sockets.flushed`), so a client that missed thousands
 * of frames never trips the outbound limit and the server holds one page per resuming client.
 * The live frames held meanwhile follow the same way. Resumes of one connection run one after
 * the other.
 *
 * @example
 * const replies = createReplies({ log, store, sockets, currentSeq, outboundBufferFrames: 256 });
 * await replies.resume('conn_1', 41);
 */
export function createReplies({
  log,
  store,
  sockets,
  currentSeq,
  outboundBufferFrames,
}: RepliesOptions) {
  const pageFrames = catchUpPageFrames(outboundBufferFrames);
  /** The resume running for each connection: a second one waits for it. */
  const resuming = new Map<string, Promise<void>>();
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

  const catchUp = async (connectionId: string, since: number): Promise<void> => {
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
        if (!(await sockets.flushed(connectionId))) return;
        const page = await store.readFrames(conversationId, { after, limit: pageFrames });
        for (const entry of page) {
          sockets.sendMissed(connectionId, JSON.stringify(entry.frame), entry.seq);
        }
        const last = page.at(-1);
        if (last === undefined || page.length < pageFrames) break;
        after = last.seq;
      }
    } catch (error) {
      sendError(connectionId, toParleyError(error, 'log_unavailable'), 'resume');
    }
    // The live frames held during the catch-up, paced the same way; then the connection is live.
    while (await sockets.flushed(connectionId)) {
      if (sockets.releasePage(connectionId, pageFrames)) return;
    }
  };

  return {
    async resume(connectionId: string, since: number): Promise<void> {
      const previous = resuming.get(connectionId);
      const run = (previous ?? Promise.resolve()).then(() => catchUp(connectionId, since));
      resuming.set(connectionId, run);
      await run;
      if (resuming.get(connectionId) === run) resuming.delete(connectionId);
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
