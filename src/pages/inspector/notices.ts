/**
 * The page's own messages: the status pill in the header, error lines under it (at most three,
 * each dismissable), and a short notice in the corner.
 */
import { byId, byTestId, h } from './dom.js';

const MAX_ERRORS = 3;
const NOTICE_MS = 3000;

let noticeTimer: ReturnType<typeof setTimeout> | undefined;

/** Sets the status pill (`data-state` for its colour, and its text). */
export function setStatus(state: string, text: string): void {
  const status = byTestId('status');
  status.dataset.state = state;
  status.textContent = text;
}

/** Adds an error line under the header; the oldest go once there are more than three. */
export function showError(text: string): void {
  const errors = byId('errors');
  const item = h(
    'div',
    { class: 'error' },
    h('span', { text }),
    h('button', {
      class: 'link',
      text: 'dismiss',
      onclick: () => {
        item.remove();
      },
    }),
  );
  errors.append(item);
  while (errors.children.length > MAX_ERRORS) errors.firstElementChild?.remove();
}

/** Shows a short notice for three seconds. */
export function notice(text: string): void {
  const element = byId('notice');
  element.textContent = text;
  element.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => {
    element.hidden = true;
  }, NOTICE_MS);
}
