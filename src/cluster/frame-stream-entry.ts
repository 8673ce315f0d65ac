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
  /**
   * With `to`: after sending `text` (when not empty), the owner closed that connection with this
   * WebSocket close code and reason; the instance serving it closes its socket the same way.
   */
  close?: { code: number; reason: string };
  /**
   * With `to` and an empty `text`: the owner has taken the forwarded input with this record id
   * (see cluster-node.ts, "acknowledged inputs"); it comes after the input's effects on the stream.
   */
  ack?: string;
  /**
   * Without `to`, with an empty `text`: the owner released its lease (it drained on SIGTERM); a
   * follower checks ownership at once. Not a conversation event (its seq is the current one).
   */
  released?: true;
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
  if (frame.close !== undefined)
    fields.push('c', String(frame.close.code), 'r', frame.close.reason);
  if (frame.ack !== undefined) fields.push('a', frame.ack);
  if (frame.released === true) fields.push('x', '1');
  return fields;
}

/** The frame in a stream entry's fields, or undefined when they are not a frame's. */
export function decodeFrameFields(fields: readonly string[]): ClusterFrame | undefined {
  let seq: number | undefined;
  let text: string | undefined;
  let to: string | undefined;
  let code: number | undefined;
  let reason = '';
  let ack: string | undefined;
  let released = false;
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
      case 'c':
        code = Number(value);
        break;
      case 'r':
        reason = value ?? '';
        break;
      case 'a':
        ack = value;
        break;
      case 'x':
        released = true;
        break;
      default:
        break;
    }
  }
  if (seq === undefined || !Number.isSafeInteger(seq) || seq < 0 || text === undefined) {
    return undefined;
  }
  if (to === undefined) return released ? { seq, text, released: true } : { seq, text };
  const direct: ClusterFrame = { seq, to, text };
  if (code !== undefined && Number.isInteger(code)) direct.close = { code, reason };
  if (ack !== undefined) direct.ack = ack;
  return direct;
}
