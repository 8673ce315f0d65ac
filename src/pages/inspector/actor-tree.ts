/**
 * Over 300 lines because it draws the inspector's actor list: rows, grouping, folding and sorting.
 *
 * The actor tree: every actor the engine reported (pages of `list`, then `actors.changed`
 * deltas), shown as one flat list (actor-rows.ts orders it) in a virtualized viewport: only the
 * visible rows exist in the DOM, so 10,000+ actors stay fast. A connection's row reads as its
 * user, its id beside it.
 */
import { activityRank } from '../../inspector/actor-activity.js';
import type { ActorSummary, InspectorMessage } from '../../inspector/inspector-protocol.js';
import { buildRows, isIdle, type Row } from './actor-rows.js';
import { frameThrottle, h } from './dom.js';

/** Height of a row in px; fixed so the visible range is a division. */
export const ROW_HEIGHT = 26;
const OVERSCAN = 8;
/** The group of connections whose conversation the engine does not know yet. */
const NO_CONVERSATION = '(no conversation yet)';

type ActorsPage = Extract<InspectorMessage, { type: 'actors' }>;
type ActorsChanged = Extract<InspectorMessage, { type: 'actors.changed' }>;

/** What the page hears from the tree. */
export interface ActorTreeHandlers {
  onSelect: (path: string) => void;
  onRendered?: () => void;
}

/** The actor list model and its virtualized view. */
export class ActorTree {
  /** Every known actor by path. */
  actors = new Map<string, ActorSummary>();
  /** The rows shown, in order. */
  flat: Row[] = [];
  /** Whether pages of the list are still arriving. */
  loading = true;
  total = 0;
  filter = '';
  /** Idle conversations not shown (folded away), after the last rebuild. */
  foldedIdle = 0;
  private showIdle = false;
  private selected: string | null = null;
  /** path → state shown instead of the live one (time travel). */
  private overrides: Record<string, string> | null = null;
  private readonly collapsed = new Set<string>();
  /** conversation path → its connection paths */
  private connectionsOf = new Map<string, Set<string>>();
  /** Paths removed while the list was still loading: a late page must not bring them back. */
  private removedWhileLoading = new Set<string>();
  private readonly spacer = h('div', { class: 'tree-spacer' });
  private readonly layer = h('div', {
    class: 'tree-rows',
    role: 'listbox',
    'aria-label': 'Actors',
  });
  private readonly rowPool: HTMLElement[] = [];
  readonly scheduleRender = frameThrottle(() => {
    this.render();
  });
  readonly scheduleRebuild = frameThrottle(() => {
    this.rebuild();
    this.render();
  });

  constructor(
    private readonly viewport: HTMLElement,
    private readonly handlers: ActorTreeHandlers,
  ) {
    this.spacer.append(this.layer);
    viewport.append(this.spacer);
    viewport.addEventListener('scroll', this.scheduleRender, { passive: true });
    new ResizeObserver(this.scheduleRender).observe(viewport);
    viewport.addEventListener('click', (event) => {
      this.onClick(event);
    });
    viewport.addEventListener('keydown', (event) => {
      this.onKey(event);
    });
  }

  /** Forgets every actor (on reconnect). */
  reset(): void {
    this.actors = new Map();
    this.connectionsOf = new Map();
    this.removedWhileLoading = new Set();
    this.loading = true;
    this.total = 0;
    this.flat = [];
  }

  /** The summary of an actor, if known. */
  get(path: string | null): ActorSummary | undefined {
    return path === null ? undefined : this.actors.get(path);
  }

  /** Applies one page of `list`; returns the offset of the next page, or null when complete. */
  applyPage(message: ActorsPage): number | null {
    this.total = message.total;
    for (const summary of message.actors) {
      if (this.removedWhileLoading.has(summary.path)) continue;
      const known = this.actors.get(summary.path);
      if (known !== undefined && known.updated_at > summary.updated_at) continue;
      this.put(summary);
    }
    const next = message.offset + message.actors.length;
    if (message.actors.length === 0 || next >= message.total) {
      this.loading = false;
      this.removedWhileLoading.clear();
    }
    this.scheduleRebuild();
    return this.loading ? next : null;
  }

  /** Applies an `actors.changed` delta. */
  applyChanges(message: ActorsChanged): void {
    let structural = message.added.length > 0 || message.removed.length > 0;
    for (const summary of message.added) this.put(summary);
    for (const summary of message.updated) {
      const known = this.actors.get(summary.path);
      // A conversation that starts or stops doing something moves in the list.
      if (
        known?.conversation !== summary.conversation ||
        activityRank(known) !== activityRank(summary)
      ) {
        structural = true;
      }
      this.put(summary);
    }
    for (const path of message.removed) {
      const known = this.actors.get(path);
      if (this.loading) this.removedWhileLoading.add(path);
      if (known === undefined) continue;
      this.actors.delete(path);
      this.connectionsOf.get(groupOf(known))?.delete(path);
      if (known.kind === 'conversation' && this.connectionsOf.get(path)?.size === 0) {
        this.connectionsOf.delete(path);
      }
    }
    if (structural || this.filter !== '') this.scheduleRebuild();
    else this.scheduleRender();
  }

  /** Adds or replaces one actor's summary. */
  put(summary: ActorSummary): void {
    const known = this.actors.get(summary.path);
    if (known?.kind === 'connection' && groupOf(known) !== groupOf(summary)) {
      this.connectionsOf.get(groupOf(known))?.delete(summary.path);
    }
    this.actors.set(summary.path, summary);
    if (summary.kind === 'connection') {
      const group = groupOf(summary);
      let set = this.connectionsOf.get(group);
      if (set === undefined) this.connectionsOf.set(group, (set = new Set()));
      set.add(summary.path);
    }
  }

  /** Shows only actors whose path, user or state contains `text` (and the conversations around them). */
  setFilter(text: string): void {
    this.filter = text.trim().toLowerCase();
    this.viewport.scrollTop = 0;
    this.scheduleRebuild();
  }

  /** Shows or folds away the idle conversations. */
  setShowIdle(show: boolean): void {
    this.showIdle = show;
    this.scheduleRebuild();
  }

  /** Marks the selected row and scrolls it into view. */
  setSelected(path: string | null): void {
    this.selected = path;
    const index = this.flat.findIndex((row) => row.path === path);
    if (index >= 0) {
      const top = index * ROW_HEIGHT;
      const { scrollTop, clientHeight } = this.viewport;
      if (top < scrollTop) this.viewport.scrollTop = top;
      else if (top + ROW_HEIGHT > scrollTop + clientHeight) {
        this.viewport.scrollTop = top + ROW_HEIGHT - clientHeight;
      }
    }
    this.scheduleRender();
  }

  /** Shows these states (path → dotted state) instead of the live ones; null returns to live. */
  setOverrides(states: Record<string, string> | null): void {
    this.overrides = states;
    this.scheduleRender();
  }

  /** Rebuilds the flat row list from the model, the filter, the fold and the collapsed groups. */
  rebuild(): void {
    const { rows, foldedIdle } = buildRows(this.actors, this.connectionsOf, {
      filter: this.filter,
      showIdle: this.showIdle,
      collapsed: this.collapsed,
    });
    this.foldedIdle = foldedIdle;
    this.flat = rows;
    this.spacer.style.height = `${String(rows.length * ROW_HEIGHT)}px`;
  }

  /** Renders the rows in view (plus a few either side), reusing row elements. */
  render(): void {
    const { scrollTop, clientHeight } = this.viewport;
    const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(
      this.flat.length,
      Math.ceil((scrollTop + clientHeight) / ROW_HEIGHT) + OVERSCAN,
    );
    const count = Math.max(0, last - first);
    while (this.rowPool.length < count) {
      const row = h(
        'div',
        { class: 'row', 'data-testid': 'actor-row', role: 'option' },
        h('span', { class: 'caret' }),
        h('span', { class: 'dot' }),
        h('span', { class: 'name' }),
        h('span', { class: 'sub' }),
        h('span', { class: 'count' }),
        h('span', { class: 'badge' }),
      );
      this.rowPool.push(row);
      this.layer.append(row);
    }
    this.rowPool.forEach((row, slot) => {
      const item = this.flat[first + slot];
      if (slot >= count || item === undefined) {
        if (!row.hidden) row.hidden = true;
        return;
      }
      row.hidden = false;
      this.fillRow(row, item, first + slot);
    });
    this.handlers.onRendered?.();
  }

  private fillRow(row: HTMLElement, item: Row, index: number): void {
    const summary = this.actors.get(item.path);
    const override = this.overrides?.[item.path];
    const state = override ?? summary?.state ?? '';
    const status = summary?.status ?? 'unknown';
    const top = `${String(index * ROW_HEIGHT)}px`;
    if (row.style.top !== top) row.style.top = top;
    if (row.dataset.path !== item.path) row.dataset.path = item.path;
    if (row.dataset.state !== state) row.dataset.state = state;
    row.dataset.kind = summary?.kind ?? 'conversation';
    row.className = [
      'row',
      `depth-${String(item.depth)}`,
      item.path === this.selected ? 'selected' : '',
      override === undefined ? '' : 'historical',
      `status-${status}`,
      summary !== undefined && isIdle(summary) ? 'idle' : '',
    ].join(' ');
    row.setAttribute('aria-selected', String(item.path === this.selected));
    const user = summary?.user_id ?? null;
    row.title = `${item.path}${user === null ? '' : `\nuser: ${user}`}\nstate: ${state}\nstatus: ${status}`;
    const [caret, dot, name, sub, count, badge] = row.children;
    if (caret !== undefined) {
      caret.textContent =
        item.children === undefined || item.children === 0
          ? ''
          : this.collapsed.has(item.path) && this.filter === ''
            ? '▸'
            : '▾';
    }
    if (dot instanceof HTMLElement) dot.title = status;
    const id = item.path.replace(/^(conversation|connection):/, '');
    // A connection reads as its user; its id stays beside it, for matching logs and frames.
    if (name !== undefined) name.textContent = user ?? id;
    if (sub !== undefined) sub.textContent = user === null ? '' : id;
    if (count !== undefined) count.textContent = item.children ? String(item.children) : '';
    if (badge !== undefined) badge.textContent = state;
  }

  private onClick(event: MouseEvent): void {
    const target = event.target instanceof Element ? event.target : null;
    const row = target?.closest<HTMLElement>('.row');
    const path = row?.dataset.path;
    if (target === null || path === undefined) return;
    if (target.classList.contains('caret') && target.textContent !== '') {
      this.toggleCollapsed(path);
      return;
    }
    this.handlers.onSelect(path);
  }

  private toggleCollapsed(path: string): void {
    if (this.collapsed.has(path)) this.collapsed.delete(path);
    else this.collapsed.add(path);
    this.scheduleRebuild();
  }

  private onKey(event: KeyboardEvent): void {
    const index = this.flat.findIndex((row) => row.path === this.selected);
    const current = this.flat[index];
    // Left folds the selected conversation's connections, right unfolds them.
    if ((event.key === 'ArrowLeft' || event.key === 'ArrowRight') && current?.children) {
      event.preventDefault();
      if (this.collapsed.has(current.path) === (event.key === 'ArrowRight')) {
        this.toggleCollapsed(current.path);
      }
      return;
    }
    if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
    event.preventDefault();
    const next = Math.max(
      0,
      Math.min(this.flat.length - 1, index + (event.key === 'ArrowDown' ? 1 : -1)),
    );
    const item = this.flat[next];
    if (item !== undefined) this.handlers.onSelect(item.path);
  }
}

/** The conversation a connection is listed under (its own group until the engine knows it). */
function groupOf(summary: ActorSummary): string {
  return summary.conversation ?? NO_CONVERSATION;
}
