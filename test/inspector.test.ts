import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { describe, expect, it } from 'vitest';
import type { InspectionRecord, InspectorMessage } from '../src/inspector/inspector-protocol.js';
import { ToolRegistry } from '../src/tools/registry.js';
import { approvalTools } from './support/approval-tools.js';
import { connectInspector } from './support/inspector-client.js';
import { connectClient } from './support/test-client.js';
import { createToolCallingModel } from './support/test-models.js';
import { startTestServer } from './support/test-server.js';
import { gatedTool } from './support/test-tools.js';

type Of<TType extends InspectorMessage['type']> = Extract<InspectorMessage, { type: TType }>;

describe('the inspector endpoint', () => {
  it('lists actors, streams a subscribed conversation live and travels back in time over its log', async () => {
    const slow = gatedTool();
    const server = await startTestServer({
      model: createToolCallingModel('slow', {}),
      tools: new ToolRegistry([slow.tool]),
      inspector: true,
    });
    const inspector = await connectInspector(server.url);
    const welcome = await inspector.waitFor<Of<'welcome'>>((m) => m.type === 'welcome');
    expect(welcome).toMatchObject({ protocol_version: 1, dev_mode: true });
    expect(Object.keys(welcome.machines)).toEqual(['root', 'conversation', 'connection']);

    const alice = await connectClient(server.url, 'watched', 'alice');
    const bob = await connectClient(server.url, 'watched', 'bob');
    inspector.request({ type: 'list', filter: 'watched' });
    const list = await inspector.waitFor<Of<'actors'>>((m) => m.type === 'actors');
    expect(list.actors.map((actor) => actor.kind)).toEqual([
      'conversation',
      'connection',
      'connection',
    ]);
    expect(list.actors[0]).toMatchObject({ path: 'conversation:watched', state: 'idle.occupied' });
    const connectionPaths = list.actors.slice(1).map((summary) => summary.path);
    expect(list.actors[1]).toMatchObject({
      conversation: 'conversation:watched',
      state: 'open.joined',
    });

    // The 64 connection shards are plumbing: not listed, and every connection's parent is the root.
    inspector.request({ type: 'list', filter: '' });
    const all = await inspector.waitFor<Of<'actors'>>(
      (m) => m.type === 'actors' && m.actors.some((summary) => summary.kind === 'root'),
    );
    expect(all.actors.map((summary) => summary.path)).toEqual(
      expect.arrayContaining(['parley', 'conversation:watched', ...connectionPaths]),
    );
    expect(
      all.actors.filter((summary) => !/^(parley|conversation:|connection:)/.test(summary.path)),
    ).toEqual([]);
    expect(
      all.actors.filter((summary) => summary.kind !== 'root').map((summary) => summary.parent),
    ).toEqual(all.actors.filter((summary) => summary.kind !== 'root').map(() => 'parley'));

    // …and their own events (the spawn requests they receive) do not land on the root's entry.
    inspector.request({ type: 'subscribe', path: 'parley' });
    const root = await inspector.waitFor<Of<'actor'>>(
      (m) => m.type === 'actor' && m.path === 'parley',
    );
    // (The root's own sendTo action names the event; no shard's receipt of it may be here.)
    const received = root.recent.filter((record) => record.kind === 'event');
    expect(JSON.stringify(received)).toContain('connection.open');
    expect(JSON.stringify(received)).not.toContain('connection.spawn');
    // Nor do their heartbeat timers (each shard schedules the next tick of its connections).
    expect(JSON.stringify(root.recent)).not.toMatch(/xstate\.after\.(firstHeartbeat|heartbeat)/);
    inspector.request({ type: 'unsubscribe', path: 'parley' });

    inspector.request({ type: 'subscribe', path: 'conversation:watched' });
    const actor = await inspector.waitFor<Of<'actor'>>(
      (m) => m.type === 'actor' && m.path === 'conversation:watched',
    );
    expect(actor.context).toMatchObject({ conversationId: 'watched', seq: 2 });
    expect(actor.context).not.toHaveProperty('effects');

    alice.send({ type: 'user_message', content: 'use the slow tool' });
    const records = () =>
      inspector.messages.flatMap<InspectionRecord>((m) => (m.type === 'events' ? m.records : []));
    const inTool = (record: InspectionRecord) =>
      record.path === 'conversation:watched' &&
      record.kind === 'snapshot' &&
      record.detail.state === 'working.calling_tool';
    await inspector.waitFor((m) => m.type === 'events' && m.records.some(inTool));
    const pipeline = records().find(
      (record) => record.kind === 'pipeline' && record.path === 'conversation:watched',
    );
    expect(pipeline?.detail).toMatchObject({ tools_in_flight: [{ tool_name: 'slow' }] });
    expect(records().some((record) => record.path === 'pool' && record.kind === 'pipeline')).toBe(
      true,
    );
    // alice's connection took her message: a subscribed conversation includes its connections.
    const aliceConnection = records().find((record) => connectionPaths.includes(record.path))?.path;
    expect(aliceConnection).toBeDefined();
    const seqs = records().map((record) => record.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));

    slow.release();
    await bob.waitForType('agent_response_complete');
    await inspector.waitFor(
      (m) =>
        m.type === 'events' &&
        m.records.some((r) => r.kind === 'snapshot' && r.detail.state === 'idle.occupied'),
    );

    inspector.request({ type: 'timeline', conversation_id: 'watched' });
    const timeline = await inspector.waitFor<Of<'timeline'>>((m) => m.type === 'timeline');
    const toolCall = timeline.points.find((point) => point.frame.type === 'tool_call');
    expect(toolCall?.states['conversation:watched']).toBe('working.calling_tool');
    expect(timeline.points.at(-1)?.states['conversation:watched']).toBe('idle.occupied');
    expect(timeline.points.map((point) => point.seq)).toEqual(
      timeline.points.map((_, index) => index + 1),
    );
    expect(timeline.entries.some((entry) => entry.kind === 'tool.outcome')).toBe(true);

    inspector.request({ type: 'send', path: aliceConnection, event: { type: 'server.shutdown' } });
    await inspector.waitFor((m) => m.type === 'sent');
    await expect(alice.closed).resolves.toEqual({ code: 1012, reason: 'server_shutdown' });
    inspector.close();
  });

  it('lists a conversation whose turn waits for approval with the turn_phase awaiting_approval', async () => {
    const server = await startTestServer({ ...approvalTools(), inspector: true });
    const inspector = await connectInspector(server.url);
    await inspector.waitFor((m) => m.type === 'welcome');
    const alice = await connectClient(server.url, 'pending', 'alice');
    alice.send({ type: 'user_message', content: 'Send the report' });
    const request = await alice.waitForType('tool_approval_request');

    inspector.request({ type: 'list', filter: 'pending' });
    const list = await inspector.waitFor<Of<'actors'>>((m) => m.type === 'actors');
    // A waiting turn holds no worker, yet it is still the conversation's running turn: the
    // inspector ranks it busy and says what it waits for.
    expect(list.actors[0]).toMatchObject({
      path: 'conversation:pending',
      state: 'working.awaiting_approval',
      activity: { participants: 1, turn_id: request.turn_id, turn_phase: 'awaiting_approval' },
    });
    inspector.close();
  });

  it('keeps a hibernated connection in the list, and a sent event wakes it', async () => {
    const server = await startTestServer({
      inspector: true,
      heartbeatIntervalMs: 100,
      hibernateAfterMs: 1,
    });
    const inspector = await connectInspector(server.url);
    await inspector.waitFor((m) => m.type === 'welcome');
    const alice = await connectClient(server.url, 'sleepy', 'alice');
    // (Its creation and its hibernation may come in one batch: then it is `added`, hibernated.)
    const hibernated = (m: Of<'actors.changed'>) =>
      [...m.added, ...m.updated].find((summary) => summary.status === 'hibernated');
    const asleep = await inspector.waitFor<Of<'actors.changed'>>(
      (m) => m.type === 'actors.changed' && hibernated(m) !== undefined,
    );
    const path = hibernated(asleep)?.path ?? '';
    expect(asleep.removed).not.toContain(path);
    inspector.request({ type: 'list', filter: 'sleepy' });
    const list = await inspector.waitFor<Of<'actors'>>((m) => m.type === 'actors');
    expect(list.actors.find((summary) => summary.path === path)).toMatchObject({
      kind: 'connection',
      conversation: 'conversation:sleepy',
      state: 'hibernated',
      status: 'hibernated',
    });

    inspector.request({ type: 'subscribe', path });
    const actor = await inspector.waitFor<Of<'actor'>>((m) => m.type === 'actor');
    expect(actor.summary.status).toBe('hibernated');
    expect(actor.context).toMatchObject({ conversationId: 'sleepy', hibernations: 1 });
    expect(actor.recent.map((record) => record.kind)).toEqual(
      expect.arrayContaining(['actor.created', 'actor.hibernated']),
    );

    // The connection has no actor now: its shard wakes one for the event.
    inspector.request({ type: 'send', path, event: { type: 'server.shutdown' } });
    await inspector.waitFor((m) => m.type === 'sent');
    await expect(alice.closed).resolves.toEqual({ code: 1012, reason: 'server_shutdown' });
    await inspector.waitFor<Of<'events'>>(
      (m) => m.type === 'events' && m.records.some((record) => record.kind === 'actor.stopped'),
    );
    // Waking and stopping may reach the inspector in one batch of records or in two.
    const kinds = inspector.messages.flatMap((m) =>
      m.type === 'events' ? m.records.map((record) => record.kind) : [],
    );
    expect(kinds.indexOf('actor.woken')).toBeGreaterThanOrEqual(0);
    expect(kinds.indexOf('actor.woken')).toBeLessThan(kinds.lastIndexOf('actor.stopped'));
    inspector.close();
  });

  it('is off outside development mode unless enabled, and then needs the admin token', async () => {
    const off = await startTestServer({ devMode: false, jwtSecret: 'x'.repeat(32) });
    await expect(connectInspector(off.url)).rejects.toThrow('404');
    expect((await fetch(`${off.url}/inspector`)).status).toBe(404);

    const token = 'admin-token-0123456789';
    const on = await startTestServer({
      devMode: false,
      jwtSecret: 'x'.repeat(32),
      inspector: true,
      inspectorToken: token,
    });
    await expect(connectInspector(on.url)).rejects.toThrow('401');
    const inspector = await connectInspector(on.url, `?token=${token}`);
    const welcome = await inspector.waitFor<Of<'welcome'>>((m) => m.type === 'welcome');
    expect(welcome.dev_mode).toBe(false);
    inspector.request({ type: 'send', path: 'parley', event: { type: 'x' } });
    await expect(inspector.waitFor((m) => m.type === 'error')).resolves.toMatchObject({
      code: 'policy_violation',
    });
    expect((await fetch(`${on.url}/inspector/elk.js`)).headers.get('content-type')).toBe(
      'text/javascript; charset=utf-8',
    );
    inspector.close();
  });
});

describe('forwarding to a Stately Inspector', () => {
  it('sends sanitized inspection events to the configured WebSocket server', async () => {
    const received: string[] = [];
    const stately = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    const arrived = new Promise<void>((resolve) => {
      stately.on('connection', (socket) => {
        socket.on('message', (data: Buffer) => {
          received.push(data.toString('utf8'));
          if (received.some((text) => text.includes('conversation:forwarded'))) resolve();
        });
      });
    });
    await once(stately, 'listening');
    const { port } = stately.address() as AddressInfo;
    try {
      const server = await startTestServer({ inspectorForward: `ws://127.0.0.1:${port}` });
      const alice = await connectClient(server.url, 'forwarded', 'alice');
      alice.send({ type: 'user_message', content: 'What is 1 + 1?' });
      await alice.waitForType('agent_response_complete');
      await arrived;
      const all = received.join('\n');
      expect(all).toContain('@xstate.snapshot');
      // Injected effects (functions and the event log) never leave the process.
      expect(all).not.toContain('"effects"');
    } finally {
      stately.close();
    }
  });
});
