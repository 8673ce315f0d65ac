/**
 * The "Context" tab: a collapsible JSON tree of an actor's context, annotated with its diff
 * against the previous snapshot (added, removed and changed keys highlighted, and listed).
 */
import { clear, h, preview } from './dom.js';

const MAX_LISTED_CHANGES = 60;

type Container = Record<string, unknown>;

/** One difference between two JSON values. */
export interface JsonChange {
  path: string;
  change: 'added' | 'removed' | 'changed';
  before?: unknown;
  after?: unknown;
}

/** How a node of the tree compares with the previous snapshot. */
type NodeStatus = 'same' | 'inner' | 'changed' | 'added' | 'removed';

const isContainer = (value: unknown): value is Container =>
  typeof value === 'object' && value !== null;
const same = (a: unknown, b: unknown) =>
  a === b || (isContainer(a) && isContainer(b) && JSON.stringify(a) === JSON.stringify(b));

/** Every difference between two JSON values. */
export function diffJson(before: unknown, after: unknown, path = ''): JsonChange[] {
  if (same(before, after)) return [];
  if (
    !isContainer(before) ||
    !isContainer(after) ||
    Array.isArray(before) !== Array.isArray(after)
  ) {
    return [{ path: path === '' ? '(root)' : path, change: 'changed', before, after }];
  }
  const changes: JsonChange[] = [];
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  for (const key of keys) {
    const child = Array.isArray(after) ? `${path}[${key}]` : path === '' ? key : `${path}.${key}`;
    if (!(key in after)) changes.push({ path: child, change: 'removed', before: before[key] });
    else if (!(key in before)) changes.push({ path: child, change: 'added', after: after[key] });
    else changes.push(...diffJson(before[key], after[key], child));
  }
  return changes;
}

const MARKS = { added: '+', removed: '−', changed: '~' } as const;

/** The context viewer. */
export class ContextView {
  constructor(private readonly container: HTMLElement) {}

  /**
   * Shows a context; with `previous`, highlights what changed since it.
   *
   * @param title what is shown (`conversation:demo`, `at seq 12`)
   */
  show(title: string, context: unknown, previous: unknown): void {
    clear(this.container);
    this.container.append(h('div', { class: 'context-title', text: title }));
    if (context === undefined) {
      this.container.append(h('p', { class: 'muted', text: 'No context received yet.' }));
      return;
    }
    const hasPrevious = previous !== undefined;
    const changes = hasPrevious ? diffJson(previous, context) : [];
    const summary = h('div', { class: 'diff-summary' });
    if (!hasPrevious) {
      summary.append(h('span', { class: 'muted', text: 'No previous snapshot to compare with.' }));
    } else if (changes.length === 0) {
      summary.append(h('span', { class: 'muted', text: 'No change since the previous snapshot.' }));
    } else {
      summary.append(
        h('strong', {
          text: `${String(changes.length)} change${changes.length === 1 ? '' : 's'} since the previous snapshot`,
        }),
        changeList(changes),
      );
    }
    this.container.append(summary);
    const tree = h('div', { class: 'json-tree' });
    if (isContainer(context)) renderEntries(tree, context, hasPrevious ? previous : context, 0);
    else tree.append(valueElement(context));
    this.container.append(tree);
  }
}

function changeList(changes: JsonChange[]): HTMLElement {
  const list = h('ul', { class: 'diff-list' });
  for (const change of changes.slice(0, MAX_LISTED_CHANGES)) {
    const item = h(
      'li',
      { class: `diff-${change.change}` },
      h('code', { text: `${MARKS[change.change]} ${change.path}` }),
    );
    if (change.change === 'changed') {
      item.append(
        ' ',
        h('span', { class: 'old', text: preview(change.before, 60) }),
        ' → ',
        h('span', { class: 'new', text: preview(change.after, 60) }),
      );
    } else {
      const added = change.change === 'added';
      item.append(
        ' ',
        h('span', {
          class: added ? 'new' : 'old',
          text: preview(added ? change.after : change.before, 60),
        }),
      );
    }
    list.append(item);
  }
  if (changes.length > MAX_LISTED_CHANGES) {
    list.append(
      h('li', {
        class: 'muted',
        text: `… ${String(changes.length - MAX_LISTED_CHANGES)} more`,
      }),
    );
  }
  return list;
}

function renderEntries(parent: HTMLElement, value: Container, previous: unknown, depth: number) {
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
    if (!keys.has(key) && isContainer(previous)) {
      parent.append(renderNode(key, previous[key], undefined, 'removed', depth));
    }
  }
}

function renderNode(
  key: string,
  value: unknown,
  previous: unknown,
  forced: 'added' | 'removed' | undefined,
  depth: number,
): HTMLElement {
  const status: NodeStatus =
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
        h('span', {
          class: 'punct',
          text: Array.isArray(value) ? ` [${String(size)}]` : ` {${String(size)}}`,
        }),
      ),
    );
    // Children are built when first opened: a big context stays cheap to show.
    const fillChildren = () => {
      if (details.dataset.filled !== undefined) return;
      details.dataset.filled = '1';
      const body = h('div', { class: 'children' });
      renderEntries(body, value, status === 'added' ? value : previous, depth + 1);
      details.append(body);
    };
    if (details.open) fillChildren();
    else details.addEventListener('toggle', fillChildren, { once: true });
    return details;
  }
  const leaf = h(
    'div',
    { class: `leaf diff-${status}` },
    keyElement,
    h('span', { class: 'punct', text: ': ' }),
  );
  leaf.append(valueElement(value));
  if (status === 'changed') {
    leaf.append(h('span', { class: 'was', text: ` (was ${preview(previous, 80)})` }));
  }
  return leaf;
}

function valueElement(value: unknown): HTMLElement {
  const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  const text =
    typeof value === 'string'
      ? JSON.stringify(value)
      : isContainer(value)
        ? preview(value, 200)
        : String(value);
  return h('span', { class: `value type-${type}`, text });
}
