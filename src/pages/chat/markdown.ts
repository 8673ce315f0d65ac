/**
 * Agent answers as Markdown: `marked` (GitHub flavour, single newlines kept as line breaks)
 * parses, raw HTML in the text is escaped so it shows as the text it is, and DOMPurify keeps only
 * the tags Markdown produces, so no message can inject markup: a `<script>` in an answer reads
 * `<script>`. Links open in a new tab without access to this page; images become links (an answer
 * must not load a tracker).
 */
import DOMPurify from 'dompurify';
import { Marked } from 'marked';

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text as HTML that shows exactly that text. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => ESCAPES[character] ?? character);
}

const markdown = new Marked({
  gfm: true,
  breaks: true,
  async: false,
  renderer: {
    // Raw HTML in a message is text, not markup.
    html: ({ text, block }) => (block ? `<p>${escapeHtml(text)}</p>` : escapeHtml(text)),
    image: ({ href, text }) => `<a href="${escapeHtml(href)}">${escapeHtml(text || href)}</a>`,
  },
});

const ALLOWED_TAGS = [
  'a',
  'blockquote',
  'br',
  'code',
  'del',
  'em',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'hr',
  'input',
  'li',
  'ol',
  'p',
  'pre',
  'strong',
  'table',
  'tbody',
  'td',
  'th',
  'thead',
  'tr',
  'ul',
];
// `class` for a code block's language, `align` for table columns, the rest for links, ordered
// lists and task-list checkboxes.
const ALLOWED_ATTR = ['href', 'title', 'class', 'align', 'start', 'type', 'checked', 'disabled'];

let hooked = false;

function purify(html: string): DocumentFragment {
  if (!hooked) {
    hooked = true;
    DOMPurify.addHook('afterSanitizeAttributes', (node) => {
      if (node instanceof HTMLAnchorElement) {
        node.target = '_blank';
        node.rel = 'noopener noreferrer nofollow';
      }
      // Task-list items only: an answer has no business putting other inputs in the page.
      if (node instanceof HTMLInputElement && node.type !== 'checkbox') node.remove();
      if (node instanceof HTMLInputElement) node.disabled = true;
    });
  }
  return DOMPurify.sanitize(html, {
    ALLOWED_TAGS,
    ALLOWED_ATTR,
    RETURN_DOM_FRAGMENT: true,
  });
}

/**
 * Replaces an element's content with `text` rendered as sanitized Markdown.
 *
 * @example
 * renderMarkdown(bubble, '**5 + 3** = 8');
 */
export function renderMarkdown(element: Element, text: string): void {
  element.replaceChildren(purify((markdown.parse(text) as string).trim()));
}
