/**
 * How conversation frames travel on their Redis Stream: one entry carries the frames an owner
 * published together (a tick's frames of one conversation, in seq order), each as a run of fields
 * that starts with its seq (`s`), then its JSON text as it goes on the wire (`f`) and, for a direct
 * frame, the connection it is for and what else it carries. A single frame is the same fields
 * alone, so an entry written before entries carried several frames still reads as one.
 *
 * The entry's id derives from the highest seq of its frames (`<seq>-*`: Redis numbers entries with
 * the same highest seq 0, 1, 2 …), so ids grow strictly, and an entry whose id is below `<n>-0`
 * holds only frames with a seq below n: a follower can tell from an id where it is.
 * Fields, not a JSON array, so that a follower parses no JSON: it sends each frame's text as is.
 */

import { CLOSE_CODES, isCloseCode, type CloseCode } from '../errors.js';

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
  close?: { code: CloseCode; reason: string };
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

/**
 * The stream entry id for frames whose highest seq is `seq`: `<seq>-*`, so Redis (7.0 and later)
 * adds the sequence part.
 */
export function streamIdFor(seq: number): string {
  return `${seq}-*`;
}

/**
 * Where a follower that has every event up to `seq` starts reading (exclusive): before the first
 * entry that may hold a frame of that seq, so that it still gets the direct frames sent at that
 * seq (a refused join's error). The entry that ends at `seq` may also hold earlier frames, which
 * the follower skips (see frame-follower.ts).
 */
export function streamIdAfter(seq: number): string {
  return seq <= 0 ? '0-0' : `${seq - 1}-${LAST_SEQUENCE}`;
}

/** The highest sequence part of a stream entry id (an unsigned 64-bit integer). */
const LAST_SEQUENCE = '18446744073709551615';

/** The fields of a stream entry carrying `frames`, in order. */
export function encodeEntryFields(frames: readonly ClusterFrame[]): string[] {
  const fields: string[] = [];
  for (const frame of frames) fields.push(...encodeFrameFields(frame));
  return fields;
}

/**
 * The frames of a stream entry, in order; a run of fields that is not a frame's is left out and
 * counted in `skipped`.
 */
export function decodeEntryFields(fields: readonly string[]): {
  frames: ClusterFrame[];
  skipped: number;
} {
  const frames: ClusterFrame[] = [];
  let skipped = 0;
  let start = 0;
  for (let index = 2; index <= fields.length; index += 2) {
    if (index < fields.length && fields[index] !== 's') continue;
    const frame = decodeFrameFields(fields, start, index);
    if (frame === undefined) skipped += 1;
    else frames.push(frame);
    start = index;
  }
  return { frames, skipped };
}

/** The fields of one frame (a stream entry of one frame). */
export function encodeFrameFields(frame: ClusterFrame): string[] {
  const fields = ['s', String(frame.seq), 'f', frame.text];
  if (frame.to !== undefined) fields.push('t', frame.to);
  if (frame.close !== undefined)
    fields.push('c', String(frame.close.code), 'r', frame.close.reason);
  if (frame.ack !== undefined) fields.push('a', frame.ack);
  if (frame.released === true) fields.push('x', '1');
  return fields;
}

/**
 * The frame in one frame's fields (those from `start` to `end`), or undefined when they are not a
 * frame's.
 */
export function decodeFrameFields(
  fields: readonly string[],
  start = 0,
  end = fields.length,
): ClusterFrame | undefined {
  let seq: number | undefined;
  let text: string | undefined;
  let to: string | undefined;
  let code: number | undefined;
  let reason = '';
  let ack: string | undefined;
  let released = false;
  for (let index = start; index + 1 < end; index += 2) {
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
  // A code this version does not know (a newer owner's) still ends the connection.
  if (code !== undefined && Number.isInteger(code)) {
    direct.close = { code: isCloseCode(code) ? code : CLOSE_CODES.internal_error, reason };
  }
  if (ack !== undefined) direct.ack = ack;
  return direct;
}
