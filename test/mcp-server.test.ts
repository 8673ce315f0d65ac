/**
 * MCP servers wired into a running Parley (`startServer({ tools, mcp })`), over real sockets:
 * their tools in a turn, isError, Parley's tool timeout and a participant's cancel reaching the
 * server as MCP cancellations, a changed tool list offered on the next turn, approval per MCP
 * tool, lazy start, a crash and its reconnect on `/health`, and stdio servers closed on shutdown.
 * Over 300 lines because each behaviour the issue names gets its own test on the same fixtures.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createAgentMcpTools, parseAgents } from '../src/agent/agents.js';
import type { LanguageModel, ModelMessage, ModelStreamPart } from '../src/agent/model.js';
import { ParleyError } from '../src/errors.js';
import type { InspectorMessage } from '../src/inspector/inspector-protocol.js';
import { startServer } from '../src/server/server.js';
import { McpHub, type McpConfig, type McpServerHealth } from '../src/tools/mcp/index.js';
import { ToolRegistry } from '../src/tools/registry.js';
import {
  isRunning,
  startHttpFixture,
  stdioFixture,
  toolContext,
  type HttpFixture,
} from './support/mcp-fixtures.js';
import { connectInspector } from './support/inspector-client.js';
import { connectClient } from './support/test-client.js';
import { startTestServer, toServerOptions } from './support/test-server.js';

// Reconnects wait for the client's backoff (0.25-0.5 s first), and fixtures start under tsx.
const WAIT = { timeout: 15_000, interval: 50 };

const usage = { inputTokens: 1, outputTokens: 1 };

/**
 * A model that calls `<tool>` with `<json>` when the user writes `call <tool> <json>`, then says
 * what the tool answered (`ok …` or `error …`); it records the tool names each request offered.
 */
function commandModel(offered: string[][] = []): LanguageModel {
  return {
    specificationVersion: 'parley.model.v1',
    provider: 'test',
    modelId: 'commands',
    async *stream({ messages, tools }) {
      await Promise.resolve();
      offered.push(tools.map((tool) => tool.name));
      const last = messages.at(-1) as ModelMessage;
      const say = (text: string): ModelStreamPart[] => [
        { type: 'text-delta', delta: text },
        { type: 'finish', finishReason: 'stop', usage },
      ];
      if (last.role === 'tool') {
        yield* say(`${last.isError ? 'error' : 'ok'} ${JSON.stringify(last.output)}`);
        return;
      }
      const command = last.role === 'user' ? /^call (\S+) (.*)$/s.exec(last.content) : null;
      if (command === null) {
        yield* say('nothing to do');
        return;
      }
      yield {
        type: 'tool-call',
        toolCallId: `call_${String(messages.length)}`,
        toolName: command[1] ?? '',
        input: JSON.parse(command[2] ?? '{}') as unknown,
      };
      yield { type: 'finish', finishReason: 'tool-calls', usage };
    },
  };
}

type ServerConfig = McpConfig['servers'][string];

/** A Parley whose `fixture` MCP server is the stdio fixture (or `server`). */
async function parleyWithFixture(
  options: { server?: ServerConfig; toolTimeoutMs?: number; approvalTimeoutMs?: number } = {},
) {
  const offered: string[][] = [];
  const tools = new ToolRegistry();
  const parley = await startTestServer({
    model: commandModel(offered),
    tools,
    mcp: { servers: { fixture: options.server ?? stdioFixture() } },
    ...(options.toolTimeoutMs === undefined ? {} : { toolTimeoutMs: options.toolTimeoutMs }),
    ...(options.approvalTimeoutMs === undefined
      ? {}
      : { approvalTimeoutMs: options.approvalTimeoutMs }),
  });
  const health = async (): Promise<McpServerHealth[]> => {
    const response = await fetch(`${parley.url}/health`);
    return ((await response.json()) as { mcp_servers: McpServerHealth[] }).mcp_servers;
  };
  const seen = async () =>
    (await tools.execute('fixture__seen', {}, toolContext())) as {
      started: string[];
      cancellations: { id: string; reason: string }[];
    };
  return { parley, tools, offered, health, seen };
}

const https: HttpFixture[] = [];
afterEach(async () => {
  await Promise.all(https.splice(0).map((fixture) => fixture.kill()));
});

describe('MCP servers in a running Parley', () => {
  it('offers a stdio server’s tools to the model and runs them in a turn, frames and all', async () => {
    const { parley, offered, health } = await parleyWithFixture();
    const alice = await connectClient(parley.url, 'mcp', 'alice');

    alice.send({ type: 'user_message', content: 'call fixture__echo {"text":"hello"}' });
    const call = await alice.waitForType('tool_call');
    expect(call).toMatchObject({ tool_name: 'fixture__echo', arguments: { text: 'hello' } });
    const result = await alice.waitForType('tool_result');
    expect(result).toMatchObject({ tool_name: 'fixture__echo', ok: true, result: 'hello' });
    const done = await alice.waitForType('agent_response_complete');
    expect(done.content).toBe('ok "hello"');
    expect(offered[0]).toContain('fixture__echo');
    expect(offered[0]).toContain('fixture__every_content');

    expect(await health()).toEqual([
      {
        name: 'fixture',
        transport: 'stdio',
        startup: 'eager',
        state: 'ready',
        tools: 12,
        failed_attempts: 0,
        connected_at: expect.any(Number) as number,
      },
    ]);
  });

  it('runs a Streamable HTTP server’s tools the same way', async () => {
    const http = await startHttpFixture();
    https.push(http);
    const { parley, health } = await parleyWithFixture({ server: { url: http.url } });
    const alice = await connectClient(parley.url, 'mcp-http', 'alice');

    alice.send({ type: 'user_message', content: 'call fixture__add {"a":2,"b":3}' });
    const result = await alice.waitForType('tool_result');
    expect(result).toMatchObject({ tool_name: 'fixture__add', ok: true, result: { sum: 5 } });
    expect(await health()).toMatchObject([{ name: 'fixture', transport: 'http', state: 'ready' }]);
  });

  it('hands an isError result to the model as a tool error with the server’s words', async () => {
    const { parley } = await parleyWithFixture();
    const alice = await connectClient(parley.url, 'mcp-fail', 'alice');

    alice.send({ type: 'user_message', content: 'call fixture__fail {"message":"Disk full"}' });
    const result = await alice.waitForType('tool_result');
    expect(result).toMatchObject({
      ok: false,
      error: { code: 'tool_failed', message: 'Disk full' },
    });
    const done = await alice.waitForType('agent_response_complete');
    expect(done.content).toBe('error {"error":{"code":"tool_failed","message":"Disk full"}}');
  });

  it('stops a slow MCP tool at PARLEY_TOOL_TIMEOUT_MS, and the server sees the cancellation', async () => {
    const { parley, seen } = await parleyWithFixture({ toolTimeoutMs: 500 });
    const alice = await connectClient(parley.url, 'mcp-timeout', 'alice');

    alice.send({ type: 'user_message', content: 'call fixture__slow {"id":"t1","ms":60000}' });
    const result = await alice.waitForType('tool_result');
    expect(result).toMatchObject({
      ok: false,
      error: { code: 'tool_timeout', message: 'The tool did not finish within 500 ms.' },
    });
    await vi.waitFor(async () => {
      expect((await seen()).cancellations).toContainEqual({
        id: 't1',
        reason: 'AbortError: The tool call was stopped.',
      });
    }, WAIT);
  });

  it('cancels a running MCP call when a participant cancels the turn, and the server sees it', async () => {
    const { parley, seen } = await parleyWithFixture();
    const alice = await connectClient(parley.url, 'mcp-cancel', 'alice');

    alice.send({ type: 'user_message', content: 'call fixture__slow {"id":"c1","ms":60000}' });
    await alice.waitForType('tool_call');
    await vi.waitFor(async () => {
      expect((await seen()).started).toContain('c1');
    }, WAIT);
    alice.send({ type: 'cancel' });
    const done = await alice.waitForType('agent_response_complete');
    expect(done.status).toBe('cancelled');
    await vi.waitFor(async () => {
      expect((await seen()).cancellations.map((cancellation) => cancellation.id)).toContain('c1');
    }, WAIT);
  });

  it('offers a tool the server added (tools/list_changed) from the next turn on', async () => {
    const { parley, tools, offered } = await parleyWithFixture();
    const alice = await connectClient(parley.url, 'mcp-list', 'alice');

    alice.send({ type: 'user_message', content: 'call fixture__add_tool {"name":"extra"}' });
    await alice.waitForType('agent_response_complete');
    expect(offered.flat()).not.toContain('fixture__extra');
    await vi.waitFor(() => {
      expect(tools.has('fixture__extra')).toBe(true);
    }, WAIT);

    alice.send({ type: 'user_message', content: 'call fixture__extra {}' });
    const result = await alice.waitForType(
      'tool_result',
      (frame) => frame.tool_name === 'fixture__extra',
    );
    expect(result).toMatchObject({ tool_name: 'fixture__extra', result: 'extra' });
    expect(offered.at(-1)).toContain('fixture__extra');
  });

  it('asks the participants before an MCP tool configured with needsApproval runs', async () => {
    const { parley, seen } = await parleyWithFixture({
      server: stdioFixture({ extra: { needsApproval: ['slow'] } }),
      approvalTimeoutMs: 60_000,
    });
    const alice = await connectClient(parley.url, 'mcp-approval', 'alice');
    const bob = await connectClient(parley.url, 'mcp-approval', 'bob');

    alice.send({ type: 'user_message', content: 'call fixture__slow {"id":"a1","ms":1}' });
    const request = await bob.waitForType('tool_approval_request');
    expect(request).toMatchObject({ tool_name: 'fixture__slow', arguments: { id: 'a1', ms: 1 } });
    expect((await seen()).started).not.toContain('a1');

    bob.send({ type: 'tool_approval', tool_call_id: request.tool_call_id, decision: 'approve' });
    const result = await alice.waitForType('tool_result');
    expect(result).toMatchObject({ ok: true, result: 'waited 1 ms' });
    expect((await seen()).started).toContain('a1');

    // Not every tool of the server: echo runs at once.
    alice.send({ type: 'user_message', content: 'call fixture__echo {"text":"free"}' });
    await alice.waitForType('tool_result', (frame) => frame.tool_name === 'fixture__echo');
    expect(alice.frames.filter((frame) => frame.type === 'tool_approval_request')).toHaveLength(1);
  });

  it('starts a lazy server on the first turn, whose model already sees its tools', async () => {
    const { parley, offered, health } = await parleyWithFixture({
      server: stdioFixture({ extra: { startup: 'lazy' } }),
    });
    expect(await health()).toMatchObject([{ state: 'idle', startup: 'lazy', tools: 0 }]);
    const alice = await connectClient(parley.url, 'mcp-lazy', 'alice');

    alice.send({ type: 'user_message', content: 'call fixture__echo {"text":"first"}' });
    const result = await alice.waitForType('tool_result');
    expect(result).toMatchObject({ ok: true, result: 'first' });
    expect(offered[0]).toContain('fixture__echo');
    expect(await health()).toMatchObject([{ state: 'ready', tools: 12 }]);
  });

  it('reconnects a stdio server that crashed during a call, which the model sees as tool_unavailable', async () => {
    const { parley, tools, health } = await parleyWithFixture();
    const alice = await connectClient(parley.url, 'mcp-crash', 'alice');
    const firstPid = await tools.execute('fixture__pid', {}, toolContext());

    alice.send({ type: 'user_message', content: 'call fixture__crash {}' });
    const crashed = await alice.waitForType('tool_result');
    expect(crashed).toMatchObject({ ok: false, error: { code: 'tool_unavailable' } });
    await vi.waitFor(async () => {
      expect(await health()).toMatchObject([{ state: 'ready', failed_attempts: 0 }]);
    }, WAIT);
    alice.send({ type: 'user_message', content: 'call fixture__pid {}' });
    const back = await alice.waitForType(
      'tool_result',
      (frame) => frame.tool_name === 'fixture__pid',
    );
    expect(back).toMatchObject({ ok: true });
    expect(back.ok && back.result).not.toBe(firstPid);
  });

  it('lists a server that went away as reconnecting, with tool_unavailable meanwhile, until it is back', async () => {
    const http = await startHttpFixture();
    https.push(http);
    const { parley, health } = await parleyWithFixture({ server: { url: http.url } });
    const alice = await connectClient(parley.url, 'mcp-away', 'alice');

    await http.kill();
    // Attempts go on with backoff while it is away.
    const away = await vi.waitFor(async () => {
      const [status] = await health();
      expect(status).toMatchObject({ state: 'reconnecting' });
      expect(status?.failed_attempts).toBeGreaterThanOrEqual(2);
      return status;
    }, WAIT);
    expect(away).toMatchObject({
      next_attempt_at: expect.any(Number) as number,
      last_error: expect.stringMatching(/fetch failed|terminated|ECONNREFUSED/) as string,
    });
    alice.send({ type: 'user_message', content: 'call fixture__echo {"text":"anyone?"}' });
    const meanwhile = await alice.waitForType('tool_result');
    expect(meanwhile).toMatchObject({
      ok: false,
      error: {
        code: 'tool_unavailable',
        message: expect.stringMatching(
          /^MCP server "fixture" is unavailable \(reconnecting after \d+ failed attempt\(s\): .+\); try again later\.$/,
        ) as string,
      },
    });

    await http.restart();
    await vi.waitFor(async () => {
      expect(await health()).toMatchObject([{ state: 'ready', failed_attempts: 0 }]);
    }, WAIT);
    alice.send({ type: 'user_message', content: 'call fixture__echo {"text":"back"}' });
    const back = await alice.waitForType('tool_result', (frame) => frame.ok);
    expect(back).toMatchObject({ result: 'back' });
  });

  it('shows an MCP call in the inspector like any tool call: state, pipeline, timeline', async () => {
    const parley = await startTestServer({
      model: commandModel(),
      tools: new ToolRegistry(),
      mcp: { servers: { fixture: stdioFixture() } },
      inspector: true,
    });
    const inspector = await connectInspector(parley.url);
    const alice = await connectClient(parley.url, 'inspected', 'alice');
    inspector.request({ type: 'subscribe', path: 'conversation:inspected' });
    await inspector.waitFor((m) => m.type === 'actor' && m.path === 'conversation:inspected');

    alice.send({ type: 'user_message', content: 'call fixture__echo {"text":"seen"}' });
    await alice.waitForType('agent_response_complete');
    type Events = Extract<InspectorMessage, { type: 'events' }>;
    type InspectedRecord = Events['records'][number];
    // Events reach the inspector in batches, possibly after the frames.
    const eventRecord = (predicate: (record: InspectedRecord) => boolean) =>
      inspector
        .waitFor<Events>((m) => m.type === 'events' && m.records.some(predicate))
        .then((m) => m.records.find(predicate));
    await eventRecord(
      (record) =>
        record.path === 'conversation:inspected' &&
        record.kind === 'snapshot' &&
        record.detail.state === 'working.calling_tool',
    );
    const pipeline = await eventRecord(
      (record) => record.kind === 'pipeline' && record.path === 'conversation:inspected',
    );
    expect(pipeline?.detail).toMatchObject({ tools_in_flight: [{ tool_name: 'fixture__echo' }] });

    inspector.request({ type: 'timeline', conversation_id: 'inspected' });
    const timeline = await inspector.waitFor<Extract<InspectorMessage, { type: 'timeline' }>>(
      (m) => m.type === 'timeline',
    );
    const call = timeline.points.find((point) => point.frame.type === 'tool_call');
    expect(call?.frame).toMatchObject({ tool_name: 'fixture__echo' });
    expect(call?.states['conversation:inspected']).toBe('working.calling_tool');
    expect(timeline.entries).toContainEqual(
      expect.objectContaining({ kind: 'tool.outcome', tool_name: 'fixture__echo' }),
    );
    inspector.close();
  });

  it('stops every stdio server, even one that ignores SIGTERM, when the server closes', async () => {
    const tools = new ToolRegistry();
    const parley = await startServer(
      toServerOptions({
        environment: {},
        port: 0,
        host: '127.0.0.1',
        logLevel: 'silent',
        database: 'memory',
        shutdownGraceMs: 0,
        tools,
        mcp: { servers: { fixture: stdioFixture({ linger: true }) } },
      }),
    );
    const pid = Number(await tools.execute('fixture__pid', {}, toolContext()));
    expect(isRunning(pid)).toBe(true);

    await parley.close();
    expect(isRunning(pid)).toBe(false);
    expect(tools.list()).toEqual([]);
  });

  it('never shows a server’s header or env values in /health, even when the server echoes them', async () => {
    const token = 'health-token-93be07a1';
    const secret = 'health-secret-2c7d51f9';
    const http = await startHttpFixture({ token: 'the-right-one' });
    https.push(http);
    const parley = await startTestServer({
      tools: new ToolRegistry(),
      mcp: {
        servers: {
          crm: { url: http.url, headers: { authorization: `Bearer ${token}` } },
          leaky: {
            command: process.execPath,
            args: ['-e', 'console.error("my secret is " + process.env.SECRET); process.exit(1)'],
            env: { SECRET: secret },
          },
        },
      },
    });
    const body = await vi.waitFor(async () => {
      const text = await (await fetch(`${parley.url}/health`)).text();
      // The fixture's 401 repeats the header; the stdio server prints its env on stderr.
      expect(text).toContain('Unauthorized: got \\"[redacted]\\"');
      expect(text).toContain('my secret is [redacted]');
      return text;
    }, WAIT);
    expect(body).not.toContain(token);
    expect(body).not.toContain(secret);
    expect(body).not.toContain(http.url);
  });

  it('lists no MCP server in /health when none is configured', async () => {
    const parley = await startTestServer();
    const body = (await (await fetch(`${parley.url}/health`)).json()) as Record<string, unknown>;
    expect(body.mcp_servers).toEqual([]);
  });
});

describe('the mcp option', () => {
  it('refuses a bad configuration with a TypeError naming the field', async () => {
    await expect(
      startTestServer({
        mcp: { servers: { files: { url: 'http://127.0.0.1/mcp', command: 'x' } } },
      }),
    ).rejects.toThrow(
      new TypeError(
        'Invalid MCP configuration: mcp.servers.files: Expected exactly one of `command` (a stdio server) or `url` (Streamable HTTP)',
      ),
    );
  });

  it('needs tools to be a ToolRegistry, where the servers’ tools are registered', async () => {
    const tools = { describe: () => [], execute: () => Promise.resolve(null) };
    await expect(
      startTestServer({ tools, mcp: { servers: { fixture: stdioFixture() } } }),
    ).rejects.toThrow(
      new TypeError(
        'Option "mcp" needs "tools" to be a ToolRegistry (or absent): the servers\' tools are registered in it.',
      ),
    );
  });
});

describe('an agent’s mcp', () => {
  it('becomes a tool source in the agent’s registry, bounded by the agent’s tool timeout', async () => {
    const [agent, plain] = parseAgents(
      {
        agents: [
          {
            id: 'files',
            model: 'offline',
            toolTimeoutMs: 300,
            mcp: { servers: { fixture: stdioFixture() } },
          },
          { id: 'plain', model: 'offline' },
        ],
      },
      'agents.json',
    );
    if (agent === undefined || plain === undefined) throw new Error('expected two agents');
    const registry = new ToolRegistry();
    await expect(createAgentMcpTools(plain, { registry })).resolves.toBeUndefined();
    const mcp = await createAgentMcpTools(agent, {
      registry,
      toolTimeoutMs: 60_000,
      stderr: 'ignore',
    });
    if (mcp === undefined) throw new Error('expected a tool source');
    const hub = new McpHub().add(mcp, agent.id);
    try {
      await hub.start();
      expect(hub.health()).toMatchObject([{ agent: 'files', name: 'fixture', state: 'ready' }]);
      const error = await registry
        .execute('fixture__slow', { id: 'agent-timeout', ms: 60_000 }, toolContext())
        .catch((reason: unknown) => reason);
      expect(error).toBeInstanceOf(ParleyError);
      expect(error).toMatchObject({
        code: 'tool_timeout',
        message: 'The tool did not finish within 300 ms.',
      });
    } finally {
      await hub.close();
    }
    expect(registry.list()).toEqual([]);
  });
});
