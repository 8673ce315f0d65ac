/**
 * The actor tree: every actor the engine reported (pages of `list`, then `actors.changed`
 * deltas), shown as one flat list (each conversation followed by its connections) in a
 * virtualized viewport: only the visible rows exist in the DOM, so 10,000+ actors stay fast.
 */
import { frameThrottle, h } from './dom.js';

/** Height of a row in px; fixed so the visible range is a division. */
export const ROW_HEIGHT = 26;
const OVERSCAN = 8;

/** The actor list model and its virtualized view. */
export class ActorTree {
  /**
   * @param {HTMLElement} viewport the scrolling element (`data-testid="actor-tree"`)
   * @param {{ onSelect: (path: string) => void, onRendered?: () => void }} handlers
   */
  constructor(viewport, handlers) {
    this.viewport = viewport;
    this.handlers = handlers;
    this.spacer = h('div', { class: 'tree-spacer' });
    this.layer = h('div', { class: 'tree-rows', role: 'listbox', 'aria-label': 'Actors' });
    this.spacer.append(this.layer);
    viewport.append(this.spacer);
    /** @type {HTMLElement[]} */
    this.rowPool = [];
    this.filter = '';
    this.selected = null;
    /** path → state shown instead of the live one (time travel). */
    this.overrides = null;
    this.collapsed = new Set();
    this.reset();
    this.scheduleRender = frameThrottle(() => this.render());
    this.scheduleRebuild = frameThrottle(() => {
      this.rebuild();
      this.render();
    });
    viewport.addEventListener('scroll', this.scheduleRender, { passive: true });
    new ResizeObserver(this.scheduleRender).observe(viewport);
    viewport.addEventListener('click', (event) => this.onClick(event));
    viewport.addEventListener('keydown', (event) => this.onKey(event));
  }

  /** Forgets every actor (on reconnect). */
  reset() {
    /** @type {Map<string, object>} */
    this.actors = new Map();
    /** conversation path → its connection paths */
    this.connectionsOf = new Map();
    /** Paths removed while the list was still loading: a late page must not bring them back. */
    this.removedWhileLoading = new Set();
    this.loading = true;
    this.total = 0;
    /** @type {{ path: string, depth: number }[]} */
    this.flat = [];
  }

  /** The summary of an actor, if known. */
  get(path) {
    return this.actors.get(path);
  }

  /** Applies one page of `list`; returns the offset of the next page, or null when complete. */
  applyPage(message) {
    this.total = message.total;
    for (const summary of message.actors) {
      if (this.removedWhileLoading.has(summary.path)) continue;
      const known = this.actors.get(summary.path);
      if (known && known.updated_at > summary.updated_at) continue;
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
  applyChanges(message) {
    let structural = message.added.length > 0 || message.removed.length > 0;
    for (const summary of message.added) this.put(summary);
    for (const summary of message.updated) {
      const known = this.actors.get(summary.path);
      if (!known || known.conversation !== summary.conversation) structural = true;
      this.put(summary);
    }
    for (const path of message.removed) {
      const known = this.actors.get(path);
      if (this.loading) this.removedWhileLoading.add(path);
      if (!known) continue;
      this.actors.delete(path);
      const group = this.groupOf(known);
      this.connectionsOf.get(group)?.delete(path);
      if (known.kind === 'conversation' && this.connectionsOf.get(path)?.size === 0) {
        this.connectionsOf.delete(path);
      }
    }
    if (structural || this.filter !== '') this.scheduleRebuild();
    else this.scheduleRender();
  }

  put(summary) {
    const known = this.actors.get(summary.path);
    if (known && known.kind === 'connection' && this.groupOf(known) !== this.groupOf(summary)) {
      this.connectionsOf.get(this.groupOf(known))?.delete(summary.path);
    }
    this.actors.set(summary.path, summary);
    if (summary.kind === 'connection') {
      const group = this.groupOf(summary);
      let set = this.connectionsOf.get(group);
      if (!set) this.connectionsOf.set(group, (set = new Set()));
      set.add(summary.path);
    }
  }

  /** The conversation a connection is listed under (its own group until the engine knows it). */
  groupOf(summary) {
    return summary.conversation ?? '(no conversation yet)';
  }

  /** Shows only actors whose path or state contains `text` (and the conversations around them). */
  setFilter(text) {
    this.filter = text.trim().toLowerCase();
    this.viewport.scrollTop = 0;
    this.scheduleRebuild();
  }

  /** Marks the selected row and scrolls it into view. */
  setSelected(path) {
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
  setOverrides(states) {
    this.overrides = states;
    this.scheduleRender();
  }

  /** Rebuilds the flat row list from the model, the filter and the collapsed groups. */
  rebuild() {
    const filter = this.filter;
    const matches = (path) => {
      if (filter === '') return true;
      if (path.toLowerCase().includes(filter)) return true;
      const state = this.actors.get(path)?.state;
      return state !== undefined && state.toLowerCase().includes(filter);
    };
    const roots = [];
    const groups = new Set(this.connectionsOf.keys());
    for (const summary of this.actors.values()) {
      if (summary.kind === 'root') roots.push(summary.path);
      else if (summary.kind === 'conversation') groups.add(summary.path);
    }
    const byPath = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
    const flat = [];
    for (const path of roots.sort(byPath)) if (matches(path)) flat.push({ path, depth: 0 });
    for (const group of [...groups].sort(byPath)) {
      const connections = [...(this.connectionsOf.get(group) ?? [])].sort(byPath);
      const groupMatches = matches(group);
      const shown = groupMatches ? connections : connections.filter(matches);
      if (!groupMatches && shown.length === 0) continue;
      flat.push({ path: group, depth: 0, children: connections.length });
      if (filter === '' && this.collapsed.has(group)) continue;
      for (const path of shown) flat.push({ path, depth: 1 });
    }
    this.flat = flat;
    this.spacer.style.height = `${flat.length * ROW_HEIGHT}px`;
  }

  /** Renders the rows in view (plus a few either side), reusing row elements. */
  render() {
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
        h('span', { class: 'count' }),
        h('span', { class: 'badge' }),
      );
      this.rowPool.push(row);
      this.layer.append(row);
    }
    for (let slot = 0; slot < this.rowPool.length; slot += 1) {
      const row = this.rowPool[slot];
      if (slot >= count) {
        if (!row.hidden) row.hidden = true;
        continue;
      }
      row.hidden = false;
      this.fillRow(row, this.flat[first + slot], first + slot);
    }
    this.handlers.onRendered?.();
  }

  fillRow(row, item, index) {
    const summary = this.actors.get(item.path);
    const override = this.overrides?.[item.path];
    const state = override ?? summary?.state ?? '';
    const status = summary?.status ?? 'unknown';
    const top = `${index * ROW_HEIGHT}px`;
    if (row.style.top !== top) row.style.top = top;
    if (row.dataset.path !== item.path) row.dataset.path = item.path;
    if (row.dataset.state !== state) row.dataset.state = state;
    row.dataset.kind = summary?.kind ?? 'conversation';
    row.className = [
      'row',
      `depth-${item.depth}`,
      item.path === this.selected ? 'selected' : '',
      override !== undefined ? 'historical' : '',
      `status-${status}`,
    ].join(' ');
    row.setAttribute('aria-selected', String(item.path === this.selected));
    row.title = `${item.path}\nstate: ${state}\nstatus: ${status}`;
    const [caret, dot, name, count, badge] = row.children;
    caret.textContent =
      item.children === undefined || item.children === 0
        ? ''
        : this.collapsed.has(item.path) && this.filter === ''
          ? '▸'
          : '▾';
    dot.title = status;
    name.textContent = item.path.replace(/^(conversation|connection):/, '');
    count.textContent = item.children ? String(item.children) : '';
    badge.textContent = state;
  }

  onClick(event) {
    const row = event.target.closest('.row');
    if (!row) return;
    const path = row.dataset.path;
    if (event.target.classList.contains('caret') && event.target.textContent !== '') {
      if (this.collapsed.has(path)) this.collapsed.delete(path);
      else this.collapsed.add(path);
      this.scheduleRebuild();
      return;
    }
    this.handlers.onSelect(path);
  }

  onKey(event) {
    if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
    event.preventDefault();
    const index = this.flat.findIndex((row) => row.path === this.selected);
    const next = Math.max(
      0,
      Math.min(this.flat.length - 1, index + (event.key === 'ArrowDown' ? 1 : -1)),
    );
    const item = this.flat[next];
    if (item) this.handlers.onSelect(item.path);
  }
}
