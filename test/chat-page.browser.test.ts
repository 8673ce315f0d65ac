/**
 * The chat page served at `GET /`, driven in real headless Chromium (playwright-core): joining
 * from a link, streaming, tool cards, two participants, Markdown and markup that must stay text.
 * More in chat-history.browser.test.ts (the past, scrolling, restarts) and
 * chat-access.browser.test.ts (JWT sign-in, a phone's width, the keyboard).
 *
 * Needs Chromium at /usr/bin/chromium (`apt-get install chromium`). Without it the suite is
 * skipped locally and fails in CI (`CI=true`), so a CI image without a browser cannot pass silently.
 */
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { browserSuiteRuns, launchChromium } from './support/browser.js';
import {
  COMPLETED_ANSWER,
  openChat,
  recordAgentMessages,
  RESULTS,
  sendMessage,
  streamedPrefixes,
} from './support/chat-page.js';
import { createScriptedModel } from './support/test-models.js';
import { startTestServer } from './support/test-server.js';

const MARKDOWN_ANSWER = [
  'Here is **how** to do it:',
  '',
  '1. install it',
  '2. run it',
  '',
  '```ts',
  "const total = [5, 3].reduce((a, b) => a + b, 0); // '<b>'",
  '```',
  '',
  'See [the docs](https://example.com/docs) and <script>window.__injected = "answer"</script>',
  '<img src="x" onerror="window.__injected = \'image\'"> done.',
].join('\n');
const HOSTILE_MESSAGE = '<script>window.__injected = "message"</script><b>not bold</b>';

describe.runIf(browserSuiteRuns('chat page browser tests'))('the chat page in Chromium', () => {
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

  async function newContext(): Promise<BrowserContext> {
    context = await browser.newContext({ viewport: { width: 1000, height: 720 } });
    return context;
  }

  it('joins the conversation its link names on load, and streams a tool-using answer into it', async () => {
    const server = await startTestServer({ tokenPacingMs: 5 });
    const { page, errors } = await openChat(await newContext(), server.url, 'linked', 'alice');
    expect(await page.textContent('[data-testid=conversation-title]')).toBe('linked');
    expect(await page.textContent('[data-testid=identity]')).toBe('you are alice');
    // The welcome names the agent that answers and its model.
    expect(await page.textContent('[data-testid=agent-info]')).toBe('default · offline');
    expect(await page.textContent('[data-testid=participants]')).toBe('alice (you)');
    const snapshots = await recordAgentMessages(page);

    await sendMessage(page, 'What is 5 + 3?');
    const answer = await page.waitForSelector(`${COMPLETED_ANSWER} .text`);
    const finalText = (await answer.textContent()) ?? '';
    expect(finalText).toContain('8');
    // Live streaming: the answer showed several growing prefixes before it was complete.
    expect(new Set(streamedPrefixes(await snapshots(), finalText)).size).toBeGreaterThanOrEqual(2);

    const card = page.locator('[data-testid=tool-call]');
    expect(await card.getAttribute('data-state')).toBe('done');
    expect(await card.locator('.tool-name').textContent()).toBe('calculator');
    expect(await card.locator('.tool-arguments').textContent()).toContain('expression5 + 3');
    expect(await card.locator('.tool-result').textContent()).toContain('result8');
    await page.screenshot({ path: `${RESULTS}chat-page.png` });
    // The exact frames are one click away, folded by default.
    expect(await card.locator('.raw').getAttribute('open')).toBeNull();
    await card.locator('.raw summary').click();
    const raw = JSON.parse(
      `[${((await card.locator('.raw-json').textContent()) ?? '').replace(/\}\n\n\{/g, '},{')}]`,
    ) as { type: string }[];
    expect(raw.map((frame) => frame.type)).toEqual(['tool_call', 'tool_result']);

    const own = page.locator('[data-testid=user-message].own');
    expect(await own.locator('.text').textContent()).toBe('What is 5 + 3?');
    expect(await own.locator('time').getAttribute('datetime')).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(await page.locator('[data-testid=agent-message] time').count()).toBe(1);
    expect(Number(await page.textContent('[data-testid=seq]'))).toBeGreaterThan(5);
    expect(await page.inputValue('[data-testid=message-input]')).toBe('');
    expect(await page.isDisabled('[data-testid=cancel]')).toBe(true);
    expect(errors).toEqual([]);
  });

  it('shows the same streamed answer, typing and presence to two participants', async () => {
    const server = await startTestServer({ tokenPacingMs: 5 });
    const shared = await newContext();
    const alice = await openChat(shared, server.url, 'pair', 'alice');
    const bob = await openChat(shared, server.url, 'pair', 'bob');
    await alice.page.waitForSelector('[data-testid=participants] li[data-user-id=bob]');
    const bobSnapshots = await recordAgentMessages(bob.page);

    await alice.page.fill('[data-testid=message-input]', 'What is 5 + 3?');
    await bob.page.waitForSelector('[data-testid=typing]:has-text("alice is typing…")');
    await alice.page.click('[data-testid=send]');

    const [aliceText, bobText] = await Promise.all(
      [alice.page, bob.page].map(async (page) =>
        (await page.waitForSelector(`${COMPLETED_ANSWER} .text`)).textContent(),
      ),
    );
    expect(bobText).toBe(aliceText);
    expect(new Set(streamedPrefixes(await bobSnapshots(), bobText ?? '')).size).toBeGreaterThan(1);
    const bobSees = bob.page.locator('[data-testid=user-message]');
    expect(await bobSees.getAttribute('data-user-id')).toBe('alice');
    expect(await bobSees.getAttribute('class')).not.toContain('own');
    expect(await bobSees.locator('.author').textContent()).toBe('alice');
    await expect.poll(() => bob.page.textContent('[data-testid=typing]')).toBe('');

    await bob.page.close();
    await alice.page.waitForSelector('[data-testid=participants] li:not([data-user-id=bob])');
    expect(await alice.page.locator('[data-testid=participants] li').count()).toBe(1);
    expect([...alice.errors, ...bob.errors]).toEqual([]);
  });

  it('renders answers as Markdown, and markup in any message as the text it is', async () => {
    const server = await startTestServer({
      model: createScriptedModel(() => MARKDOWN_ANSWER, { chunkSize: 16 }),
    });
    const { page, errors } = await openChat(await newContext(), server.url, 'marked', 'alice');

    await sendMessage(page, HOSTILE_MESSAGE);
    const answer = page.locator(`${COMPLETED_ANSWER} .text`);
    await answer.waitFor();
    expect(await answer.locator('strong').textContent()).toBe('how');
    expect(await answer.locator('ol > li').allTextContents()).toEqual(['install it', 'run it']);
    expect(await answer.locator('pre > code').textContent()).toBe(
      "const total = [5, 3].reduce((a, b) => a + b, 0); // '<b>'\n",
    );
    const link = answer.locator('a');
    expect(await link.getAttribute('href')).toBe('https://example.com/docs');
    expect(await link.getAttribute('rel')).toBe('noopener noreferrer nofollow');
    expect(await link.getAttribute('target')).toBe('_blank');

    // The script, the image and the bold tag are shown as text, and none of them ran.
    const answerText = (await answer.textContent()) ?? '';
    expect(answerText).toContain('<script>window.__injected = "answer"</script>');
    expect(answerText).toContain('<img src="x" onerror=');
    expect(await page.locator('[data-testid=user-message] .text').textContent()).toBe(
      HOSTILE_MESSAGE,
    );
    expect(
      await page
        .locator(
          '[data-testid=messages] script, [data-testid=messages] img, [data-testid=messages] b',
        )
        .count(),
    ).toBe(0);
    expect(await page.evaluate('window.__injected')).toBeUndefined();
    await page.screenshot({ path: `${RESULTS}chat-markdown.png` });
    expect(errors).toEqual([]);
  });
});
