/**
 * How a conversation frame travels on its Redis Stream: the entry's id derives from the frame's
 * seq (`<seq>-*`: Redis numbers frames that share a seq 0, 1, 2 …), so ids grow strictly and a
 * follower can tell from an id where it is in the conversation; the fields carry the seq, the
 * connection a direct frame is addressed to, and the frame's JSON text as it goes on the wire.
 */

/** A conversation frame as instances pass it to each other. */
export interface ClusterFrame {
  /** The frame's seq; a direct frame repeats the conversation's current seq. */
  seq: number;
  /** The connection a direct frame is for; absent for a conversation event. */
  to?: string;
  /** The frame's JSON text, sent to clients as it is. */
  text: string;
}

/** The stream entry id for a frame: `<seq>-*`, so Redis (7.0 and later) adds the sequence part. */
export function streamIdFor(seq: number): string {
  return `${seq}-*`;
}

/**
 * Where a follower that has every event up to `seq` starts reading (exclusive): after that seq's
 * event, so that it still gets the direct frames sent at that seq (a refused join's error).
 */
export function streamIdAfter(seq: number): string {
  return `${seq}-0`;
}

/** The fields of a stream entry for a frame. */
export function encodeFrameFields(frame: ClusterFrame): string[] {
  const fields = ['s', String(frame.seq), 'f', frame.text];
  if (frame.to !== undefined) fields.push('t', frame.to);
  return fields;
}

/** The frame in a stream entry's fields, or undefined when they are not a frame's. */
export function decodeFrameFields(fields: readonly string[]): ClusterFrame | undefined {
  let seq: number | undefined;
  let text: string | undefined;
  let to: string | undefined;
  for (let index = 0; index + 1 < fields.length; index += 2) {
    const value = fields[index + 1];
    switch (fields[index] ?? '') {
      case 's':
        seq = Number(value);
        break;
      case 'f':
        text = value;
        break;
      case 't':
        to = value;
        break;
      default:
        break;
    }
  }
  if (seq === undefined || !Number.isSafeInteger(seq) || seq < 0 || text === undefined) {
    return undefined;
  }
  return to === undefined ? { seq, text } : { seq, to, text };
}
