/**
 * The inspector's helpers: times, previews, state strings, throttling, text measuring; and the
 * element helpers both pages share.
 */
export {
  byId,
  byTestId,
  clear,
  field,
  h,
  preview,
  s,
  stringField,
  type Attributes,
  type Child,
} from '../shared/dom.js';

/** `12:03:04.123` for an epoch time in ms. */
export function clockTime(at: unknown): string {
  if (typeof at !== 'number' || !Number.isFinite(at)) return '';
  const date = new Date(at);
  const pad = (value: number, width = 2) => String(value).padStart(width, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

/** `04.123` style short time (`mm:ss.mmm`) for dense lists. */
export function shortTime(at: unknown): string {
  return clockTime(at).slice(3);
}

/** The kinds of actor, as the engine's machine definitions are keyed. */
export type ActorKind = 'root' | 'conversation' | 'connection';

/** The kind of actor a path names: `conversation:x` → `conversation`, `parley` → `root`. */
export function kindOfPath(path: string): ActorKind {
  if (path.startsWith('conversation:')) return 'conversation';
  if (path.startsWith('connection:')) return 'connection';
  return 'root';
}

/**
 * A state value, dotted string (`working.streaming`, parallel regions joined by commas) or
 * XState object (`{ working: 'streaming' }`), as a dotted string.
 */
export function stateToString(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || value === null) return '';
  return Object.entries(value as Record<string, unknown>)
    .map(([key, child]) => {
      const rest = stateToString(child);
      return rest === '' ? key : `${key}.${rest}`;
    })
    .join(',');
}

/**
 * The ids of every active state node for a dotted state string, ancestors included:
 * (`conversation`, `working.streaming`) → `conversation`, `conversation.working`,
 * `conversation.working.streaming`.
 */
export function activeStateIds(machineId: string, stateString: string): Set<string> {
  const ids = new Set([machineId]);
  for (const region of stateString.split(',')) {
    let id = machineId;
    for (const key of region.split('.').filter(Boolean)) {
      id = `${id}.${key}`;
      ids.add(id);
    }
  }
  return ids;
}

/** Schedules `callback` once per animation frame however often it is requested. */
export function frameThrottle(callback: () => void): () => void {
  let pending = false;
  return () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      callback();
    });
  };
}

/** Calls `callback` once the calls stop for `ms`. */
export function debounce(callback: () => void, ms: number): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(callback, ms);
  };
}

let measureContext: CanvasRenderingContext2D | null | undefined;

/** Width of a text in the page font at `size` px, for sizing diagram boxes. */
export function textWidth(text: string, size = 12, weight = 400): number {
  measureContext ??= document.createElement('canvas').getContext('2d');
  if (measureContext === null) return Math.ceil(text.length * size * 0.6);
  measureContext.font = `${String(weight)} ${String(size)}px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif`;
  return Math.ceil(measureContext.measureText(text).width);
}
