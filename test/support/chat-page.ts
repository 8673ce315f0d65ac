/**
 * Driving the chat page (`GET /`) in Chromium: opening a conversation by its link, sending as a
 * person does (type, Enter), and recording what the page showed between two WebSocket messages.
 * Page-side code is given as strings: the project compiles without the DOM lib.
 */
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { expect } from 'vitest';

/** Where browser tests leave their screenshots (docs/images keeps the good ones). */
export const RESULTS = fileURLToPath(new URL('../../test-results/', import.meta.url));

/** An agent answer the page finished showing. */
export const COMPLETED_ANSWER = '[data-testid=agent-message][data-status=completed]';

/** A chat page and every error it reported (uncaught exceptions, console errors). */
export interface ChatPage {
  page: Page;
  errors: string[];
}

/** The chat page's link for a conversation and a user. */
export function chatLink(baseUrl: string, conversationId: string, userId?: string): string {
  const query = new URLSearchParams({ conversation: conversationId });
  if (userId !== undefined) query.set('user', userId);
  return `${baseUrl}/?${query.toString()}`;
}

/** Opens a page of `context` and watches its errors, without navigating. */
export async function newChatPage(context: BrowserContext): Promise<ChatPage> {
  await mkdir(RESULTS, { recursive: true });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  return { page, errors };
}

/** Opens a conversation's link and waits until the page has joined it (no click needed). */
export async function openChat(
  context: BrowserContext,
  baseUrl: string,
  conversationId: string,
  userId: string,
): Promise<ChatPage> {
  const chat = await newChatPage(context);
  await chat.page.goto(chatLink(baseUrl, conversationId, userId));
  await chat.page.waitForSelector('[data-testid=status][data-state=connected]');
  return chat;
}

/**
 * Waits until a page-side expression is true. (Not `page.waitForFunction`: it polls with `eval`
 * inside the page, which the chat page's Content-Security-Policy forbids, as it should.)
 */
export async function waitUntil(page: Page, expression: string, timeout = 10_000): Promise<void> {
  await expect.poll(() => page.evaluate<boolean>(expression), { timeout, interval: 20 }).toBe(true);
}

/** Types a message and presses Enter, as a person would. */
export async function sendMessage(page: Page, text: string): Promise<void> {
  await page.fill('[data-testid=message-input]', text);
  await page.press('[data-testid=message-input]', 'Enter');
}

/** What an agent answer looked like at one moment. */
export interface AgentSnapshot {
  turnId: string;
  status: string;
  text: string;
  /** Whether the message list was scrolled to its end then. */
  atBottom: boolean;
  /** Whether the list had more content than fits (so being at the end means something). */
  overflowing: boolean;
}

// A MutationObserver sees every change between two WebSocket messages, so it records each
// streamed state, and where the list was scrolled right after the page handled it.
const RECORD_AGENT_MESSAGES = `(() => {
  const snapshots = (window.__agentSnapshots = []);
  const list = document.querySelector('[data-testid=messages]');
  const scroller = document.querySelector('[data-testid=scroller]');
  new MutationObserver(() => {
    for (const bubble of list.querySelectorAll('[data-testid=agent-message]')) {
      const snapshot = {
        turnId: bubble.dataset.turnId,
        status: bubble.dataset.status,
        text: bubble.querySelector('.text').textContent,
        atBottom: scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 2,
        overflowing: scroller.scrollHeight > scroller.clientHeight,
      };
      const last = snapshots.findLast((s) => s.turnId === snapshot.turnId);
      if (!last || last.status !== snapshot.status || last.text !== snapshot.text) snapshots.push(snapshot);
    }
  }).observe(list, { childList: true, subtree: true, characterData: true, attributes: true });
})()`;

/** Starts recording the agent answers; the function returns what was recorded so far. */
export async function recordAgentMessages(page: Page): Promise<() => Promise<AgentSnapshot[]>> {
  await page.evaluate(RECORD_AGENT_MESSAGES);
  return () => page.evaluate<AgentSnapshot[]>('window.__agentSnapshots');
}

/** The partial answers a page showed while the answer was still streaming. */
export function streamedPrefixes(snapshots: AgentSnapshot[], finalText: string): string[] {
  return snapshots
    .filter((snapshot) => snapshot.status === 'streaming' && snapshot.text.length > 0)
    .map((snapshot) => snapshot.text)
    .filter((text) => text.length < finalText.length && finalText.startsWith(text));
}

/** The texts of the user messages shown, top to bottom. */
export function userMessages(page: Page): Promise<string[]> {
  return page.evaluate<string[]>(
    `[...document.querySelectorAll('[data-testid=user-message] .text')].map((node) => node.textContent)`,
  );
}
