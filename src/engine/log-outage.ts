/**
 * What participants see while the event log cannot be written (issue 14): an `error` frame
 * `log_unavailable` to everyone connected when writes start failing and to each client that joins
 * meanwhile, and no input taken (it could not be logged, so it could not be answered). Frames
 * already published wait in the log's queue and are delivered in order once it recovers.
 */
import type { EventLog } from '../event-log/event-log.js';
import type { Sockets } from './sockets.js';

/** The `error` frame of a log that cannot be written (no store detail: clients see no paths). */
export function logUnavailableFrame(inReplyTo?: string) {
  return {
    type: 'error' as const,
    code: 'log_unavailable' as const,
    message:
      'The event log cannot be written: this conversation takes no input until it recovers; nothing sent to you is lost, and what is held is delivered in order once it is written.',
    ...(inReplyTo === undefined ? {} : { in_reply_to: inReplyTo }),
  };
}

/**
 * Tells every open connection when the log becomes degraded, and answers for the engine whether
 * a client's frame may go in.
 *
 * @example
 * const outage = watchLogOutage(log, sockets);
 * if (outage.refuses(frame.type)) sockets.reply(connectionId, logUnavailableFrame(frame.type));
 */
export function watchLogOutage(log: EventLog, sockets: Sockets) {
  let state = log.status().state;
  log.onStatus((status) => {
    const previous = state;
    state = status.state;
    if (status.state !== 'degraded' || previous === 'degraded') return;
    for (const connectionId of [...sockets.connectionIds()]) {
      sockets.reply(connectionId, logUnavailableFrame());
    }
  });
  return {
    /** Whether a client frame of this type is refused now (all but `ping` while degraded). */
    refuses(frameType: string): boolean {
      return frameType !== 'ping' && log.status().state === 'degraded';
    },
    /** Tells a connection that just joined, if the log is degraded. */
    greet(connectionId: string): void {
      if (log.status().state === 'degraded') sockets.reply(connectionId, logUnavailableFrame());
    },
  };
}
