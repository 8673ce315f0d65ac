/**
 * What a real model streams besides the answer, on the chat page in real headless Chromium: a
 * tool call's arguments as the model writes them (`tool_call_delta`), in the card that then shows
 * the call and its result, and the model's reasoning (`agent_reasoning_chunk`) folded above the
 * answer. The model is an AI SDK LanguageModel V3 (test/support/reasoning-weather-model.ts)
 * that waits at gates the test opens, so the page can be looked at between two parts.
 *
 * Needs Chromium at /usr/bin/chromium (see test/support/browser.ts).
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { browserSuiteRuns, launchChromium } from './support/browser.js';
import {
  chatLink,
  COMPLETED_ANSWER,
  newChatPage,
  openChat,
  RESULTS,
  sendMessage,
  waitUntil,
} from './support/chat-page.js';
import {
  ANSWER,
  ARGUMENTS,
  FIRST_PIECE,
  gate,
  LATER_PIECES,
  REASONING_AFTER_CALL,
  REASONING_BEFORE_CALL,
  reasoningWeatherModel,
} from './support/reasoning-weather-model.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';
import { connectClient, fillLogUntil } from './support/test-client.js';
import { startTestServer } from './support/test-server.js';

/** What a page shows of each agent turn (not whether the reader opened the reasoning). */
interface ShownTurn {
  status: string;
  reasoningHidden: boolean;
  reasoning: string;
  reasoningSummary: string;
  cards: {
    id: string;
    state: string;
    status: string;
    writing: string | null;
    arguments: string | null;
    result: string | null;
  }[];
  answer: string;
}

function shownTurns(page: Page): Promise<ShownTurn[]> {
  return page.evaluate<
    ShownTurn[]
  >(`[...document.querySelectorAll('[data-testid=agent-message]')].map((turn) => ({
    status: turn.dataset.status,
    reasoningHidden: turn.querySelector('[data-testid=reasoning]').hidden,
    reasoning: turn.querySelector('[data-testid=reasoning-text]').textContent,
    reasoningSummary: turn.querySelector('[data-testid=reasoning] summary').textContent,
    cards: [...turn.querySelectorAll('[data-testid=tool-call]')].map((card) => ({
      id: card.dataset.toolCallId,
      state: card.dataset.state,
      status: card.querySelector('.tool-status').textContent,
      writing: card.querySelector('[data-testid=tool-arguments-streaming]')?.textContent ?? null,
      arguments: card.querySelector('.tool-arguments')?.textContent ?? null,
      result: card.querySelector('.tool-result')?.textContent ?? null,
    })),
    answer: turn.querySelector('.text').textContent,
  }))`);
}

/** Waits until the page's only card shows `text` as the arguments being written. */
async function showsWriting(page: Page, text: string): Promise<void> {
  await waitUntil(
    page,
    `document.querySelector('[data-testid=tool-call][data-state=writing] [data-testid=tool-arguments-streaming]')?.textContent === ${JSON.stringify(text)}`,
  );
}

describe.runIf(browserSuiteRuns('chat stream parts browser tests'))(
  "a real model's tool arguments and reasoning on the chat page",
  () => {
    let browser: Browser;
    let context: BrowserContext | undefined;
    let proxy: TcpProxy | undefined;
    const gates: (() => void)[] = [];

    beforeAll(async () => {
      browser = await launchChromium();
    });

    afterEach(async () => {
      // A failed test leaves the model waiting: let it finish so the server can close.
      for (const open of gates.splice(0)) open();
      await context?.close();
      context = undefined;
      await proxy?.close();
      proxy = undefined;
    });

    afterAll(async () => {
      // Unset when beforeAll failed half-way.
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
      await browser?.close();
    });

    async function serverWithModel() {
      const afterFirstPiece = gate();
      const beforeCall = gate();
      gates.push(afterFirstPiece.open, beforeCall.open);
      const model = reasoningWeatherModel(afterFirstPiece.opened, beforeCall.opened);
      const server = await startTestServer({
        agents: [{ id: 'default', model, tools: ['weather'], showReasoning: true }],
      });
      return { server, afterFirstPiece, beforeCall };
    }

    it('grows the arguments in the card that then shows the call and its result, and folds the reasoning above the answer', async () => {
      const { server, afterFirstPiece, beforeCall } = await serverWithModel();
      context = await browser.newContext({ viewport: { width: 1000, height: 720 } });
      const { page, errors } = await openChat(context, server.url, 'weather', 'alice');
      const watcher = await connectClient(server.url, 'weather', 'watcher');

      await sendMessage(page, 'Weather in Paris?');
      await showsWriting(page, FIRST_PIECE);
      // The page shows the first piece while the complete call is still to come.
      await watcher.waitForType('tool_call_delta');
      expect(watcher.frames.some((frame) => frame.type === 'tool_call')).toBe(false);
      let [turn] = await shownTurns(page);
      expect(turn?.cards).toEqual([
        {
          id: 'call_weather',
          state: 'writing',
          status: 'writing arguments…',
          writing: FIRST_PIECE,
          arguments: null,
          result: null,
        },
      ]);
      // The reasoning so far, as text (its markup is not markup), closed until the reader opens it.
      expect(turn).toMatchObject({
        status: 'streaming',
        reasoningHidden: false,
        reasoning: REASONING_BEFORE_CALL.join(''),
        reasoningSummary: 'Reasoning13 words',
      });
      expect(await page.locator('[data-testid=reasoning-text] b').count()).toBe(0);
      expect(await page.locator('[data-testid=reasoning]').getAttribute('open')).toBeNull();
      expect(await page.isVisible('[data-testid=reasoning-text]')).toBe(false);

      afterFirstPiece.open();
      await showsWriting(page, ARGUMENTS);
      await page.screenshot({ path: `${RESULTS}chat-tool-arguments-streaming.png` });
      expect(watcher.frames.some((frame) => frame.type === 'tool_call')).toBe(false);

      beforeCall.open();
      await page.waitForSelector(COMPLETED_ANSWER);
      [turn] = await shownTurns(page);
      expect(turn?.cards).toHaveLength(1);
      expect(turn?.cards[0]).toMatchObject({
        id: 'call_weather',
        state: 'done',
        writing: null,
        arguments: 'locationParisunitsmetricdays2',
      });
      expect(turn?.cards[0]?.result).toContain('Paris');
      expect(turn).toMatchObject({
        status: 'completed',
        reasoning: REASONING_BEFORE_CALL.join('') + REASONING_AFTER_CALL,
        answer: ANSWER,
      });
      expect(await page.locator('[data-testid=reasoning]').getAttribute('open')).toBeNull();

      await page.click('[data-testid=reasoning] summary');
      expect(await page.isVisible('[data-testid=reasoning-text]')).toBe(true);
      await page.screenshot({ path: `${RESULTS}chat-reasoning.png` });
      expect(errors).toEqual([]);
      await watcher.close();
    });

    it('shows the same from history, from a resume with ?since= and live', async () => {
      const { server, afterFirstPiece, beforeCall } = await serverWithModel();
      proxy = await startTcpProxy(server.port);
      context = await browser.newContext({ viewport: { width: 1000, height: 720 } });
      const alice = await openChat(context, server.url, 'replayed', 'alice');
      const watcher = await connectClient(server.url, 'replayed', 'watcher');
      await sendMessage(alice.page, 'Weather in Paris?');
      await watcher.waitForType('tool_call_delta');

      // Bob joins mid-call: the first piece comes from history, then he loses the connection.
      const bob = await newChatPage(context);
      await bob.page.goto(chatLink(proxy.url, 'replayed', 'bob'));
      await showsWriting(bob.page, FIRST_PIECE);
      proxy.cut();
      await bob.page.waitForSelector('[data-testid=status][data-state=reconnecting]');
      afterFirstPiece.open();
      await watcher.waitFor(
        (frame) => frame.type === 'tool_call_delta' && frame.delta === LATER_PIECES.at(-1),
        'the last piece',
      );
      // What he missed comes with his reconnection, resumed from the last seq he saw.
      proxy.restore();
      await bob.page.waitForSelector('[data-testid=status][data-state=connected]');
      expect(await bob.page.textContent('[data-testid=connection-detail]')).toMatch(
        /resumed from seq \d+, [1-9]\d* missed events? replayed/,
      );
      await showsWriting(bob.page, ARGUMENTS);
      await showsWriting(alice.page, ARGUMENTS);
      expect(await shownTurns(bob.page)).toEqual(await shownTurns(alice.page));

      beforeCall.open();
      await alice.page.waitForSelector(COMPLETED_ANSWER);
      await bob.page.waitForSelector(COMPLETED_ANSWER);
      await watcher.waitForType('agent_response_complete');

      // Carol opens the conversation afterwards, all of it from history, in pages of 200 newest
      // first. Typing fills the log so that her first page begins half-way through the
      // arguments: it brings the call, the later pieces and the later reasoning before the
      // second page brings the earlier ones.
      const deltas = watcher.frames.filter((frame) => frame.type === 'tool_call_delta');
      const firstPageStart = deltas[Math.floor(deltas.length / 2)]?.seq ?? 0;
      await fillLogUntil(watcher, firstPageStart + 199);
      const carol = await newChatPage(context);
      const historyPages: number[][] = [];
      carol.page.on('websocket', (socket) => {
        socket.on('framereceived', ({ payload }) => {
          const frame = JSON.parse(String(payload)) as { type: string; frames?: { seq: number }[] };
          if (frame.type === 'history') {
            historyPages.push((frame.frames ?? []).map((past) => past.seq));
          }
        });
      });
      await carol.page.goto(chatLink(server.url, 'replayed', 'carol'));
      await carol.page.waitForSelector('[data-testid=status][data-state=connected]');
      await expect.poll(() => historyPages.length).toBeGreaterThan(0);
      // The first page fills her screen: the rest comes when she asks for it.
      if (await carol.page.isVisible('[data-testid=load-older]')) {
        await carol.page.click('[data-testid=load-older]');
      }
      await carol.page.waitForSelector('[data-testid=history-start]:not([hidden])');
      expect(historyPages[0]?.[0]).toBe(firstPageStart);
      expect(historyPages).toHaveLength(2);

      const live = await shownTurns(alice.page);
      expect(live).toHaveLength(1);
      expect(live[0]?.cards).toHaveLength(1);
      expect(await shownTurns(bob.page)).toEqual(live);
      expect(await shownTurns(carol.page)).toEqual(live);
      expect([...alice.errors, ...carol.errors]).toEqual([]);
      expect(bob.errors.filter((error) => !error.includes('WebSocket'))).toEqual([]);
      await watcher.close();
    });
  },
);
