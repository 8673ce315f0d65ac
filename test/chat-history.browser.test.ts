/**
 * The chat page and time, in real headless Chromium: a conversation's past shown on joining and
 * after a reload, older history paged in as the reader scrolls up, a long streaming answer kept
 * in view unless the reader scrolled away, and a server restart resumed without a gap.
 *
 * Needs Chromium at /usr/bin/chromium (see test/support/browser.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../src/server/server.js';
import { browserSuiteRuns, launchChromium } from './support/browser.js';
import {
  COMPLETED_ANSWER,
  openChat,
  recordAgentMessages,
  RESULTS,
  sendMessage,
  userMessages,
  waitUntil,
} from './support/chat-page.js';
import { connectClient } from './support/test-client.js';
import { createScriptedModel } from './support/test-models.js';
import { startTestServer } from './support/test-server.js';

/** Where the message list is scrolled: its top, and how far its end is below the view. */
function scrollState(page: Page): Promise<{ top: number; fromBottom: number }> {
  return page.evaluate<{ top: number; fromBottom: number }>(`(() => {
    const scroller = document.querySelector('[data-testid=scroller]');
    return {
      top: scroller.scrollTop,
      fromBottom: scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight,
    };
  })()`);
}

/** Scrolls the message list as the reader would with the wheel (a scroll event follows). */
async function scrollTo(page: Page, top: number): Promise<void> {
  await page.evaluate(
    `document.querySelector('[data-testid=scroller]').scrollTop = ${String(top)}`,
  );
}

/** A long Markdown answer: numbered paragraphs, so any part of it can be found again. */
const LONG_ANSWER = Array.from(
  { length: 60 },
  (_, index) => `Paragraph ${String(index + 1)} of a long answer, long enough to need scrolling.`,
).join('\n\n');

describe.runIf(browserSuiteRuns('chat history browser tests'))(
  'the chat page over time, in Chromium',
  () => {
    let browser: Browser;
    let context: BrowserContext | undefined;
    const directories: string[] = [];

    beforeAll(async () => {
      browser = await launchChromium();
    });

    afterEach(async () => {
      await context?.close();
      context = undefined;
      for (const directory of directories.splice(0)) {
        rmSync(directory, { recursive: true, force: true });
      }
    });

    afterAll(async () => {
      // Unset when beforeAll failed half-way.
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
      await browser?.close();
    });

    async function newContext(): Promise<BrowserContext> {
      context = await browser.newContext({ viewport: { width: 1000, height: 720 } });
      return context;
    }

    it('shows the conversation as it was after a reload, own messages still marked as own', async () => {
      const server = await startTestServer();
      const { page, errors } = await openChat(await newContext(), server.url, 'reload', 'alice');
      await sendMessage(page, 'What is 5 + 3?');
      await page.waitForSelector(COMPLETED_ANSWER);
      await sendMessage(page, 'weather in Paris');
      await waitUntil(page, `document.querySelectorAll('${COMPLETED_ANSWER}').length === 2`);
      const before = await page.textContent('[data-testid=messages]');

      await page.reload();
      await page.waitForSelector('[data-testid=status][data-state=connected]');
      await waitUntil(page, `document.querySelectorAll('${COMPLETED_ANSWER}').length === 2`);
      expect(await page.textContent('[data-testid=messages]')).toBe(before);
      expect(await userMessages(page)).toEqual(['What is 5 + 3?', 'weather in Paris']);
      expect(await page.locator('[data-testid=user-message].own').count()).toBe(2);
      expect(await page.locator('[data-testid=tool-call][data-state=done]').count()).toBe(2);
      expect(await page.isVisible('[data-testid=history-start]')).toBe(true);
      expect(errors).toEqual([]);
    });

    it('pages back through a long history as the reader scrolls up, keeping their place', async () => {
      const server = await startTestServer({ rateLimitMessages: 100 });
      const seeder = await connectClient(server.url, 'long-history', 'bob');
      const questions = Array.from(
        { length: 30 },
        (_, index) => `question ${String(index + 1)}: what is ${String(index + 1)} + 1?`,
      );
      for (const question of questions) {
        seeder.send({ type: 'user_message', content: question });
        await seeder.waitForType('agent_response_complete', (frame) =>
          frame.content.startsWith(`${question.split(' ')[4] ?? ''} + 1`),
        );
      }
      await seeder.close();

      const { page, errors } = await openChat(
        await newContext(),
        server.url,
        'long-history',
        'alice',
      );
      await page.waitForSelector(`[data-testid=user-message]:has-text("${questions[29] ?? ''}")`);
      const firstShown = await userMessages(page);

      expect(firstShown.length).toBeLessThan(questions.length);
      expect(await scrollState(page)).toMatchObject({ fromBottom: 0 });

      for (
        let page_ = 0;
        page_ < 5 && !(await page.isVisible('[data-testid=history-start]'));
        page_ += 1
      ) {
        const shown = await userMessages(page);
        const top = page.locator('[data-testid=user-message]', { hasText: shown[0] ?? '' });
        const { top: scrolled } = await scrollState(page);
        // Where the reader sees it once scrolled to the top, before anything older arrives.
        const seenAt = ((await top.boundingBox())?.y ?? NaN) + scrolled;
        await scrollTo(page, 0);
        await waitUntil(
          page,
          `document.querySelectorAll('[data-testid=user-message]').length > ${String(shown.length)}`,
        );
        // The messages above came in without moving the one the reader was looking at.
        expect(Math.abs(((await top.boundingBox())?.y ?? NaN) - seenAt)).toBeLessThan(2);
        expect((await scrollState(page)).top).toBeGreaterThan(0);
      }
      expect(await userMessages(page)).toEqual(questions);
      expect(await page.isVisible('[data-testid=load-older]')).toBe(false);
      expect(await page.locator('[data-testid=user-message]:not(.own)').count()).toBe(30);
      expect(errors).toEqual([]);
    });

    it('keeps a growing answer in view, and leaves the view alone once the reader scrolls up', async () => {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const server = await startTestServer({
        tokenPacingMs: 1,
        model: createScriptedModel(() => ({ text: LONG_ANSWER, pause: { after: 2000, gate } }), {
          chunkSize: 24,
        }),
      });
      try {
        const { page, errors } = await openChat(await newContext(), server.url, 'long', 'alice');
        const snapshots = await recordAgentMessages(page);
        await sendMessage(page, 'write something long');
        await waitUntil(
          page,
          `(document.querySelector('[data-testid=agent-message] .text')?.textContent.length ?? 0) >= 1900`,
        );

        // Every state of the answer the page showed, once it overflowed, had its end in view.
        const shown = (await snapshots()).filter((snapshot) => snapshot.overflowing);
        expect(shown.length).toBeGreaterThan(10);
        expect(shown.filter((snapshot) => !snapshot.atBottom)).toEqual([]);
        expect(await page.isVisible('[data-testid=jump-latest]')).toBe(false);

        await scrollTo(page, 100);
        await page.waitForSelector('[data-testid=jump-latest]:visible');
        release();
        await page.waitForSelector(COMPLETED_ANSWER);
        expect((await scrollState(page)).top).toBe(100);
        await page.screenshot({ path: `${RESULTS}chat-scrolled-up.png` });

        await page.click('[data-testid=jump-latest]');
        await expect.poll(async () => (await scrollState(page)).fromBottom).toBeLessThan(2);
        expect(await page.isVisible('[data-testid=jump-latest]')).toBe(false);
        expect(await page.textContent(`${COMPLETED_ANSWER} .text p:last-child`)).toBe(
          'Paragraph 60 of a long answer, long enough to need scrolling.',
        );
        expect(errors).toEqual([]);
      } finally {
        release();
      }
    });

    it('shows the reconnection and resumes without a gap when the server restarts', async () => {
      const directory = mkdtempSync(join(tmpdir(), 'parley-chat-restart-'));
      directories.push(directory);
      const config = {
        host: '127.0.0.1',
        logLevel: 'silent' as const,
        tokenPacingMs: 0,
        shutdownGraceMs: 0,
        database: join(directory, 'parley.db'),
      };
      const first = await startServer({ environment: {}, config: { ...config, port: 0 } });
      const { page, errors } = await openChat(await newContext(), first.url, 'restart', 'alice');
      await sendMessage(page, 'What is 5 + 3?');
      await page.waitForSelector(COMPLETED_ANSWER);

      await first.close();
      await page.waitForSelector('[data-testid=status][data-state=reconnecting]');
      expect(await page.isDisabled('[data-testid=send]')).toBe(true);
      const second = await startServer({
        environment: {},
        config: { ...config, port: first.port },
      });
      try {
        await page.waitForSelector('[data-testid=status][data-state=connected]');
        expect(await page.textContent('[data-testid=connection-detail]')).toMatch(
          /^reconnected · resumed from seq \d+/,
        );
        await sendMessage(page, 'What is 2 + 2?');
        await waitUntil(page, `document.querySelectorAll('${COMPLETED_ANSWER}').length === 2`);
        expect(await userMessages(page)).toEqual(['What is 5 + 3?', 'What is 2 + 2?']);
        expect(errors.filter((error) => !error.includes('WebSocket'))).toEqual([]);
      } finally {
        await second.close();
      }
    });
  },
);
