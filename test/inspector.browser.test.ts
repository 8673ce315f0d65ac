/**
 * The live inspector page (`GET /inspector`) in real headless Chromium (playwright-core): the
 * actor tree, the statechart following a conversation live, time travel over its log, and a
 * recording loaded from a file. Screenshots land in test-results/ (docs/INSPECTOR.md shows them).
 *
 * Needs Chromium at /usr/bin/chromium (`apt-get install chromium`). Without it the suite is
 * skipped locally and fails in CI (`CI=true`), so a CI image without a browser cannot pass silently.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ToolRegistry } from '../src/tools/registry.js';
import { connectClient } from './support/test-client.js';
import { createScriptedModel, createToolCallingModel } from './support/test-models.js';
import { startTestServer } from './support/test-server.js';
import { gatedTool } from './support/test-tools.js';
import { browserSuiteRuns, launchChromium } from './support/browser.js';

const RESULTS = fileURLToPath(new URL('../test-results/', import.meta.url));
const RECORDING = fileURLToPath(new URL('./fixtures/tool-call.jsonl', import.meta.url));

/** The diagram's node for a state id, when it is highlighted as active (as it was, in the past). */
const activeNode = (stateId: string, { historical = false } = {}) =>
  `[data-testid=diagram]${historical ? '.historical' : ''} g.state.active[data-state-id="${stateId}"]`;
const row = (path: string) => `[data-testid=actor-row][data-path="${path}"]`;
const lastFrameRow = '[data-testid=frames-until] .frame-row:last-child';

/** Whether the diagram highlights `stateId` now (read once, no waiting). */
async function isActive(page: Page, stateId: string): Promise<boolean> {
  return (await page.locator(activeNode(stateId)).count()) === 1;
}

// Page-side expressions are strings: the project compiles without the DOM lib.
const FRAMES_UNTIL_HERE = `[...document.querySelectorAll('[data-testid=frames-until] .frame-row')].map(
  (row) => [...row.classList].find((name) => name !== 'frame-row').slice('frame-'.length),
)`;
const VISIBLE_ROWS = `[...document.querySelectorAll('[data-testid=actor-row]:not([hidden])')]
  .sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top))
  .map((row) => row.dataset.path)`;

const DRAWN_EDGES = `[...document.querySelectorAll('[data-testid=diagram] g.transition:not(.initial)')].map(
  (edge) => ({
    source: edge.dataset.source,
    target: edge.dataset.target,
    label: [...edge.querySelectorAll('text.label')].map((text) => text.textContent).join(' '),
  }),
)`;

/** A transition drawn in the diagram: its states (ids) and the label written on it. */
interface DrawnEdge {
  source: string;
  target: string;
  label: string;
}

/** The transitions the diagram draws as edges, with their labels. */
function drawnEdges(page: Page): Promise<DrawnEdge[]> {
  return page.evaluate<DrawnEdge[]>(DRAWN_EDGES);
}

/** The frame types listed under "Frames until here", oldest first. */
function framesUntilHere(page: Page): Promise<string[]> {
  return page.evaluate<string[]>(FRAMES_UNTIL_HERE);
}

/** Moves the time travel slider to point `index` as a user would (an `input` event). */
async function travelTo(page: Page, index: number): Promise<void> {
  await page.locator('[data-testid=timeline-slider]').fill(String(index));
}

describe.runIf(browserSuiteRuns('inspector browser tests'))(
  'the inspector page in Chromium',
  () => {
    let browser: Browser;
    let context: BrowserContext | undefined;
    const pageErrors: string[] = [];

    beforeAll(async () => {
      await mkdir(RESULTS, { recursive: true });
      browser = await launchChromium();
    });

    afterEach(async () => {
      await context?.close();
      context = undefined;
      pageErrors.length = 0;
    });

    afterAll(async () => {
      // Unset when beforeAll failed half-way.
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
      await browser?.close();
    });

    async function openInspector(baseUrl: string): Promise<Page> {
      context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
      const page = await context.newPage();
      page.setDefaultTimeout(10_000);
      page.on('pageerror', (error) => pageErrors.push(error.message));
      page.on('console', (message) => {
        if (message.type() === 'error') pageErrors.push(message.text());
      });
      await page.goto(`${baseUrl}/inspector`);
      await page.waitForSelector('[data-testid=status][data-state=connected]');
      return page;
    }

    it('follows a conversation live into calling_tool and back, then travels back in time over its log', async () => {
      const slow = gatedTool();
      try {
        const server = await startTestServer({
          model: createToolCallingModel('slow', {}),
          tools: new ToolRegistry([slow.tool]),
          inspector: true,
        });
        const alice = await connectClient(server.url, 'watched', 'alice');
        await connectClient(server.url, 'watched', 'bob');
        const page = await openInspector(server.url);

        await page.fill('[data-testid=actor-search]', 'watched');
        await page.waitForSelector(`${row('conversation:watched')}[data-state="idle.occupied"]`);
        await page.waitForFunction(`${VISIBLE_ROWS}.length === 3`);
        const rows = await page.evaluate<string[]>(VISIBLE_ROWS);
        expect(rows[0]).toBe('conversation:watched');
        expect(rows.slice(1).filter((path) => path.startsWith('connection:'))).toHaveLength(2);

        await page.click(row('conversation:watched'));
        await page.waitForSelector(activeNode('conversation.idle.occupied'));
        expect(await page.textContent('#selected-title')).toBe('conversation:watched');
        // Each edge is labelled by the event that causes it and its guard; `always` only on the
        // choice made on entering `ending`.
        const edges = await drawnEdges(page);
        expect(edges).toEqual(
          expect.arrayContaining([
            {
              source: 'conversation.working.waiting',
              target: 'conversation.working.thinking',
              label: 'turn.started [isActiveTurn]',
            },
            {
              source: 'conversation.working',
              target: 'conversation.ending',
              label: 'turn.finished [isActiveTurn]',
            },
            {
              source: 'conversation.ending',
              target: 'conversation.idle.occupied',
              label: 'always [hasParticipants]',
            },
          ]),
        );
        expect(edges.filter((edge) => edge.label === '')).toEqual([]);
        expect(
          new Set(
            edges.filter((edge) => edge.label.startsWith('always')).map((edge) => edge.source),
          ),
        ).toEqual(new Set(['conversation.ending']));

        alice.send({ type: 'user_message', content: 'use the slow tool' });
        await page.waitForSelector(activeNode('conversation.working.calling_tool'));
        await page.waitForSelector(
          `${row('conversation:watched')}[data-state="working.calling_tool"]`,
        );
        expect(await isActive(page, 'conversation.idle.occupied')).toBe(false);
        await page.screenshot({ path: `${RESULTS}inspector-calling-tool.png` });

        slow.release();
        await page.waitForSelector(activeNode('conversation.idle.occupied'));
        await page.waitForSelector(`${row('conversation:watched')}[data-state="idle.occupied"]`);
        await alice.waitForType('agent_response_complete');
        expect(await isActive(page, 'conversation.working.calling_tool')).toBe(false);
        // The caption names the path through `ending`: the turn's end, then the eventless choice
        // made there (not an `always` edge out of calling_tool, which does not exist). The steps
        // before depend on how the 50 ms batches fell; the microsteps can arrive after the
        // summary that moved the state, so the caption is awaited.
        const afterTurn =
          /^last transition: working\.\w+ → (.+ → )?ending → idle\.occupied on (.+, then )?turn\.finished \[isActiveTurn\], then always \[hasParticipants\]$/;
        await page
          .waitForFunction(
            `${String(afterTurn)}.test(document.querySelector('#caption').textContent)`,
          )
          .catch(() => undefined);
        expect(await page.textContent('#caption')).toMatch(afterTurn);
        await page.screenshot({ path: `${RESULTS}inspector-idle.png` });

        // Time travel: the slider's points are the conversation's frames, so the tool_call frame's
        // place in "Frames until here" (all of them, before travelling) is its point's index.
        await page.click('[data-testid=timeline-load]');
        await page.waitForSelector('[data-testid=timeline-slider]:not([disabled])');
        await page.waitForSelector(`${lastFrameRow}.frame-agent_response_complete`);
        const frames = await framesUntilHere(page);
        const toolCall = frames.indexOf('tool_call');
        const userMessage = frames.indexOf('user_message');
        expect(toolCall).toBeGreaterThan(userMessage);
        expect(userMessage).toBeGreaterThan(0);
        expect(Number(await page.getAttribute('[data-testid=timeline-slider]', 'max'))).toBe(
          frames.length - 1,
        );

        await travelTo(page, toolCall);
        await page.waitForSelector(`${lastFrameRow}.frame-tool_call`);
        await page.waitForSelector(
          activeNode('conversation.working.calling_tool', { historical: true }),
        );
        expect(await isActive(page, 'conversation.idle.occupied')).toBe(false);
        expect(await page.getAttribute(row('conversation:watched'), 'data-state')).toBe(
          'working.calling_tool',
        );

        await travelTo(page, userMessage - 1);
        await page.waitForSelector(`${lastFrameRow}.frame-${frames[userMessage - 1] ?? ''}`);
        await page.waitForSelector(activeNode('conversation.idle.occupied', { historical: true }));
        expect(await isActive(page, 'conversation.working.calling_tool')).toBe(false);

        await travelTo(page, toolCall);
        await page.waitForSelector(
          activeNode('conversation.working.calling_tool', { historical: true }),
        );
        await page.screenshot({ path: `${RESULTS}inspector-time-travel.png` });

        await page.click('[data-testid=timeline-live]');
        await page.waitForSelector('[data-testid=diagram]:not(.historical)');
        await page.waitForSelector(activeNode('conversation.idle.occupied'));
        await page.waitForSelector(`${row('conversation:watched')}[data-state="idle.occupied"]`);
        expect(await page.getAttribute('body', 'class')).not.toContain('travelling');
        expect(pageErrors).toEqual([]);
      } finally {
        slow.release();
      }
    });

    it('names connections by user, lists busy conversations first, folds idle ones and shows the answer being written', async () => {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const answer = 'The first half of the answer, then the rest once released.';
      try {
        const server = await startTestServer({
          inspector: true,
          model: createScriptedModel(() => ({ text: answer, pause: { after: 24, gate } }), {
            chunkSize: 6,
          }),
        });
        const alice = await connectClient(server.url, 'zeta-busy', 'alice');
        await connectClient(server.url, 'zeta-busy', 'bob');
        await connectClient(server.url, 'alpha-quiet', 'carol');
        const leaving = await connectClient(server.url, 'beta-idle', 'dave');
        await leaving.close();
        alice.send({ type: 'user_message', content: 'tell me' });
        await alice.waitForType('agent_response_chunk', (frame) => frame.index === 3);
        const page = await openInspector(server.url);

        await page.waitForSelector(
          `${row('conversation:zeta-busy')}[data-state="working.streaming"]`,
        );
        await page.waitForSelector(
          '[data-testid=idle-toggle]:has-text("Show 1 idle conversation")',
        );
        const conversations = (await page.evaluate<string[]>(VISIBLE_ROWS)).filter((path) =>
          path.startsWith('conversation:'),
        );
        expect(conversations).toEqual(['conversation:zeta-busy', 'conversation:alpha-quiet']);
        const names = await page
          .locator('[data-testid=actor-row][data-kind=connection] .name')
          .allTextContents();
        expect(names.sort()).toEqual(['alice', 'bob', 'carol']);
        const sub = await page
          .locator('[data-testid=actor-row][data-kind=connection]', { hasText: 'alice' })
          .locator('.sub')
          .textContent();
        expect(sub).toMatch(/^conn_/);

        await page.click('[data-testid=idle-toggle]');
        await page.waitForSelector(row('conversation:beta-idle'));
        expect((await page.evaluate<string[]>(VISIBLE_ROWS)).at(-1)).toBe('conversation:beta-idle');

        await page.click(row('conversation:zeta-busy'));
        const strip = page.locator('[data-testid=answer]');
        await strip.waitFor();
        expect(await strip.getAttribute('data-phase')).toBe('streaming');
        expect(await strip.locator('.answer-text').textContent()).toBe(answer.slice(0, 24));
        expect(await strip.locator('.answer-label').textContent()).toContain(
          'streaming · 24 characters',
        );
        await page.waitForSelector(activeNode('conversation.working.streaming'));
        await page.screenshot({ path: `${RESULTS}inspector-answer.png` });

        release();
        await alice.waitForType('agent_response_complete');
        await strip.waitFor({ state: 'hidden' });
        await page.waitForSelector(`${row('conversation:zeta-busy')}[data-state="idle.occupied"]`);
        expect(pageErrors).toEqual([]);
      } finally {
        release();
      }
    });

    it('shows a hibernated connection muted, and its events when a frame wakes it', async () => {
      const server = await startTestServer({
        inspector: true,
        heartbeatIntervalMs: 100,
        hibernateAfterMs: 1,
      });
      const alice = await connectClient(server.url, 'sleepy', 'alice');
      const page = await openInspector(server.url);

      const sleeper = '[data-testid=actor-row][data-kind=connection].status-hibernated';
      await page.waitForSelector(`${sleeper}[data-state=hibernated]`);
      const path = (await page.getAttribute(sleeper, 'data-path')) ?? '';
      await page.click(row(path));
      await page.waitForSelector(activeNode('connection.hibernated'));
      expect(await page.textContent('#selected-meta')).toBe(
        'connection · hibernated · user alice · child of parley · wakes on its next event',
      );

      alice.send({ type: 'typing_indicator', is_typing: true });
      await page.waitForSelector('[data-testid=events] .event.kind-actor-woken');
      expect(pageErrors).toEqual([]);
    });

    it('loads a recording file as a timeline with one point per event frame', async () => {
      const text = await readFile(RECORDING, 'utf8');
      const eventFrames = text
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as { kind: string; to?: string; frame?: { type: string } })
        .filter((entry) => entry.kind === 'frame' && entry.to === undefined);
      const server = await startTestServer({ inspector: true });
      const page = await openInspector(server.url);

      await page.setInputFiles('[data-testid=recording-file]', RECORDING);
      await page.waitForSelector('[data-testid=timeline-slider]:not([disabled])');
      const slider = page.locator('[data-testid=timeline-slider]');
      expect(Number(await slider.getAttribute('max')) + 1).toBe(eventFrames.length);
      expect(await framesUntilHere(page)).toEqual(eventFrames.map((entry) => entry.frame?.type));
      expect(await page.textContent('#selected-title')).toBe('conversation:tool-call');

      const toolCall = eventFrames.findIndex((entry) => entry.frame?.type === 'tool_call');
      await travelTo(page, toolCall);
      await page.waitForSelector(
        activeNode('conversation.working.calling_tool', { historical: true }),
      );
      await page.screenshot({ path: `${RESULTS}inspector-recording.png` });
      expect(pageErrors).toEqual([]);
    });
  },
);
