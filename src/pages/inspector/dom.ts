/**
 * Small DOM helpers for the inspector page. Every piece of data reaches the page through
 * `textContent` or `setAttribute`, never `innerHTML`.
 */

const SVG_NS = 'http://www.w3.org/2000/svg';

/** What `h` and `s` accept as attributes: `text`, `class`, `on<event>` listeners, the rest as is. */
export type Attributes = Record<
  string,
  string | number | boolean | null | undefined | ((event: Event) => void)
>;

/** A child: a node, or text; `null`, `undefined` and `false` are skipped. */
export type Child = Node | string | number | null | undefined | false | Child[];

/**
 * Creates an HTML element. `attrs` keys starting with `on` become listeners, `text` sets the
 * text content, `class` the class name, anything else an attribute.
 *
 * @example
 * h('button', { class: 'small', onclick: go, text: 'Go' })
 */
export function h<TTag extends keyof HTMLElementTagNameMap>(
  tag: TTag,
  attrs: Attributes = {},
  ...children: Child[]
): HTMLElementTagNameMap[TTag] {
  return fill(document.createElement(tag), attrs, children);
}

/** Creates an SVG element, like `h`. */
export function s<TTag extends keyof SVGElementTagNameMap>(
  tag: TTag,
  attrs: Attributes = {},
  ...children: Child[]
): SVGElementTagNameMap[TTag] {
  return fill(document.createElementNS(SVG_NS, tag), attrs, children);
}

function fill<TElement extends Element>(
  element: TElement,
  attrs: Attributes,
  children: Child[],
): TElement {
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'text') element.textContent = String(value);
    else if (typeof value === 'function') element.addEventListener(key.slice(2), value);
    else element.setAttribute(key, value === true ? '' : String(value));
  }
  appendChildren(element, children);
  return element;
}

function appendChildren(element: Element, children: Child[]): void {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) appendChildren(element, child);
    else element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Removes every child of an element. */
export function clear(element: Element): void {
  element.replaceChildren();
}

/** An element class (`HTMLInputElement`, `SVGSVGElement`), to check what the page holds. */
export type ElementClass<TElement extends Element> = abstract new (...args: never[]) => TElement;

/**
 * The element with this `data-testid`, of this class; throws when the page lacks it or it is of
 * another class (a page and script that disagree).
 *
 * @example
 * byTestId('timeline-slider', HTMLInputElement).value
 */
export function byTestId<TElement extends Element = HTMLElement>(
  testId: string,
  type: ElementClass<TElement> = HTMLElement as unknown as ElementClass<TElement>,
): TElement {
  return required(document.querySelector(`[data-testid="${testId}"]`), type, testId);
}

/** The element with this id, of this class; throws as {@link byTestId} does. */
export function byId<TElement extends Element = HTMLElement>(
  id: string,
  type: ElementClass<TElement> = HTMLElement as unknown as ElementClass<TElement>,
): TElement {
  return required(document.getElementById(id), type, `#${id}`);
}

function required<TElement extends Element>(
  element: Element | null,
  type: ElementClass<TElement>,
  name: string,
): TElement {
  if (!(element instanceof type)) {
    throw new Error(`The page has no ${name} element of the class ${type.name}.`);
  }
  return element;
}

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

/** A one-line JSON preview, cut at `max` characters. */
export function preview(value: unknown, max = 120): string {
  // `unknown`: JSON.stringify gives undefined for undefined and functions, whatever its type says.
  let text: unknown;
  try {
    text = typeof value === 'string' ? value : JSON.stringify(value);
  } catch {
    text = String(value);
  }
  if (typeof text !== 'string') return '';
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
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

/** A plain object's field, or undefined: reading JSON of unknown shape without casts everywhere. */
export function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

/** A field that is a string, or undefined. */
export function stringField(value: unknown, key: string): string | undefined {
  const found = field(value, key);
  return typeof found === 'string' ? found : undefined;
}
