/**
 * MCP tools against real MCP servers written with the SDK's server package
 * (test/fixtures/mcp), over stdio (a child process) and Streamable HTTP (a child process on
 * 127.0.0.1): list, call, content mapping, error results, timeouts and cancellation that the
 * server sees, crash and reconnect, and tool list changes.
 */
import { firstValueFrom } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runToolCall } from '../streams/run-tool-call.js';
import { ParleyError } from '../src/errors.js';
import { calculatorTool } from '../src/tools/calculator.js';
import { McpTools, type McpConfig, type McpToolsOptions } from '../src/tools/mcp/index.js';
import { ToolRegistry } from '../src/tools/registry.js';
import {
  startHttpFixture,
  stdioFixture,
  toolContext,
  waitForStatus,
  type HttpFixture,
} from './support/mcp-fixtures.js';

type ServerConfig = McpConfig['servers'][string];

// Polling the fixture through a tool call can be slow on a loaded machine; vitest's 1 s is not.
const WAIT = { timeout: 10_000, interval: 50 };

interface Seen {
  started: string[];
  cancellations: { id: string; reason: string }[];
}

async function rejectionOf(promise: Promise<unknown>): Promise<ParleyError> {
  const reason = await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
  expect(reason).toBeInstanceOf(ParleyError);
  return reason as ParleyError;
}

describe.each(['stdio', 'http'] as const)('MCP tools over %s', (transport) => {
  let http: HttpFixture | undefined;
  const opened: McpTools[] = [];

  beforeAll(async () => {
    if (transport === 'http') http = await startHttpFixture();
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((mcp) => mcp.close()));
  });
  afterAll(async () => {
    await http?.kill();
  });

  function serverConfig(extra: Partial<ServerConfig> = {}): ServerConfig {
    if (transport === 'stdio') return stdioFixture({ extra });
    if (http === undefined) throw new Error('the HTTP fixture did not start');
    return { url: http.url, ...extra };
  }

  async function open(extra: Partial<ServerConfig> = {}, options: Partial<McpToolsOptions> = {}) {
    const registry = new ToolRegistry([calculatorTool]);
    const mcp = new McpTools(
      { servers: { fixture: serverConfig(extra) } },
      {
        registry,
        toolTimeoutMs: 5_000,
        backoff: { initialMs: 50, maxMs: 200 },
        stderr: 'ignore',
        ...options,
      },
    );
    opened.push(mcp);
    await mcp.start();
    return { registry, mcp };
  }

  async function seen(registry: ToolRegistry): Promise<Seen> {
    return (await registry.execute('fixture__seen', {}, toolContext())) as Seen;
  }

  describe('on one connection', () => {
    let shared: { registry: ToolRegistry; mcp: McpTools };
    beforeAll(async () => {
      shared = await open();
      // Kept open across these tests; `afterEach` closes only what a test opened itself.
      opened.splice(opened.indexOf(shared.mcp), 1);
    });
    afterAll(async () => {
      await shared.mcp.close();
    });

    it('lists the server’s tools as fixture__<tool>, each JSON Schema passed on unchanged', () => {
      const { registry, mcp } = shared;
      expect(registry.list().map((tool) => tool.name)).toEqual([
        'calculator',
        'fixture__echo',
        'fixture__add',
        'fixture__fail',
        'fixture__slow',
        'fixture__seen',
        'fixture__pid',
        'fixture__env',
        'fixture__crash',
        'fixture__drop_session',
        'fixture__add_tool',
        'fixture__remove_tool',
        'fixture__every_content',
      ]);
      expect(registry.describe()[1]).toEqual({
        name: 'fixture__echo',
        description: 'Repeats the text it is given.',
        inputSchema: {
          $schema: 'https://json-schema.org/draft/2020-12/schema',
          type: 'object',
          properties: { text: { type: 'string', description: 'What to repeat.' } },
          required: ['text'],
        },
      });
      expect(mcp.status()).toEqual([
        expect.objectContaining({
          name: 'fixture',
          transport,
          startup: 'eager',
          state: 'ready',
          failedAttempts: 0,
          skippedTools: [],
          missingTools: [],
        }),
      ]);
    });

    it('calls a tool and answers with its text', async () => {
      const { registry } = shared;
      await expect(
        registry.execute('fixture__echo', { text: 'hello' }, toolContext()),
      ).resolves.toBe('hello');
    });

    it('answers with the structured content when the tool returns some', async () => {
      const { registry } = shared;
      await expect(
        registry.execute('fixture__add', { a: 2, b: 3 }, toolContext()),
      ).resolves.toEqual({
        sum: 5,
      });
    });

    it('maps every content type as documented, leaving binary data out', async () => {
      const { registry } = shared;
      await expect(registry.execute('fixture__every_content', {}, toolContext())).resolves.toEqual({
        content: [
          { type: 'text', text: 'first' },
          { type: 'image', mimeType: 'image/png', bytes: 68 },
          { type: 'audio', mimeType: 'audio/wav', bytes: 4 },
          { type: 'resource', uri: 'file:///notes.txt', mimeType: 'text/plain', text: 'note body' },
          {
            type: 'resource',
            uri: 'file:///blob.bin',
            mimeType: 'application/octet-stream',
            bytes: 3,
          },
          {
            type: 'resource_link',
            uri: 'file:///report.pdf',
            name: 'report',
            mimeType: 'application/pdf',
            description: 'The full report.',
          },
        ],
      });
    });

    it('turns an isError result into tool_failed with the tool’s own text', async () => {
      const { registry } = shared;
      const error = await rejectionOf(
        registry.execute('fixture__fail', { message: 'The disk is full' }, toolContext()),
      );
      expect(error).toMatchObject({ code: 'tool_failed', message: 'The disk is full' });
    });

    it('passes arguments on unchanged, so the server’s own validation error reaches the model', async () => {
      const { registry } = shared;
      const error = await rejectionOf(
        registry.execute('fixture__echo', { text: 42 }, toolContext()),
      );
      expect(error).toMatchObject({
        code: 'tool_failed',
        message:
          'Input validation error: Invalid arguments for tool echo: text: Invalid input: expected string, received number',
      });
    });

    it('stops a slow tool at Parley’s tool timeout, and the server sees the cancellation', async () => {
      const { registry } = shared;
      const outcome = await firstValueFrom(
        runToolCall(
          (signal) =>
            registry.execute(
              'fixture__slow',
              { id: 'parley-timeout', ms: 60_000 },
              toolContext(signal),
            ),
          { timeoutMs: 500 },
        ),
      );
      expect(outcome).toMatchObject({
        ok: false,
        error: { code: 'tool_timeout', message: 'The tool did not finish within 500 ms.' },
      });
      await vi.waitFor(async () => {
        expect((await seen(registry)).cancellations).toContainEqual({
          id: 'parley-timeout',
          reason: 'AbortError: The tool call was stopped.',
        });
      }, WAIT);
    });
    it('cancels a running call when its signal aborts, and the server sees the cancellation', async () => {
      const { registry } = shared;
      const controller = new AbortController();
      const call = registry.execute(
        'fixture__slow',
        { id: 'cancelled', ms: 60_000 },
        toolContext(controller.signal),
      );
      const settled = call.then(
        () => 'resolved',
        (reason: unknown) => reason,
      );
      await vi.waitFor(async () => {
        expect((await seen(registry)).started).toContain('cancelled');
      }, WAIT);
      const reason = new Error('turn cancelled');
      controller.abort(reason);
      await expect(settled).resolves.toBe(reason);
      await vi.waitFor(async () => {
        expect((await seen(registry)).cancellations).toContainEqual({
          id: 'cancelled',
          reason: 'Error: turn cancelled',
        });
      }, WAIT);
    });
  });

  it('bounds a call by toolTimeoutMs on its own, sending the cancellation too', async () => {
    const { registry } = await open({}, { toolTimeoutMs: 1_000 });
    const error = await rejectionOf(
      registry.execute('fixture__slow', { id: 'mcp-timeout', ms: 60_000 }, toolContext()),
    );
    expect(error).toMatchObject({
      code: 'tool_timeout',
      message: 'The tool did not finish within 1000 ms.',
    });
    await vi.waitFor(async () => {
      expect((await seen(registry)).cancellations).toContainEqual({
        id: 'mcp-timeout',
        reason: 'SdkError: Request timed out',
      });
    }, WAIT);
  });

  it('reconnects a server that crashed; its tools report tool_unavailable meanwhile', async () => {
    const { registry, mcp } = await open();
    const firstPid = await registry.execute('fixture__pid', {}, toolContext());
    const crash = await rejectionOf(registry.execute('fixture__crash', {}, toolContext()));
    expect(crash.code).toBe('tool_unavailable');
    expect(crash.message).toMatch(
      /^MCP server "fixture" is unavailable \(.+\); try again later\.$/,
    );

    const reconnecting = await waitForStatus(mcp, 'fixture', (s) => s.state === 'reconnecting');
    expect(reconnecting.failedAttempts).toBeGreaterThanOrEqual(1);
    // The tools stay listed for the model, and answer tool_unavailable until the server is back.
    expect(reconnecting.tools).toContain('fixture__echo');
    const meanwhile = await rejectionOf(
      registry.execute('fixture__echo', { text: 'anyone?' }, toolContext()),
    );
    expect(meanwhile.code).toBe('tool_unavailable');
    expect(meanwhile.message).toMatch(
      /^MCP server "fixture" is unavailable \(reconnecting after \d+ failed attempt\(s\): .+\); try again later\.$/,
    );

    await http?.restart();
    const ready = await waitForStatus(mcp, 'fixture', (s) => s.state === 'ready');
    expect(ready).toMatchObject({ failedAttempts: 0 });
    expect(ready).not.toHaveProperty('lastError');
    await expect(registry.execute('fixture__echo', { text: 'back' }, toolContext())).resolves.toBe(
      'back',
    );
    expect(await registry.execute('fixture__pid', {}, toolContext())).not.toBe(firstPid);
  });

  it('picks up notifications/tools/list_changed: a tool added, then removed', async () => {
    const { registry, mcp } = await open();
    await registry.execute('fixture__add_tool', { name: 'extra' }, toolContext());
    const added = await waitForStatus(mcp, 'fixture', (s) => s.tools.includes('fixture__extra'));
    expect(added.state).toBe('ready');
    await expect(registry.execute('fixture__extra', {}, toolContext())).resolves.toBe('extra');
    expect(registry.describe().map((tool) => tool.name)).toContain('fixture__extra');

    await registry.execute('fixture__remove_tool', { name: 'extra' }, toolContext());
    await waitForStatus(mcp, 'fixture', (s) => !s.tools.includes('fixture__extra'));
    expect(registry.has('fixture__extra')).toBe(false);
    expect(registry.has('fixture__echo')).toBe(true);
  });

  it('registers only the allowed tools, with approval where configured', async () => {
    const { registry, mcp } = await open({
      tools: ['echo', 'fail', 'teleport'],
      needsApproval: ['fail'],
    });
    expect(registry.list().map((tool) => tool.name)).toEqual([
      'calculator',
      'fixture__echo',
      'fixture__fail',
    ]);
    expect(registry.get('fixture__fail')?.needsApproval).toBe(true);
    expect(registry.get('fixture__echo')?.needsApproval).toBe(false);
    expect(mcp.status()[0]?.missingTools).toEqual(['teleport']);
  });

  it('removes its tools on close, and closing twice is harmless', async () => {
    const { registry, mcp } = await open();
    await mcp.close();
    await mcp.close();
    expect(registry.list().map((tool) => tool.name)).toEqual(['calculator']);
    expect(mcp.status()[0]).toMatchObject({ state: 'closed', tools: [] });
  });
});
