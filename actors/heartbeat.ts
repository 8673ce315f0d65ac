/**
 * The heartbeat and hibernation rules, once, as pure functions: the connection machine's guards
 * and its shard (which keeps the heartbeat of hibernated connections) both decide with them.
 */

/** What a connection's heartbeat depends on. */
export interface HeartbeatState {
  /** Pings sent since the last pong. */
  missedPongs: number;
  /** Unanswered pings before the socket is terminated. */
  maxMissedPongs: number;
  /** Hibernate after this long without a frame from the client; 0: never. */
  hibernateAfterMs: number;
  /** When the client last sent a frame other than `ping`, epoch ms. */
  lastFrameAt: number;
}

/**
 * What a heartbeat tick does to a connection: `terminate` it (too many pings went unanswered),
 * `hibernate` it (it has been quiet long enough; it is pinged too), or just `ping` it.
 *
 * @example
 * tickVerdict({ missedPongs: 2, maxMissedPongs: 2, hibernateAfterMs: 0, lastFrameAt: 0 }, now) // 'terminate'
 */
export function tickVerdict(
  state: HeartbeatState,
  now: number,
): 'terminate' | 'hibernate' | 'ping' {
  if (state.missedPongs >= state.maxMissedPongs) return 'terminate';
  if (state.hibernateAfterMs > 0 && now - state.lastFrameAt >= state.hibernateAfterMs) {
    return 'hibernate';
  }
  return 'ping';
}
