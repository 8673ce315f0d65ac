/**
 * DOM helpers both pages use. Every piece of data reaches a page through `textContent` or
 * `setAttribute` (the chat page's Markdown through DOMPurify), never through `innerHTML`.
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
