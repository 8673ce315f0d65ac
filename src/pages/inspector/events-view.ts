/**
 * The "Events" tab: the inspection records of the subscribed actor, newest at the bottom, with
 * kind and text filters. At most `MAX_ROWS` rows live in the DOM; older ones are dropped from
 * the view (the records themselves are kept up to `MAX_RECORDS` for re-filtering).
 */
import type { InspectionRecord } from '../../inspector/inspector-protocol.js';
import { clear, clockTime, field, h, preview, shortTime, stateToString } from './dom.js';

const MAX_ROWS = 2000;
const MAX_RECORDS = 10_000;

/** Every inspection record kind, in the order of the filter chips. */
export const RECORD_KINDS: readonly InspectionRecord['kind'][] = [
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

/** A transition named by a microstep, with state ids (`conversation.working.thinking`). */
export interface TakenTransition {
  source: string;
  target: string;
  eventType?: string;
}

/** The event type a record is about, wherever the engine put it. */
export function eventTypeOf(detail: unknown): string | undefined {
  const event = field(detail, 'event');
  const type =
    field(detail, 'event_type') ??
    field(detail, 'eventType') ??
    (typeof event === 'string' ? event : field(event, 'type'));
  return typeof type === 'string' ? type : undefined;
}

/**
 * The transitions a microstep record names. The engine sends `{ source, targets, event_type }`.
 */
export function transitionsOf(detail: unknown): TakenTransition[] {
  const transitions = field(detail, 'transitions');
  const raw: unknown[] = Array.isArray(transitions)
    ? transitions
    : field(detail, 'source') !== undefined &&
        (field(detail, 'target') !== undefined || field(detail, 'targets') !== undefined)
      ? [detail]
      : [];
  const list: TakenTransition[] = [];
  for (const transition of raw) {
    const source = field(transition, 'source');
    const given = field(transition, 'targets') ?? field(transition, 'target');
    const targets: unknown[] = Array.isArray(given) ? given : [given];
    const eventType = field(transition, 'event_type') ?? field(transition, 'eventType');
    for (const target of targets) {
      if (typeof source !== 'string' || typeof target !== 'string') continue;
      list.push({
        source: source.replace(/^#/, ''),
        target: target.replace(/^#/, ''),
        ...(typeof eventType === 'string' ? { eventType } : {}),
      });
    }
  }
  return list;
}

/** The dotted state a record carries, if any. */
export function stateOf(detail: unknown): string | undefined {
  const value = field(detail, 'state') ?? field(detail, 'value');
  if (value === undefined || value === null) return undefined;
  return stateToString(value);
}

/** A one-line summary of a record. */
export function summarize(record: InspectionRecord): string {
  const detail = record.detail;
  const parts: string[] = [];
  const eventType = eventTypeOf(detail);
  if (eventType !== undefined) parts.push(eventType === '' ? '(always)' : eventType);
  const transitions = transitionsOf(detail);
  if (transitions.length > 0) {
    const short = (id: string) => id.replace(/^[^.]*\./, '');
    parts.push(transitions.map((t) => `${short(t.source)} → ${short(t.target)}`).join(', '));
  }
  const state = stateOf(detail);
  if (state !== undefined && transitions.length === 0) parts.push(`⇒ ${state}`);
  const action = detail.action_type ?? detail.action;
  if (action !== undefined) parts.push(typeof action === 'string' ? action : preview(action, 60));
  if (detail.params !== undefined && detail.params !== null) parts.push(preview(detail.params, 60));
  if (parts.length === 0) parts.push(preview(detail, 140));
  return parts.join('  ');
}

/** A record with its summary, computed once. */
interface ShownRecord extends InspectionRecord {
  summary?: string;
}

/** The events timeline. */
export class EventsView {
  private records: ShownRecord[] = [];
  private readonly kinds = new Set<string>(RECORD_KINDS);
  private text = '';
  private rowCount = 0;
  private readonly counter = h('span', { class: 'muted small' });
  private readonly recordOfRow = new WeakMap<Element, ShownRecord>();

  /**
   * @param toolbar where the filters go
   * @param list the scrolling list (`data-testid="events"`)
   */
  constructor(
    toolbar: HTMLElement,
    private readonly list: HTMLElement,
  ) {
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
    toolbar.append(
      h('div', { class: 'chips' }, chips),
      h('div', { class: 'row-line' }, search, this.counter),
    );
    list.addEventListener('click', (event) => {
      const target = event.target instanceof Element ? event.target : null;
      const row = target?.closest('.event');
      const record = row ? this.recordOfRow.get(row) : undefined;
      if (!row || record === undefined || target?.closest('pre')) return;
      const open = row.querySelector('pre');
      if (open) open.remove();
      else row.append(h('pre', { class: 'json', text: JSON.stringify(record.detail, null, 2) }));
    });
  }

  /** Forgets every record (a new actor was subscribed). */
  clear(): void {
    this.records = [];
    this.rerender();
  }

  /** Adds records (oldest first) and appends the matching ones. */
  add(records: readonly InspectionRecord[]): void {
    if (records.length === 0) return;
    const atBottom = this.isAtBottom();
    this.records.push(...records);
    if (this.records.length > MAX_RECORDS) {
      this.records.splice(0, this.records.length - MAX_RECORDS);
    }
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

  private matches(record: ShownRecord): boolean {
    if (!this.kinds.has(record.kind)) return false;
    if (this.text === '') return true;
    if (record.path.toLowerCase().includes(this.text)) return true;
    if (record.kind.includes(this.text)) return true;
    return (
      (record.summary ??= summarize(record)).toLowerCase().includes(this.text) ||
      preview(record.detail, 2000).toLowerCase().includes(this.text)
    );
  }

  private rerender(): void {
    clear(this.list);
    const rows: HTMLElement[] = [];
    for (let index = this.records.length - 1; index >= 0 && rows.length < MAX_ROWS; index -= 1) {
      const record = this.records[index];
      if (record !== undefined && this.matches(record)) rows.push(this.row(record));
    }
    rows.reverse();
    this.list.append(...rows);
    this.rowCount = rows.length;
    this.updateCounter();
    this.list.scrollTop = this.list.scrollHeight;
  }

  private updateCounter(): void {
    this.counter.textContent = `${String(this.rowCount)} shown / ${String(this.records.length)} records`;
  }

  private isAtBottom(): boolean {
    return this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 40;
  }

  private row(record: ShownRecord): HTMLElement {
    record.summary ??= summarize(record);
    const row = h(
      'div',
      {
        class: `event kind-${record.kind.replace('.', '-')}`,
        'data-kind': record.kind,
        'data-seq': record.seq,
        title: `record #${String(record.seq)} · ${clockTime(record.at)} · ${record.path}`,
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
    this.recordOfRow.set(row, record);
    return row;
  }
}
