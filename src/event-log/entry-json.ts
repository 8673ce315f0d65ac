/**
 * An entry's stored JSON, made without serializing its frame a second time. `publish` serializes
 * each frame once for the sockets; it hands that text to the log with the entry, and the stores
 * (SQLite on either thread, PostgreSQL) splice it into the entry's body instead of running
 * `JSON.stringify` over the frame again (issue 15: each frame was serialized twice per token).
 */
import type { LogEntry, NewLogEntry } from './log-entry.js';

/**
 * Where the frame's JSON rides on its entry: a symbol key, so `JSON.stringify`, the memory
 * store's copies and every reader ignore it, and `Object.assign` (which the log uses to give the
 * entry its position) carries it over.
 */
const FRAME_JSON = Symbol('parley.frameJson');

type WithFrameJson = { [FRAME_JSON]?: string };

/**
 * Attaches `frameJson` (which must be `JSON.stringify(entry.frame)`) to a frame entry.
 *
 * @example
 * const data = JSON.stringify(frame);
 * log.append(id, [withFrameJson({ kind: 'frame', conversation_id: id, at, seq, frame }, data)]);
 */
export function withFrameJson<TEntry extends Extract<NewLogEntry, { kind: 'frame' }>>(
  entry: TEntry,
  frameJson: string,
): TEntry {
  (entry as TEntry & WithFrameJson)[FRAME_JSON] = frameJson;
  return entry;
}

/**
 * `JSON.stringify(entry)`, byte for byte, reusing the frame's JSON when the entry carries it (the
 * keys in the order `publish` and the log give them: kind, conversation_id, at, seq, frame, to
 * or part, v, position).
 *
 * @example
 * insert.run(..., entryJson(entry));
 */
export function entryJson(entry: LogEntry): string {
  const frameJson = (entry as LogEntry & WithFrameJson)[FRAME_JSON];
  if (frameJson === undefined || entry.kind !== 'frame') return JSON.stringify(entry);
  const to = entry.to === undefined ? '' : `,"to":${JSON.stringify(entry.to)}`;
  const part =
    entry.part === undefined
      ? ''
      : `,"part":{"step":${entry.part.step},"offset_ms":${entry.part.offset_ms}}`;
  return `{"kind":"frame","conversation_id":${JSON.stringify(entry.conversation_id)},"at":${entry.at},"seq":${entry.seq},"frame":${frameJson}${to}${part},"v":${entry.v},"position":${entry.position}}`;
}
