/**
 * Tool approval on the chat page, in real headless Chromium (playwright-core): two participants
 * see the request with Approve and Deny, one answers, both see the decision and the answer.
 *
 * Needs Chromium at /usr/bin/chromium; skipped locally without it, failing in CI (`CI=true`).
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { approvalTools } from './support/approval-tools.js';
import { browserSuiteRuns, launchChromium } from './support/browser.js';
import { COMPLETED_ANSWER, openChat, RESULTS, sendMessage } from './support/chat-page.js';
import { connectClient, fillLogUntil } from './support/test-client.js';
import { startTestServer } from './support/test-server.js';

/** The tool card of the n-th call (0-based) on a page. */
const card = (page: Page, index: number) => page.locator('[data-testid=tool-call]').nth(index);

describe.runIf(browserSuiteRuns('chat approval browser tests'))(
  'tool approval on the chat page',
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

    it('shows the request to both participants with Approve and Deny, and the decision once one answers', async () => {
      const { tools, model, sent } = approvalTools();
      const server = await startTestServer({ tools, model, tokenPacingMs: 5 });
      context = await browser.newContext({ viewport: { width: 1000, height: 720 } });
      const alice = await openChat(context, server.url, 'approvals', 'alice');
      const bob = await openChat(context, server.url, 'approvals', 'bob');
      await alice.page.waitForSelector('[data-testid=participants] li[data-user-id=bob]');

      await sendMessage(alice.page, 'Send the Q3 report to the board');
      for (const { page } of [alice, bob]) {
        const box = card(page, 0).locator('[data-testid=approval][data-state=pending]');
        await box.waitFor();
        expect(await card(page, 0).getAttribute('data-state')).toBe('awaiting');
        expect(await box.textContent()).toContain('Needs approval');
        expect(await box.locator('[data-testid=approve]').isEnabled()).toBe(true);
        expect(await box.locator('[data-testid=deny]').isEnabled()).toBe(true);
      }
      expect(sent).toEqual([]);
      await bob.page.screenshot({ path: `${RESULTS}chat-approval-request.png` });

      await bob.page.fill('[data-testid=approval-reason]', 'The board expects it today.');
      await bob.page.click('[data-testid=approve]');
      for (const { page } of [alice, bob]) {
        const decision = card(page, 0).locator('[data-testid=approval-decision]');
        await decision.waitFor();
        expect(await decision.textContent()).toBe('Approved by bob: The board expects it today.');
        expect(await card(page, 0).locator('[data-testid=approve]').count()).toBe(0);
        const answer = page.locator(`${COMPLETED_ANSWER} .text`);
        await answer.waitFor();
        expect(await answer.textContent()).toContain('Sent to board@example.com.');
        expect(await card(page, 0).getAttribute('data-state')).toBe('done');
      }
      expect(sent).toHaveLength(1);

      // Alice denies the next one: the tool does not run and the answer says why.
      await sendMessage(alice.page, 'Send it once more');
      await card(alice.page, 1).locator('[data-testid=approval][data-state=pending]').waitFor();
      await alice.page.click('[data-testid=deny]');
      for (const { page } of [alice, bob]) {
        const decision = card(page, 1).locator('[data-testid=approval-decision]');
        await decision.waitFor();
        expect(await decision.textContent()).toBe('Denied by alice');
        await page.locator(`${COMPLETED_ANSWER} >> nth=1`).waitFor();
        expect(await card(page, 1).getAttribute('data-state')).toBe('denied');
        expect(await card(page, 1).locator('.tool-status').textContent()).toBe('not run: denied');
      }
      expect(await alice.page.locator(`${COMPLETED_ANSWER} .text`).nth(1).textContent()).toContain(
        'I did not send it: alice denied this call.',
      );
      expect(sent).toHaveLength(1);
      await bob.page.screenshot({ path: `${RESULTS}chat-approval.png` });
      expect([...alice.errors, ...bob.errors]).toEqual([]);
    });

    it('closes an unanswered request when the turn is cancelled, and shows a past request from history', async () => {
      const { tools, model, sent } = approvalTools();
      const server = await startTestServer({ tools, model });
      context = await browser.newContext({ viewport: { width: 1000, height: 720 } });
      const alice = await openChat(context, server.url, 'cancelled', 'alice');

      await sendMessage(alice.page, 'Send the report');
      await card(alice.page, 0).locator('[data-testid=approval][data-state=pending]').waitFor();
      // A page opened now learns of the waiting request from the conversation's history.
      const late = await openChat(context, server.url, 'cancelled', 'carol');
      await card(late.page, 0).locator('[data-testid=approval][data-state=pending]').waitFor();

      await alice.page.click('[data-testid=cancel]');
      for (const { page } of [alice, late]) {
        const box = card(page, 0).locator('[data-testid=approval]');
        await page.locator('[data-testid=agent-message][data-status=cancelled]').waitFor();
        expect(await box.getAttribute('data-state')).toBe('closed');
        expect(await box.locator('button').count()).toBe(0);
      }
      expect(sent).toEqual([]);
      expect([...alice.errors, ...late.errors]).toEqual([]);
    });

    it("shows a request whose turn ended as closed when the turn's end came in a newer history page", async () => {
      const { tools, model, sent } = approvalTools();
      const server = await startTestServer({ tools, model });
      context = await browser.newContext({ viewport: { width: 1000, height: 720 } });
      const alice = await openChat(context, server.url, 'paged', 'alice');
      const watcher = await connectClient(server.url, 'paged', 'watcher');
      await sendMessage(alice.page, 'Send the report');
      const request = await watcher.waitForType('tool_approval_request');
      await alice.page.click('[data-testid=cancel]');
      await watcher.waitForType('agent_response_complete');
      // Typing fills the log until the newest 200 events (the first history page) begin just
      // after the request: a page opened now sees the turn's end first, the request later.
      await fillLogUntil(watcher, request.seq + 200);
      const late = await openChat(context, server.url, 'paged', 'dave');
      if (await late.page.isVisible('[data-testid=load-older]')) {
        await late.page.click('[data-testid=load-older]');
      }
      await late.page.waitForSelector('[data-testid=history-start]:not([hidden])');
      const box = card(late.page, 0).locator('[data-testid=approval]');
      await box.waitFor();
      expect(await box.getAttribute('data-state')).toBe('closed');
      expect(await box.locator('button').count()).toBe(0);
      expect(sent).toEqual([]);
      expect([...alice.errors, ...late.errors]).toEqual([]);
      await watcher.close();
    });
  },
);
