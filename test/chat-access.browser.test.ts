/**
 * Who can use the chat page, in real headless Chromium: a server with JWT sign-in (the token
 * field, kept for the tab, sent as the `bearer.` subprotocol and never shown), and a person on a
 * phone's width using the keyboard alone.
 *
 * Needs Chromium at /usr/bin/chromium (see test/support/browser.ts).
 */
import { SignJWT } from 'jose';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { browserSuiteRuns, launchChromium } from './support/browser.js';
import {
  chatLink,
  COMPLETED_ANSWER,
  newChatPage,
  openChat,
  RESULTS,
  userMessages,
} from './support/chat-page.js';
import { createScriptedModel } from './support/test-models.js';
import { startTestServer } from './support/test-server.js';

const SECRET = 'a-chat-page-secret-of-32-bytes-or-more';

function signToken(subject: string, key = SECRET): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(subject)
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(key));
}

describe.runIf(browserSuiteRuns('chat access browser tests'))(
  'the chat page with sign-in and on a phone, in Chromium',
  () => {
    let browser: Browser;
    let context: BrowserContext | undefined;

    beforeAll(async () => {
      browser = await launchChromium();
    });

    afterEach(async () => {
      await context?.close();
      context = undefined;
    });

    afterAll(async () => {
      // Unset when beforeAll failed half-way.
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
      await browser?.close();
    });

    it('asks for a token when the server wants one, joins with it, and keeps it for the tab only', async () => {
      // Open access: this is about the page's token handling, not about membership.
      const server = await startTestServer({ jwtSecret: SECRET, devMode: false, access: 'open' });
      const token = await signToken('carol');
      const forged = await signToken('mallory', 'not-the-server-secret-but-as-long');
      context = await browser.newContext({ viewport: { width: 1000, height: 720 } });
      const { page, errors } = await newChatPage(context);

      await page.goto(chatLink(server.url, 'secured'));
      await page.waitForSelector('[data-testid=status][data-state=signin]');
      expect(await page.textContent('[data-testid=connection-detail]')).toContain(
        'this server needs a sign-in token (JWT): paste it in Settings (missing credentials',
      );
      // The settings open on the token field, ready to paste into.
      expect(await page.evaluate('document.activeElement.id')).toBe('token');
      await page.screenshot({ path: `${RESULTS}chat-sign-in.png` });

      await page.fill('#token', forged);
      await page.press('#token', 'Enter');
      await page.waitForSelector('[data-testid=status][data-state=signin]');
      expect(await page.textContent('[data-testid=connection-detail]')).toContain(
        'the server refused the token',
      );

      await page.fill('#token', token);
      await page.press('#token', 'Enter');
      await page.waitForSelector('[data-testid=status][data-state=connected]');
      expect(await page.textContent('[data-testid=identity]')).toBe('you are carol');
      await page.fill('[data-testid=message-input]', 'What is 5 + 3?');
      await page.press('[data-testid=message-input]', 'Enter');
      await page.waitForSelector(COMPLETED_ANSWER);
      expect(await page.getAttribute('[data-testid=user-message]', 'data-user-id')).toBe('carol');

      // A reload joins again with the kept token, and shows the past.
      await page.reload();
      await page.waitForSelector('[data-testid=status][data-state=connected]');
      await page.waitForSelector(COMPLETED_ANSWER);
      expect(await page.evaluate(`sessionStorage.getItem('parley.chat.token')`)).toBe(token);
      // The token is a secret: never in the link, never in the page's text.
      expect(page.url()).not.toContain(token);
      expect(await page.textContent('body')).not.toContain(token);
      expect(await page.textContent('body')).not.toContain(forged);
      // Another tab (a new session) has to sign in again.
      const other = await newChatPage(await browser.newContext());
      await other.page.goto(chatLink(server.url, 'secured'));
      await other.page.waitForSelector('[data-testid=status][data-state=signin]');
      await other.page.context().close();
      // Only the refusals a browser reports by itself: the failed upgrades, the 401 diagnosis.
      expect(errors.filter((error) => !/WebSocket|401/.test(error))).toEqual([]);
      expect(errors.join('\n')).not.toContain(token);
    });

    it('works at a phone’s width with the keyboard alone: Enter, Shift+Enter, Escape', async () => {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const offline = await startTestServer({ tokenPacingMs: 2 });
      const paused = await startTestServer({
        model: createScriptedModel(
          () => ({
            text: 'A slow answer that the reader stops half-way.',
            pause: { after: 8, gate },
          }),
          { chunkSize: 4 },
        ),
      });
      try {
        context = await browser.newContext({
          viewport: { width: 390, height: 844 },
          deviceScaleFactor: 2,
          isMobile: true,
          hasTouch: true,
        });
        const { page, errors } = await openChat(context, offline.url, 'phone', 'alice');
        // Ready to type on load.
        expect(await page.evaluate(`document.activeElement.dataset.testid`)).toBe('message-input');
        await page.keyboard.type('weather in Paris');
        await page.keyboard.down('Shift');
        await page.keyboard.press('Enter');
        await page.keyboard.up('Shift');
        await page.keyboard.type('and what is 12 * 7?');
        await page.keyboard.press('Enter');
        await page.waitForSelector(COMPLETED_ANSWER);
        expect(await userMessages(page)).toEqual(['weather in Paris\nand what is 12 * 7?']);
        expect(await page.isVisible('[data-testid=participants]')).toBe(false);
        expect(await page.textContent('[data-testid=people-count]')).toBe('1 here');
        expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(
          390,
        );
        await page.screenshot({ path: `${RESULTS}chat-phone.png` });

        const slow = await openChat(context, paused.url, 'phone-cancel', 'alice');
        await slow.page.keyboard.type('Tell me something slowly');
        await slow.page.keyboard.press('Enter');
        await slow.page.waitForSelector('[data-testid=agent-message][data-status=streaming] p');
        expect(await slow.page.isEnabled('[data-testid=cancel]')).toBe(true);
        await slow.page.keyboard.press('Escape');
        await slow.page.waitForSelector('[data-testid=agent-message][data-status=cancelled]');
        expect(await slow.page.textContent('[data-testid=turn-status]')).toBe('cancelled');
        expect(await slow.page.isDisabled('[data-testid=cancel]')).toBe(true);
        expect([...errors, ...slow.errors]).toEqual([]);
      } finally {
        release();
      }
    });
  },
);
