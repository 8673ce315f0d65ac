/**
 * Small DOM helpers for the inspector page. Every piece of data reaches the page through
 * `textContent` or `setAttribute`, never `innerHTML`.
 */

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * Creates an HTML element. `attrs` keys starting with `on` become listeners, `text` sets the
 * text content, `class` the class name, anything else an attribute.
 *
 * @example
 * h('button', { class: 'small', onclick: go, text: 'Go' })
 */
export function h(tag, attrs = {}, ...children) {
  return fill(document.createElement(tag), attrs, children);
}

/** Creates an SVG element, like `h`. */
export function s(tag, attrs = {}, ...children) {
  return fill(document.createElementNS(SVG_NS, tag), attrs, children);
}

function fill(element, attrs, children) {
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'text') element.textContent = String(value);
    else if (key.startsWith('on') && typeof value === 'function') {
      element.addEventListener(key.slice(2), value);
    } else element.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** Removes every child of an element. */
export function clear(element) {
  while (element.lastChild) element.lastChild.remove();
}

/** `12:03:04.123` for an epoch time in ms. */
export function clockTime(at) {
  if (typeof at !== 'number' || !Number.isFinite(at)) return '';
  const date = new Date(at);
  const pad = (value, width = 2) => String(value).padStart(width, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

/** `04.123` style short time (`mm:ss.mmm`) for dense lists. */
export function shortTime(at) {
  return clockTime(at).slice(3);
}

/** A one-line JSON preview, cut at `max` characters. */
export function preview(value, max = 120) {
  let text;
  try {
    text = typeof value === 'string' ? value : JSON.stringify(value);
  } catch {
    text = String(value);
  }
  if (text === undefined) return '';
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The kind of actor a path names: `conversation:x` → `conversation`, `parley` → `root`. */
export function kindOfPath(path) {
  if (path.startsWith('conversation:')) return 'conversation';
  if (path.startsWith('connection:')) return 'connection';
  return 'root';
}

/**
 * A state value, dotted string (`working.streaming`, parallel regions joined by commas) or
 * XState object (`{ working: 'streaming' }`), as a dotted string.
 */
export function stateToString(value) {
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || value === null) return '';
  return Object.entries(value)
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
export function activeStateIds(machineId, stateString) {
  const ids = new Set([machineId]);
  for (const region of (stateString ?? '').split(',')) {
    let id = machineId;
    for (const key of region.split('.').filter(Boolean)) {
      id = `${id}.${key}`;
      ids.add(id);
    }
  }
  return ids;
}

/** Schedules `callback` once per animation frame however often it is requested. */
export function frameThrottle(callback) {
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
export function debounce(callback, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => callback(...args), ms);
  };
}

/** Width of a text in the page font at `size` px, for sizing diagram boxes. */
export function textWidth(text, size = 12, weight = 400) {
  measureContext ??= document.createElement('canvas').getContext('2d');
  measureContext.font = `${weight} ${size}px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif`;
  return Math.ceil(measureContext.measureText(text).width);
}
let measureContext;
