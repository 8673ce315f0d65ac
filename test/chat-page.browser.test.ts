/**
 * The chat test page served at `GET /`, driven in real headless Chromium (playwright-core).
 *
 * Needs Chromium at /usr/bin/chromium (`apt-get install chromium`). Without it the suite is
 * skipped locally and fails in CI (`CI=true`), so a CI image without a browser cannot pass silently.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../src/server/server.js';
import { browserSuiteRuns, launchChromium } from './support/browser.js';

const SCREENSHOT_PATH = fileURLToPath(new URL('../test-results/chat-page.png', import.meta.url));

/** What an agent bubble looked like at one DOM mutation. */
interface AgentSnapshot {
  turnId: string;
  status: string;
  text: string;
}

// Runs in the page (the project compiles without the DOM lib, hence a string). A MutationObserver
// sees every change between two WebSocket messages, so it records each streamed state.
const RECORD_AGENT_MESSAGES = `(() => {
  const snapshots = (window.__agentSnapshots = []);
  const list = document.querySelector('[data-testid=messages]');
  new MutationObserver(() => {
    for (const bubble of list.querySelectorAll('[data-testid=agent-message]')) {
      const snapshot = {
        turnId: bubble.dataset.turnId,
        status: bubble.dataset.status,
        text: bubble.querySelector('.text').textContent,
      };
      const last = snapshots.findLast((s) => s.turnId === snapshot.turnId);
      if (!last || last.status !== snapshot.status || last.text !== snapshot.text) snapshots.push(snapshot);
    }
  }).observe(list, { childList: true, subtree: true, characterData: true, attributes: true });
})()`;

async function recordAgentMessages(page: Page): Promise<() => Promise<AgentSnapshot[]>> {
  await page.evaluate(RECORD_AGENT_MESSAGES);
  return () => page.evaluate<AgentSnapshot[]>('window.__agentSnapshots');
}

/** The partial answers a page showed while the bubble was still streaming. */
function streamedPrefixes(snapshots: AgentSnapshot[], finalText: string): string[] {
  return snapshots
    .filter((snapshot) => snapshot.status === 'streaming' && snapshot.text.length > 0)
    .map((snapshot) => snapshot.text)
    .filter((text) => text.length < finalText.length && finalText.startsWith(text));
}

describe.runIf(browserSuiteRuns('chat page browser tests'))('chat page in Chromium', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  let browser: Browser;
  let context: BrowserContext | undefined;
  const pageErrors: Error[] = [];

  beforeAll(async () => {
    server = await startServer({
      config: { port: 0, host: '127.0.0.1', tokenPacingMs: 5, logLevel: 'warn' },
    });
    browser = await launchChromium();
  });

  afterEach(async () => {
    await context?.close();
    context = undefined;
    pageErrors.length = 0;
  });

  afterAll(async () => {
    // Both may be unset when beforeAll failed half-way.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    await browser?.close();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    await server?.close();
  });

  async function openChat(conversationId: string, userId: string): Promise<Page> {
    context ??= await browser.newContext({ viewport: { width: 1000, height: 720 } });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (error) => pageErrors.push(error));
    await page.goto(`${server.url}/`);
    await page.fill('#conversation', conversationId);
    await page.fill('#user', userId);
    await page.click('[data-testid=connect]');
    await page.waitForSelector('[data-testid=status][data-state=connected]');
    return page;
  }

  it('streams a tool-using answer into the page as tokens arrive', async () => {
    const page = await openChat(`browser-${Date.now().toString(36)}`, 'alice');
    const snapshots = await recordAgentMessages(page);

    await page.fill('[data-testid=message-input]', 'What is 5 + 3?');
    await page.press('[data-testid=message-input]', 'Enter');

    const answer = await page.waitForSelector(
      '[data-testid=agent-message][data-status=completed] .text',
    );
    const finalText = (await answer.textContent()) ?? '';
    expect(finalText).toContain('8');

    const card = page.locator('[data-testid=tool-call]');
    await expect.poll(() => card.getAttribute('data-ok')).toBe('true');
    expect(await card.locator('.call').textContent()).toContain('calculator(');
    expect(await card.locator('.value').textContent()).toMatch(/\b8\b/);
    expect(await card.getAttribute('data-tool-call-id')).toBeTruthy();

    // Live streaming: the bubble showed several growing prefixes before it was finalised.
    const prefixes = streamedPrefixes(await snapshots(), finalText);
    expect(new Set(prefixes).size).toBeGreaterThanOrEqual(2);

    await expect
      .poll(() => page.locator('[data-testid=user-message].own .text').textContent())
      .toBe('What is 5 + 3?');
    expect(Number(await page.locator('[data-testid=seq]').textContent())).toBeGreaterThan(0);
    expect(await page.locator('[data-testid=cancel]').isDisabled()).toBe(true);
    expect(await page.locator('[data-testid=message-input]').inputValue()).toBe('');

    await mkdir(dirname(SCREENSHOT_PATH), { recursive: true });
    await page.screenshot({ path: SCREENSHOT_PATH, fullPage: true });
    expect(pageErrors).toEqual([]);
  });

  it('shows the same streamed answer to two participants of one conversation', async () => {
    const conversationId = `pair-${Date.now().toString(36)}`;
    const alice = await openChat(conversationId, 'alice');
    const bob = await openChat(conversationId, 'bob');
    const participants = alice.locator('[data-testid=participants]');
    await expect.poll(() => participants.textContent()).toContain('bob');
    const aliceSnapshots = await recordAgentMessages(alice);
    const bobSnapshots = await recordAgentMessages(bob);

    await alice.fill('[data-testid=message-input]', 'What is 5 + 3?');
    await bob.waitForSelector('[data-testid=typing]:has-text("alice is typing")');
    await alice.click('[data-testid=send]');

    const selector = '[data-testid=agent-message][data-status=completed] .text';
    const [aliceText, bobText] = await Promise.all(
      [alice, bob].map(async (page) => (await page.waitForSelector(selector)).textContent()),
    );
    expect(aliceText).toContain('8');
    expect(bobText).toBe(aliceText);

    for (const [page, snapshots] of [
      [alice, aliceSnapshots],
      [bob, bobSnapshots],
    ] as const) {
      const message = page.locator('[data-testid=user-message]');
      expect(await message.getAttribute('data-user-id')).toBe('alice');
      expect(await message.locator('.text').textContent()).toBe('What is 5 + 3?');
      expect(new Set(streamedPrefixes(await snapshots(), aliceText ?? '')).size).toBeGreaterThan(1);
    }
    expect(await alice.locator('[data-testid=user-message]').getAttribute('class')).toContain(
      'own',
    );
    expect(await bob.locator('[data-testid=user-message]').getAttribute('class')).not.toContain(
      'own',
    );
    await expect.poll(() => bob.locator('[data-testid=typing]').textContent()).toBe('');
    expect(pageErrors).toEqual([]);
  });
});
