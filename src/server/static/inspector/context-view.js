/**
 * The "Context" tab: a collapsible JSON tree of an actor's context, annotated with its diff
 * against the previous snapshot (added, removed and changed keys highlighted, and listed).
 */
import { clear, h, preview } from './dom.js';

const MAX_LISTED_CHANGES = 60;

const isContainer = (value) => typeof value === 'object' && value !== null;
const same = (a, b) =>
  a === b || (isContainer(a) && isContainer(b) && JSON.stringify(a) === JSON.stringify(b));

/** Every difference between two JSON values, as `{ path, change, before, after }`. */
export function diffJson(before, after, path = '') {
  if (same(before, after)) return [];
  if (
    !isContainer(before) ||
    !isContainer(after) ||
    Array.isArray(before) !== Array.isArray(after)
  ) {
    return [{ path: path || '(root)', change: 'changed', before, after }];
  }
  const changes = [];
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  for (const key of keys) {
    const child = Array.isArray(after) ? `${path}[${key}]` : path === '' ? key : `${path}.${key}`;
    if (!(key in after)) changes.push({ path: child, change: 'removed', before: before[key] });
    else if (!(key in before)) changes.push({ path: child, change: 'added', after: after[key] });
    else changes.push(...diffJson(before[key], after[key], child));
  }
  return changes;
}

/** The context viewer. */
export class ContextView {
  /** @param {HTMLElement} container (`data-testid="context"`) */
  constructor(container) {
    this.container = container;
  }

  /**
   * Shows a context; with `previous`, highlights what changed since it.
   *
   * @param {string} title what is shown (`conversation:demo`, `at seq 12`)
   */
  show(title, context, previous) {
    clear(this.container);
    this.container.append(h('div', { class: 'context-title', text: title }));
    if (context === undefined) {
      this.container.append(h('p', { class: 'muted', text: 'No context received yet.' }));
      return;
    }
    const hasPrevious = previous !== undefined;
    const changes = hasPrevious ? diffJson(previous, context) : [];
    const summary = h('div', { class: 'diff-summary' });
    if (!hasPrevious)
      summary.append(h('span', { class: 'muted', text: 'No previous snapshot to compare with.' }));
    else if (changes.length === 0)
      summary.append(h('span', { class: 'muted', text: 'No change since the previous snapshot.' }));
    else {
      summary.append(
        h('strong', {
          text: `${changes.length} change${changes.length === 1 ? '' : 's'} since the previous snapshot`,
        }),
      );
      const list = h('ul', { class: 'diff-list' });
      for (const change of changes.slice(0, MAX_LISTED_CHANGES)) {
        const mark = { added: '+', removed: '−', changed: '~' }[change.change];
        const item = h(
          'li',
          { class: `diff-${change.change}` },
          h('code', { text: `${mark} ${change.path}` }),
        );
        if (change.change === 'changed') {
          item.append(
            ' ',
            h('span', { class: 'old', text: preview(change.before, 60) }),
            ' → ',
            h('span', { class: 'new', text: preview(change.after, 60) }),
          );
        } else
          item.append(
            ' ',
            h('span', {
              class: change.change === 'added' ? 'new' : 'old',
              text: preview(change.change === 'added' ? change.after : change.before, 60),
            }),
          );
        list.append(item);
      }
      if (changes.length > MAX_LISTED_CHANGES)
        list.append(
          h('li', { class: 'muted', text: `… ${changes.length - MAX_LISTED_CHANGES} more` }),
        );
      summary.append(list);
    }
    this.container.append(summary);
    const tree = h('div', { class: 'json-tree' });
    renderEntries(tree, context, hasPrevious ? previous : context, 0);
    this.container.append(tree);
  }
}

function renderEntries(parent, value, previous, depth) {
  const isArray = Array.isArray(value);
  const keys = new Set(Object.keys(value));
  const previousKeys =
    isContainer(previous) && Array.isArray(previous) === isArray ? Object.keys(previous) : [];
  for (const key of Object.keys(value)) {
    const inPrevious = isContainer(previous) && key in previous;
    parent.append(
      renderNode(
        key,
        value[key],
        inPrevious ? previous[key] : undefined,
        inPrevious ? undefined : 'added',
        depth,
      ),
    );
  }
  for (const key of previousKeys) {
    if (!keys.has(key)) parent.append(renderNode(key, previous[key], undefined, 'removed', depth));
  }
}

function renderNode(key, value, previous, forced, depth) {
  const status =
    forced ??
    (same(value, previous)
      ? 'same'
      : isContainer(value) && isContainer(previous)
        ? 'inner'
        : 'changed');
  const keyElement = h('span', { class: 'key', text: key });
  if (isContainer(value) && forced !== 'removed') {
    const size = Object.keys(value).length;
    const details = h('details', { class: `node diff-${status}` });
    if (depth < 1 || status === 'inner' || status === 'added') details.open = true;
    details.append(
      h(
        'summary',
        {},
        keyElement,
        h('span', { class: 'punct', text: Array.isArray(value) ? ` [${size}]` : ` {${size}}` }),
      ),
    );
    // Children are built when first opened: a big context stays cheap to show.
    const fill = () => {
      if (details.dataset.filled) return;
      details.dataset.filled = '1';
      const body = h('div', { class: 'children' });
      renderEntries(body, value, status === 'added' ? value : previous, depth + 1);
      details.append(body);
    };
    if (details.open) fill();
    else details.addEventListener('toggle', fill, { once: true });
    return details;
  }
  const leaf = h(
    'div',
    { class: `leaf diff-${status}` },
    keyElement,
    h('span', { class: 'punct', text: ': ' }),
  );
  leaf.append(valueElement(value));
  if (status === 'changed')
    leaf.append(h('span', { class: 'was', text: ` (was ${preview(previous, 80)})` }));
  return leaf;
}

function valueElement(value) {
  const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  const text =
    type === 'string'
      ? JSON.stringify(value)
      : isContainer(value)
        ? preview(value, 200)
        : String(value);
  return h('span', { class: `value type-${type}`, text });
}
