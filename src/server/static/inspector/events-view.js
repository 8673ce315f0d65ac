/**
 * The "Events" tab: the inspection records of the subscribed actor, newest at the bottom, with
 * kind and text filters. At most `MAX_ROWS` rows live in the DOM; older ones are dropped from
 * the view (the records themselves are kept up to `MAX_RECORDS` for re-filtering).
 */
import { clear, clockTime, h, preview, shortTime, stateToString } from './dom.js';

const MAX_ROWS = 2000;
const MAX_RECORDS = 10_000;

/** Every inspection record kind, in the order of the filter chips. */
export const RECORD_KINDS = [
  'event',
  'microstep',
  'snapshot',
  'action',
  'actor.created',
  'actor.stopped',
  'actor.hibernated',
  'actor.woken',
  'timer.scheduled',
  'timer.cancelled',
  'pipeline',
];

/** The event type a record is about, wherever the engine put it. */
export function eventTypeOf(detail) {
  if (!detail || typeof detail !== 'object') return undefined;
  const event = detail.event;
  const type =
    detail.event_type ??
    detail.eventType ??
    (event && typeof event === 'object'
      ? event.type
      : typeof event === 'string'
        ? event
        : undefined);
  return typeof type === 'string' ? type : undefined;
}

/**
 * The transitions a microstep record names, as `{ source, target, eventType }` with state ids
 * (`conversation.working.thinking`). The engine sends `{ source, targets, event_type }`.
 */
export function transitionsOf(detail) {
  if (!detail || typeof detail !== 'object') return [];
  const raw = Array.isArray(detail.transitions)
    ? detail.transitions
    : detail.source !== undefined && (detail.target !== undefined || detail.targets !== undefined)
      ? [detail]
      : [];
  const list = [];
  for (const transition of raw) {
    if (!transition || typeof transition !== 'object') continue;
    const given = transition.targets ?? transition.target;
    const targets = Array.isArray(given) ? given : [given];
    const eventType = transition.event_type ?? transition.eventType;
    for (const target of targets) {
      if (typeof transition.source !== 'string' || typeof target !== 'string') continue;
      list.push({
        source: transition.source.replace(/^#/, ''),
        target: target.replace(/^#/, ''),
        ...(typeof eventType === 'string' ? { eventType } : {}),
      });
    }
  }
  return list;
}

/** The dotted state a record carries, if any. */
export function stateOf(detail) {
  if (!detail || typeof detail !== 'object') return undefined;
  const value = detail.state ?? detail.value;
  if (value === undefined || value === null) return undefined;
  return stateToString(value);
}

/** A one-line summary of a record. */
export function summarize(record) {
  const detail = record.detail ?? {};
  const parts = [];
  const eventType = eventTypeOf(detail);
  if (eventType !== undefined) parts.push(eventType === '' ? '(always)' : eventType);
  const transitions = transitionsOf(detail);
  if (transitions.length > 0) {
    parts.push(
      transitions
        .map((t) => `${t.source.replace(/^[^.]*\./, '')} → ${t.target.replace(/^[^.]*\./, '')}`)
        .join(', '),
    );
  }
  const state = stateOf(detail);
  if (state !== undefined && transitions.length === 0) parts.push(`⇒ ${state}`);
  const action = detail.action_type ?? detail.action;
  if (action !== undefined) parts.push(typeof action === 'string' ? action : preview(action, 60));
  if (detail.params !== undefined && detail.params !== null) parts.push(preview(detail.params, 60));
  if (parts.length === 0) parts.push(preview(detail, 140));
  return parts.join('  ');
}

/** The events timeline. */
export class EventsView {
  /**
   * @param {HTMLElement} toolbar where the filters go
   * @param {HTMLElement} list the scrolling list (`data-testid="events"`)
   */
  constructor(toolbar, list) {
    this.list = list;
    this.records = [];
    this.kinds = new Set(RECORD_KINDS);
    this.text = '';
    this.rowCount = 0;
    const chips = RECORD_KINDS.map((kind) => {
      const box = h('input', { type: 'checkbox', checked: true, 'data-kind': kind });
      box.addEventListener('change', () => {
        if (box.checked) this.kinds.add(kind);
        else this.kinds.delete(kind);
        this.rerender();
      });
      return h('label', { class: `chip kind-${kind.replace('.', '-')}` }, box, kind);
    });
    const search = h('input', {
      type: 'search',
      placeholder: 'filter text…',
      'data-testid': 'events-filter',
      'aria-label': 'Filter events',
    });
    search.addEventListener('input', () => {
      this.text = search.value.trim().toLowerCase();
      this.rerender();
    });
    this.counter = h('span', { class: 'muted small' });
    toolbar.append(
      h('div', { class: 'chips' }, chips),
      h('div', { class: 'row-line' }, search, this.counter),
    );
    list.addEventListener('click', (event) => {
      const row = event.target.closest('.event');
      if (!row || event.target.closest('pre')) return;
      const open = row.querySelector('pre');
      if (open) open.remove();
      else
        row.append(
          h('pre', { class: 'json', text: JSON.stringify(row.record.detail ?? {}, null, 2) }),
        );
    });
  }

  /** Forgets every record (a new actor was subscribed). */
  clear() {
    this.records = [];
    this.rerender();
  }

  /** Adds records (oldest first) and appends the matching ones. */
  add(records) {
    if (records.length === 0) return;
    const atBottom = this.isAtBottom();
    this.records.push(...records);
    if (this.records.length > MAX_RECORDS)
      this.records.splice(0, this.records.length - MAX_RECORDS);
    const fragment = document.createDocumentFragment();
    for (const record of records) if (this.matches(record)) fragment.append(this.row(record));
    this.rowCount += fragment.childNodes.length;
    this.list.append(fragment);
    while (this.rowCount > MAX_ROWS) {
      this.list.firstElementChild?.remove();
      this.rowCount -= 1;
    }
    this.updateCounter();
    if (atBottom) this.list.scrollTop = this.list.scrollHeight;
  }

  matches(record) {
    if (!this.kinds.has(record.kind)) return false;
    if (this.text === '') return true;
    if (record.path.toLowerCase().includes(this.text)) return true;
    if (record.kind.includes(this.text)) return true;
    return (
      (record.summary ??= summarize(record)).toLowerCase().includes(this.text) ||
      preview(record.detail, 2000).toLowerCase().includes(this.text)
    );
  }

  rerender() {
    clear(this.list);
    const rows = [];
    for (let index = this.records.length - 1; index >= 0 && rows.length < MAX_ROWS; index -= 1) {
      const record = this.records[index];
      if (this.matches(record)) rows.push(this.row(record));
    }
    rows.reverse();
    this.list.append(...rows);
    this.rowCount = rows.length;
    this.updateCounter();
    this.list.scrollTop = this.list.scrollHeight;
  }

  updateCounter() {
    this.counter.textContent = `${this.rowCount} shown / ${this.records.length} records`;
  }

  isAtBottom() {
    return this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 40;
  }

  row(record) {
    record.summary ??= summarize(record);
    const row = h(
      'div',
      {
        class: `event kind-${record.kind.replace('.', '-')}`,
        'data-kind': record.kind,
        'data-seq': record.seq,
        title: `record #${record.seq} · ${clockTime(record.at)} · ${record.path}`,
      },
      h('span', { class: 'time', text: shortTime(record.at) }),
      h('span', { class: 'kind', text: record.kind }),
      h('span', {
        class: 'path',
        text: record.path.replace(/^(conversation|connection):/, ''),
        title: record.path,
      }),
      h('span', { class: 'summary', text: record.summary }),
    );
    row.record = record;
    return row;
  }
}
