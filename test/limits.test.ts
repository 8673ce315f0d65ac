import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { defineTool } from '../src/tools/tool.js';
import { ToolRegistry } from '../src/tools/registry.js';
import { connectClient } from './support/test-client.js';
import {
  createFirehoseModel,
  createGatedModel,
  createToolCallingModel,
} from './support/test-models.js';
import { startTestServer } from './support/test-server.js';

describe('the worker pool over real sockets', () => {
  it('never runs more than 10 turns at once across 20 conversations', async () => {
    const gated = createGatedModel();
    const server = await startTestServer({ model: gated.model });
    const clients = await Promise.all(
      Array.from({ length: 20 }, (_, index) => connectClient(server.url, `pool-${index}`, 'u')),
    );
    for (const client of clients) client.send({ type: 'user_message', content: 'go' });
    await gated.started(10);
    // Every message has reached the server once each client has its own user_message back.
    await Promise.all(clients.map((client) => client.waitForType('user_message')));
    expect(server.engine.stats().turns).toEqual({ running: 10, waiting: 10 });

    gated.open();
    const completions = await Promise.all(
      clients.map((client) => client.waitForType('agent_response_complete')),
    );
    expect(completions.every((frame) => frame.status === 'completed')).toBe(true);
    expect(gated.state.started).toBe(20);
    expect(gated.state.maxActive).toBe(10);
  });

  it('answers busy when the turn queue is full and drops nothing silently', async () => {
    const gated = createGatedModel();
    const server = await startTestServer({
      model: gated.model,
      turnConcurrency: 1,
      turnQueueSize: 2,
    });
    const [a, b, c, d] = await Promise.all(
      ['a', 'b', 'c', 'd'].map((name) => connectClient(server.url, `busy-${name}`, name)),
    );
    if (a === undefined || b === undefined || c === undefined || d === undefined) throw new Error();
    a.send({ type: 'user_message', content: 'one' });
    await gated.started(1);
    b.send({ type: 'user_message', content: 'two' });
    c.send({ type: 'user_message', content: 'three' });
    await Promise.all([b.waitForType('user_message'), c.waitForType('user_message')]);
    d.send({ type: 'user_message', content: 'four' });
    const busy = await d.waitForType('error');
    expect(busy).toMatchObject({ code: 'busy', in_reply_to: 'user_message', seq: 1 });
    expect(d.frames.some((frame) => frame.type === 'user_message')).toBe(false);

    gated.open();
    await Promise.all([a, b, c].map((client) => client.waitForType('agent_response_complete')));
    // Room again: d's retry is accepted.
    d.send({ type: 'user_message', content: 'four again' });
    await expect(d.waitForType('agent_response_complete')).resolves.toMatchObject({
      status: 'completed',
    });
  });

  it('times out a hung tool, aborts it, and keeps serving the next turn', async () => {
    const calls: { aborted: boolean }[] = [];
    const hang = defineTool({
      name: 'hang',
      description: 'Never finishes on its own.',
      parameters: z.object({}),
      execute: (_parameters, { signal }) => {
        const call = { aborted: false };
        calls.push(call);
        return new Promise((_resolve, reject) => {
          signal.addEventListener('abort', () => {
            call.aborted = true;
            reject(new Error('aborted'));
          });
        });
      },
    });
    const server = await startTestServer({
      model: createToolCallingModel('hang', {}),
      tools: new ToolRegistry([hang]),
      toolTimeoutMs: 50,
    });
    const alice = await connectClient(server.url, 'hung', 'alice');
    alice.send({ type: 'user_message', content: 'call the hanging tool' });
    const result = await alice.waitForType('tool_result');
    expect(result).toMatchObject({ ok: false, error: { code: 'tool_timeout' } });
    expect(result.duration_ms).toBeGreaterThanOrEqual(45);
    const first = await alice.waitForType('agent_response_complete');
    expect(first.status).toBe('completed');
    expect(first.content).toContain('tool_timeout');
    expect(calls).toEqual([{ aborted: true }]);

    alice.send({ type: 'user_message', content: 'again' });
    const second = await alice.waitForType('agent_response_complete', (f) => f.seq > first.seq);
    expect(second.status).toBe('completed');
    expect(calls).toEqual([{ aborted: true }, { aborted: true }]);
    expect(server.engine.stats().turns).toEqual({ running: 0, waiting: 0 });
  });
});

describe('bad input over real sockets', () => {
  it('answers an invalid frame with an error naming the field and keeps the socket usable', async () => {
    const server = await startTestServer();
    const alice = await connectClient(server.url, 'bad', 'alice');
    alice.send({ type: 'user_message', content: 42 });
    const error = await alice.waitForType('error');
    expect(error).toMatchObject({
      code: 'invalid_frame',
      seq: 1,
      issues: [{ path: 'content', expected: 'string' }],
    });
    expect(error.message).toContain('content');

    alice.send({ type: 'shout' });
    const unknownType = await alice.waitForType('error', (frame) => frame !== error);
    expect(unknownType.issues?.[0]).toMatchObject({ path: 'type' });
    expect(unknownType.message).toContain('user_message');

    alice.send({ type: 'ping', id: 'p1' });
    await expect(alice.waitForType('pong')).resolves.toMatchObject({ id: 'p1', seq: 1 });
    alice.send({ type: 'user_message', content: 'What is 1 + 1?' });
    await expect(alice.waitForType('agent_response_complete')).resolves.toMatchObject({
      content: '1 + 1 = 2.',
    });
  });

  it('closes with 1007 on a frame that is not JSON, after saying why', async () => {
    const server = await startTestServer();
    const alice = await connectClient(server.url, 'bad-json', 'alice');
    alice.sendRaw('{not json');
    await expect(alice.waitForType('error')).resolves.toMatchObject({ code: 'invalid_json' });
    await expect(alice.closed).resolves.toEqual({ code: 1007, reason: 'invalid_json' });
  });

  it('closes with 1003 on a binary frame', async () => {
    const server = await startTestServer();
    const alice = await connectClient(server.url, 'binary', 'alice');
    alice.sendRaw(Buffer.from([1, 2, 3]), { binary: true });
    await expect(alice.closed).resolves.toEqual({ code: 1003, reason: 'unsupported_data' });
  });

  it('closes with 1009 when a frame exceeds maxFrameBytes', async () => {
    const server = await startTestServer();
    const alice = await connectClient(server.url, 'oversize', 'alice');
    alice.send({ type: 'user_message', content: 'x'.repeat(70 * 1024) });
    const { code } = await alice.closed;
    expect(code).toBe(1009);
    // The server is unharmed.
    const bob = await connectClient(server.url, 'oversize', 'bob');
    expect(bob.frames[0]).toMatchObject({ type: 'welcome' });
  });

  it('closes with 1008 after 10 invalid frames within a minute', async () => {
    const server = await startTestServer();
    const alice = await connectClient(server.url, 'abuse', 'alice');
    for (let index = 0; index < 10; index += 1) alice.send({ type: 'user_message' });
    await expect(alice.closed).resolves.toEqual({ code: 1008, reason: 'policy_violation' });
    expect(alice.frames.filter((frame) => frame.type === 'error')).toHaveLength(10);
  });

  it('answers rate_limited past the per-user message rate and does not broadcast the message', async () => {
    const gated = createGatedModel();
    const server = await startTestServer({ model: gated.model, rateLimitMessages: 2 });
    const alice = await connectClient(server.url, 'rate', 'alice');
    for (const content of ['one', 'two', 'three']) alice.send({ type: 'user_message', content });
    const error = await alice.waitForType('error');
    expect(error).toMatchObject({ code: 'rate_limited', in_reply_to: 'user_message' });
    expect((error.details as { retry_after_ms: number }).retry_after_ms).toBeGreaterThan(0);
    await alice.waitForType('user_message', (frame) => frame.content === 'two');
    gated.open();
    await alice.waitForType('agent_response_complete');
    expect(
      alice.frames.filter((frame) => frame.type === 'user_message').map((f) => f.content),
    ).toEqual(['one', 'two']);
  });
});

describe('slow consumers', () => {
  it('cuts off a client that stops reading while others keep receiving every token', async () => {
    // Regression: the socket was terminated right after its close, so the client saw 1006; it
    // now gets the 1013 close frame if it reads again within the grace.
    const server = await startTestServer({
      model: createFirehoseModel(3000, 4096),
      outboundBufferFrames: 64,
      slowConsumerGraceMs: 30_000,
    });
    const reader = await connectClient(server.url, 'firehose', 'reader');
    const stalled = await connectClient(server.url, 'firehose', 'stalled');
    // Stop reading: the kernel buffers fill and the server's unflushed count grows.
    const rawSocket = (stalled.socket as unknown as { _socket: { pause(): void } })._socket;
    rawSocket.pause();
    reader.send({ type: 'user_message', content: 'flood' });

    const complete = await reader.waitForType('agent_response_complete');
    expect(complete.status).toBe('completed');
    expect(reader.frames.filter((frame) => frame.type === 'agent_response_chunk')).toHaveLength(
      3000,
    );
    (rawSocket as unknown as { resume(): void }).resume();
    await expect(stalled.closed).resolves.toEqual({ code: 1013, reason: 'slow_consumer' });
    await reader.waitForType('presence', (frame) => frame.status === 'left');
    expect(server.engine.stats().connections).toBe(1);
  });
});
