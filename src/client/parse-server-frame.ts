/**
 * Turns one incoming WebSocket message into a server frame, or says why it cannot.
 */
import { serverFrameSchema, type ServerFrame } from '../protocol/frames.js';
import { ParleyClientError } from './client-error.js';

/** The outcome of {@link parseServerFrame}. */
export type ParsedServerFrame =
  { ok: true; frame: ServerFrame } | { ok: false; error: ParleyClientError };

/**
 * Parses a message: JSON text first, then `serverFrameSchema` unless `validate` is false (then
 * any JSON object passes as it is). Failures are `invalid_frame` errors; the caller skips the frame.
 *
 * @example
 * const parsed = parseServerFrame(event.data, true);
 * if (parsed.ok) deliver(parsed.frame);
 */
export function parseServerFrame(data: unknown, validate: boolean): ParsedServerFrame {
  const skip = (message: string, cause?: unknown): ParsedServerFrame => ({
    ok: false,
    error: new ParleyClientError('invalid_frame', message, cause === undefined ? {} : { cause }),
  });
  if (typeof data !== 'string') return skip('Skipped a binary frame.');
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch (cause) {
    return skip('Skipped a frame that is not JSON.', cause);
  }
  if (!validate) {
    return typeof json === 'object' && json !== null
      ? { ok: true, frame: json as ServerFrame }
      : skip('Skipped a frame that is not a JSON object.');
  }
  const parsed = serverFrameSchema.safeParse(json);
  if (parsed.success) return { ok: true, frame: parsed.data };
  const type = (json as { type?: unknown } | null)?.type;
  // Unknown frame types land here too: the protocol asks clients to skip them, not to fail.
  return skip(`Skipped an invalid ${String(type)} frame: ${parsed.error.message}`, parsed.error);
}
