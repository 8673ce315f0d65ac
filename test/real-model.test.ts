import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import type { ServerFrame } from '../src/protocol/frames.js';
import { startServer } from '../src/server/server.js';
import { startProviderServer, type ProviderServer } from './support/provider-server.js';
import { connectInspector } from './support/inspector-client.js';
import { connectClient, upgradeRefusal } from './support/test-client.js';
import { startTestServer, toServerOptions } from './support/test-server.js';

/*
 * A real model from configuration alone, over real sockets: PARLEY_MODEL=openai-compatible:…
 * against a local server speaking the Chat Completions wire format byte for byte.
 */

const KEY = 'sk-parley-test-0123456789abcdef';
const MODEL = 'openai-compatible:llama3.2:1b';

let provider: ProviderServer;
beforeEach(async () => {
  provider = await startProviderServer();
});
afterEach(async () => {
  await provider.close();
});

function capturedLogger() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString('utf8'));
      callback();
    },
  });
  return { logger: createLogger('trace', destination), lines };
}

function environment(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PARLEY_MODEL: MODEL,
    PARLEY_MODEL_BASE_URL: `${provider.origin}/v1`,
    PARLEY_MODEL_API_KEY: KEY,
    ...extra,
  };
}

const completionOf = (frames: readonly ServerFrame[]) =>
  frames.find((frame) => frame.type === 'agent_response_complete');

describe('a real model from PARLEY_MODEL', () => {
  // With PARLEY_MODEL_THREAD=worker the provider's stream is read on the model thread.
  it.each(['main', 'worker'])(
    'answers two participants with a weather tool call, its result fed back, a streamed answer and the usage (model thread: %s)',
    async (thread) => {
      provider.reply(
        { kind: 'stream', api: 'chat-completions', chunks: 'local-tool-call-in-one-chunk' },
        { kind: 'stream', api: 'chat-completions', chunks: 'local-weather-answer' },
      );
      const { logger, lines } = capturedLogger();
      const server = await startTestServer({
        environment: environment({ PARLEY_MODEL_THREAD: thread }),
        logger,
      });
      const alice = await connectClient(server.url, 'weather-room', 'alice');
      const bob = await connectClient(server.url, 'weather-room', 'bob');
      const welcome = await alice.waitForType('welcome');
      expect(welcome.agent).toEqual({ id: 'default', model: MODEL });

      alice.send({ type: 'user_message', content: 'Weather in Paris?' });
      for (const client of [alice, bob]) {
        const call = await client.waitForType('tool_call');
        expect(call).toMatchObject({ tool_name: 'weather', arguments: { location: 'Paris' } });
        const result = await client.waitForType('tool_result');
        expect(result).toMatchObject({ tool_name: 'weather', ok: true });
        const complete = await client.waitForType('agent_response_complete');
        const chunks = client.frames.filter((frame) => frame.type === 'agent_response_chunk');
        expect(chunks.length).toBeGreaterThan(3);
        expect(complete.content).toBe(chunks.map((chunk) => chunk.delta).join(''));
        expect(complete.content).toMatch(/sunny in Paris/);
        expect(complete).toMatchObject({
          status: 'completed',
          steps: 2,
          usage: { input_tokens: 151 + 190, output_tokens: 20 + 6, total_tokens: 367 },
          finish_reason: 'stop',
          raw_finish_reason: 'stop',
        });
        // The arguments, as the model wrote them, reached every participant before the call.
        const deltas = client.frames.filter((frame) => frame.type === 'tool_call_delta');
        expect(deltas.length).toBeGreaterThan(0);
        expect(JSON.parse(deltas.map((delta) => delta.delta).join(''))).toEqual({
          location: 'Paris',
        });
        expect(deltas.every((delta) => delta.seq < call.seq && delta.tool_name === 'weather')).toBe(
          true,
        );
      }

      const [first, second] = provider.requests;
      expect(first?.path).toBe('/v1/chat/completions');
      expect(first?.headers.authorization).toBe(`Bearer ${KEY}`);
      expect(first?.body).toMatchObject({
        model: 'llama3.2:1b',
        stream: true,
        stream_options: { include_usage: true },
      });
      const toolMessage = (second?.body.messages as { role: string; content: string }[]).find(
        (message) => message.role === 'tool',
      );
      expect(JSON.parse(toolMessage?.content ?? '{}')).toMatchObject({
        location: expect.stringMatching(/Paris/) as unknown,
      });

      const frames = JSON.stringify([...alice.frames, ...bob.frames]);
      expect(frames).not.toContain(KEY);
      expect(lines.some((line) => line.includes(`"default=${MODEL}"`))).toBe(true);
      expect(lines.some((line) => line.includes('"level":10'))).toBe(true);
      for (const line of lines) expect(line).not.toContain(KEY);
      await Promise.all([alice.close(), bob.close()]);
    },
  );

  it('shows the inspector the agent and model of a conversation, never the key', async () => {
    provider.reply(
      { kind: 'stream', api: 'chat-completions', chunks: 'local-tool-call-in-one-chunk' },
      { kind: 'stream', api: 'chat-completions', chunks: 'local-weather-answer' },
    );
    const server = await startTestServer({ environment: environment(), inspector: true });
    const inspector = await connectInspector(server.url);
    const alice = await connectClient(server.url, 'inspected', 'alice');
    inspector.request({ type: 'subscribe', path: 'parley' });
    inspector.request({ type: 'subscribe', path: 'conversation:inspected' });
    await inspector.waitFor(
      (message) => message.type === 'actor' && message.path === 'conversation:inspected',
    );
    alice.send({ type: 'user_message', content: 'Weather in Paris?' });
    await alice.waitForType('agent_response_complete');
    inspector.request({ type: 'timeline', conversation_id: 'inspected' });
    await inspector.waitFor((message) => message.type === 'timeline');
    inspector.request({ type: 'list', filter: '' });
    await inspector.waitFor((message) => message.type === 'actors');
    const everything = JSON.stringify(inspector.messages);
    expect(everything).toContain(MODEL);
    expect(everything).toContain('sunny');
    expect(everything).not.toContain(KEY);
    inspector.close();
    await alice.close();
  });

  it.each(['main', 'worker'])(
    'closes the provider connection when a participant cancels mid-stream (model thread: %s)',
    async (thread) => {
      provider.reply({
        kind: 'stream',
        api: 'chat-completions',
        chunks: 'local-weather-answer',
        stallAfter: 3,
      });
      const server = await startTestServer({
        environment: environment({ PARLEY_MODEL_THREAD: thread }),
      });
      const alice = await connectClient(server.url, 'cancel-room', 'alice');
      alice.send({ type: 'user_message', content: 'Weather in Paris?' });
      await alice.waitForType('agent_response_chunk');
      alice.send({ type: 'cancel' });
      await provider.requests[0]?.closedByClient;
      const complete = await alice.waitForType('agent_response_complete');
      expect(complete.status).toBe('cancelled');
      expect(complete.content.length).toBeGreaterThan(0);
      await alice.close();
    },
  );

  it('stops at start naming PARLEY_MODEL_BASE_URL when an openai-compatible model has none', async () => {
    await expect(
      startServer(
        toServerOptions({ environment: { PARLEY_MODEL: MODEL }, port: 0, logLevel: 'silent' }),
      ),
    ).rejects.toThrow(/PARLEY_MODEL_BASE_URL is not set/);
  });

  it('stops at start naming OPENAI_API_KEY, and never shows a key given in the wrong place', async () => {
    await expect(
      startServer(
        toServerOptions({
          environment: { PARLEY_MODEL: 'openai:gpt-4o-mini' },
          port: 0,
          logLevel: 'silent',
        }),
      ),
    ).rejects.toThrow(/OPENAI_API_KEY is not set/);
    const attempt = startServer(
      toServerOptions({
        environment: {
          PARLEY_MODEL: 'openai:gpt-4o-mini',
          OPENAI_API_KEY: KEY,
          OPENAI_BASE_URL: KEY,
        },
        port: 0,
        logLevel: 'silent',
      }),
    );
    await expect(attempt).rejects.toThrow(/OPENAI_BASE_URL/);
    await expect(attempt).rejects.not.toThrow(new RegExp(KEY));
  });
});

describe('per-user token budget', () => {
  it('stops a turn that crosses the budget before its next model call, then refuses the user before a turn starts; others go on', async () => {
    provider.reply(
      { kind: 'stream', api: 'chat-completions', chunks: 'local-tool-call-in-one-chunk' },
      { kind: 'stream', api: 'chat-completions', chunks: 'local-weather-answer' },
    );
    const server = await startTestServer({
      environment: environment(),
      userTokenBudget: 150,
      userTokenWindowMs: 60_000,
    });
    const alice = await connectClient(server.url, 'budget-room', 'alice');
    const bob = await connectClient(server.url, 'budget-room', 'bob');

    alice.send({ type: 'user_message', content: 'Weather in Paris?' });
    // The first model call reports 171 tokens: over 150, so no second call follows.
    const stopped = await alice.waitForType('agent_response_complete');
    expect(stopped).toMatchObject({
      status: 'budget_exceeded',
      steps: 1,
      error: { code: 'budget_exceeded' },
      usage: { total_tokens: 171 },
    });
    expect(provider.requests).toHaveLength(1);

    alice.send({ type: 'user_message', content: 'And in Rome?' });
    const refused = await alice.waitForType('error');
    expect(refused).toMatchObject({ code: 'budget_exceeded', in_reply_to: 'user_message' });
    expect(refused.details?.retry_after_ms).toBeGreaterThan(0);
    expect(refused.details?.retry_after_ms).toBeLessThanOrEqual(60_600);
    // Not broadcast: bob never sees the refused message.
    expect(bob.frames.filter((frame) => frame.type === 'user_message')).toHaveLength(1);

    bob.send({ type: 'user_message', content: 'Weather in Paris?' });
    const answered = await bob.waitForType(
      'agent_response_complete',
      (frame) => frame.status === 'completed',
    );
    expect(answered.content).toMatch(/sunny/);
    await Promise.all([alice.close(), bob.close()]);
  });
});

describe('named agents', () => {
  let directory: string;
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'parley-agents-'));
  });
  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  async function agentsFile(): Promise<string> {
    const path = join(directory, 'agents.json');
    await writeFile(
      path,
      JSON.stringify({
        agents: [
          {
            id: 'forecaster',
            model: MODEL,
            systemPrompt: 'You are a terse forecaster.',
            tools: ['weather'],
            maxSteps: 1,
          },
          { id: 'helper', model: 'offline' },
        ],
      }),
    );
    return path;
  }

  it('gives a conversation the agent of its first join, with its system prompt, tools and step cap; later joins cannot change it', async () => {
    provider.reply({
      kind: 'stream',
      api: 'chat-completions',
      chunks: 'local-tool-call-in-one-chunk',
    });
    const server = await startTestServer({
      environment: environment({ PARLEY_AGENTS_FILE: await agentsFile() }),
    });
    const alice = await connectClient(server.url, 'agent-room', 'alice', {
      query: 'user_id=alice&agent=forecaster',
    });
    expect((await alice.waitForType('welcome')).agent).toEqual({ id: 'forecaster', model: MODEL });
    const bob = await connectClient(server.url, 'agent-room', 'bob', {
      query: 'user_id=bob&agent=helper',
    });
    expect((await bob.waitForType('welcome')).agent).toEqual({ id: 'forecaster', model: MODEL });

    alice.send({ type: 'user_message', content: 'Weather in Paris?' });
    const complete = await alice.waitForType('agent_response_complete');
    // maxSteps 1: the tool runs, but no second model call follows.
    expect(complete).toMatchObject({ status: 'step_limit', steps: 1 });
    expect(provider.requests).toHaveLength(1);
    const body = provider.requests[0]?.body as {
      messages: { role: string; content: unknown }[];
      tools: { function: { name: string } }[];
    };
    expect(body.messages[0]).toEqual({ role: 'system', content: 'You are a terse forecaster.' });
    expect(body.tools.map((tool) => tool.function.name)).toEqual(['weather']);

    // Without ?agent= a new conversation gets `default` (PARLEY_MODEL), here openai-compatible.
    const carol = await connectClient(server.url, 'other-room', 'carol');
    expect((await carol.waitForType('welcome')).agent).toEqual({ id: 'default', model: MODEL });
    await Promise.all([alice.close(), bob.close(), carol.close()]);
  });

  it('refuses a join that names an unknown agent with 400 unknown_agent', async () => {
    const server = await startTestServer({
      environment: environment({ PARLEY_AGENTS_FILE: await agentsFile() }),
    });
    const refusal = await upgradeRefusal(`${server.url}/ws/chat/room?user_id=alice&agent=nobody`);
    expect(refusal.status).toBe(400);
    expect(refusal.body.code).toBe('unknown_agent');
    expect(refusal.body.message).toContain('forecaster');
  });

  it('keeps a conversation on its agent across a restart (read from its first log entry)', async () => {
    const database = join(directory, 'parley.db');
    const options = {
      environment: environment({ PARLEY_AGENTS_FILE: await agentsFile() }),
      database,
    };
    const first = await startTestServer(options);
    const alice = await connectClient(first.url, 'kept', 'alice', {
      query: 'user_id=alice&agent=helper',
    });
    expect((await alice.waitForType('welcome')).agent?.id).toBe('helper');
    alice.send({ type: 'user_message', content: 'What is 5 + 3?' });
    expect(
      completionOf(alice.frames) ?? (await alice.waitForType('agent_response_complete')),
    ).toMatchObject({
      status: 'completed',
    });
    await alice.close();
    await first.close();

    const second = await startTestServer(options);
    const again = await connectClient(second.url, 'kept', 'alice');
    expect((await again.waitForType('welcome')).agent).toEqual({ id: 'helper', model: 'offline' });
    await again.close();
  });
});
