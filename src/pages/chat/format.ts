/**
 * How the chat page writes times and values.
 */
import { h } from '../shared/dom.js';

const TIME = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const DATE_TIME = new Intl.DateTimeFormat(undefined, {
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
});
const FULL = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'medium' });

/**
 * A `<time>` for an epoch time in ms: the time of day for today, the date too before; the full
 * date and time on hover.
 *
 * @example
 * timeElement(frame.timestamp) // <time datetime="2026-03-02T14:02:11.000Z" title="…">14:02</time>
 */
export function timeElement(at: number, now = Date.now()): HTMLTimeElement {
  const date = new Date(at);
  const today = new Date(now).toDateString() === date.toDateString();
  return h('time', {
    datetime: date.toISOString(),
    title: FULL.format(date),
    text: (today ? TIME : DATE_TIME).format(date),
  });
}

/**
 * A value as a person reads it: text as is, numbers and booleans as written, anything else as
 * compact JSON.
 *
 * @example
 * plainValue('5 + 3') // '5 + 3'
 * plainValue({ celsius: 21 }) // '{"celsius":21}'
 */
export function plainValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) {
    return String(value);
  }
  // `unknown`: JSON.stringify gives undefined for undefined, whatever its type says.
  let json: unknown;
  try {
    json = JSON.stringify(value);
  } catch {
    json = undefined;
  }
  return typeof json === 'string' ? json : '(not shown)';
}

/** Pretty JSON for the raw view of a frame; never throws. */
export function prettyJson(value: unknown): string {
  try {
    return JSON.stringify(value, null, 2);
  } catch {
    return String(value);
  }
}
