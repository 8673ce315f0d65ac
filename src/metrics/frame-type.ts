import { serverFrameSchema } from '../protocol/frames.js';

const PREFIX = '{"type":"';
/** Every server frame type: the only values the `type` label of frames sent can take. */
const SERVER_FRAME_TYPES: ReadonlySet<string> = new Set(
  serverFrameSchema.options.map((option) => option.shape.type.value),
);

/**
 * The `type` of a serialized server frame, read from its first field without parsing it (every
 * frame body is built with `type` first, and stamping keeps the order): `other` for anything
 * else, so a metric label can never take an unbounded set of values.
 *
 * @example
 * frameTypeOf('{"type":"pong","conversation_id":"demo","seq":3}') // 'pong'
 */
export function frameTypeOf(data: string): string {
  if (!data.startsWith(PREFIX)) return 'other';
  const end = data.indexOf('"', PREFIX.length);
  const type = end === -1 ? '' : data.slice(PREFIX.length, end);
  return SERVER_FRAME_TYPES.has(type) ? type : 'other';
}
