/**
 * Seq bookkeeping for one client across reconnections: which conversation events are new, which
 * are repeats of ones already delivered, and where a gap shows.
 */

/** What {@link SequenceTracker.accept} decided about one conversation event. */
export type SequenceVerdict =
  { deliver: true; gap?: { expected: number; received: number } } | { deliver: false };

/**
 * Tracks the seq a client is up to date with.
 *
 * The resume point is known from the start when the caller gives `since`, and otherwise from the
 * first `welcome` (whose `seq` is the conversation's seq at the moment of joining: the joiner's
 * own `presence` is the next one). From then on each event must be `lastSeq + 1`; a smaller seq
 * is a repeat (resumes overlap) and is dropped, a larger one is a gap that is reported.
 *
 * @example
 * const tracker = new SequenceTracker(undefined);
 * tracker.joined(4);
 * tracker.accept(5); // { deliver: true }
 * tracker.accept(5); // { deliver: false }
 */
export class SequenceTracker {
  private seq: number;
  private known: boolean;

  constructor(since: number | undefined) {
    this.seq = since ?? 0;
    this.known = since !== undefined;
  }

  /** The highest event seq seen, or the welcome's seq before any event. */
  get lastSeq(): number {
    return this.seq;
  }

  /** The seq to resume from on the next connection (`?since=`), once there is one. */
  get resumePoint(): number | undefined {
    return this.known ? this.seq : undefined;
  }

  /** Takes a `welcome`'s seq as the starting point, unless the client is resuming. */
  joined(welcomeSeq: number): void {
    if (this.known) return;
    this.seq = welcomeSeq;
    this.known = true;
  }

  /** Decides whether an event with this seq is delivered, and whether it leaves a gap. */
  accept(seq: number): SequenceVerdict {
    if (!this.known) {
      this.seq = seq;
      this.known = true;
      return { deliver: true };
    }
    if (seq <= this.seq) return { deliver: false };
    const expected = this.seq + 1;
    this.seq = seq;
    return seq === expected
      ? { deliver: true }
      : { deliver: true, gap: { expected, received: seq } };
  }
}
