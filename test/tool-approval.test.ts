/**
 * Tool calls that wait for a participant's approval, over real sockets: who sees the request,
 * who decides, what the model is told, that a waiting turn holds no worker, cancel while waiting,
 * and a restart while waiting (SQLite log on disk).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type ToolApprovalRequestFrame } from '../src/client/index.js';
import { SqliteEventStore } from '../src/event-log/sqlite-store.js';
import { exportConversation } from '../src/replay/export-conversation.js';
import { parseRecording } from '../src/replay/read-recording.js';
import { replayRecording } from '../src/replay/replay-recording.js';
import { startServer } from '../src/server/server.js';
import { approvalTools, REPORT_EMAIL } from './support/approval-tools.js';
import { connectClient, eventFrames, type TestClient } from './support/test-client.js';
import { startTestServer, toServerOptions, type TestServerOptions } from './support/test-server.js';

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) {
    rmSync(directory, { recursive: true, force: true });
  }
});

/** A server whose model mails the report when asked to "send", and alice and bob in `room`. */
async function mailRoom(options: TestServerOptions = {}) {
  const approval = approvalTools();
  const server = await startTestServer({ ...approval, ...options });
  const alice = await connectClient(server.url, 'room', 'alice');
  const bob = await connectClient(server.url, 'room', 'bob');
  return { ...approval, server, alice, bob };
}

const secret = 'a-test-secret-of-at-least-32-bytes!!';
const token = (userId: string) =>
  new SignJWT()
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(userId)
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(secret));

/**
 * A server under access control whose model mails the report, and `guarded` created by alice
 * (owner) with bob as a viewer and carol as a member, all three connected.
 */
async function guardedRoom() {
  const approval = approvalTools();
  const server = await startTestServer({ ...approval, jwtSecret: secret, devMode: false });
  const created = await fetch(`${server.url}/api/conversations`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${await token('alice')}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({
      id: 'guarded',
      members: [
        { user_id: 'bob', role: 'viewer' },
        { user_id: 'carol', role: 'member' },
      ],
    }),
  });
  expect(created.status).toBe(201);
  const join = async (userId: string) =>
    connectClient(server.url, 'guarded', userId, { query: `token=${await token(userId)}` });
  const [alice, bob, carol] = await Promise.all([join('alice'), join('bob'), join('carol')]);
  return { ...approval, server, alice, bob, carol };
}

const approve = (client: TestClient, toolCallId: string, reason?: string) => {
  client.send({
    type: 'tool_approval',
    tool_call_id: toolCallId,
    decision: 'approve',
    ...(reason === undefined ? {} : { reason }),
  });
};
const deny = (client: TestClient, toolCallId: string, reason?: string) => {
  client.send({
    type: 'tool_approval',
    tool_call_id: toolCallId,
    decision: 'deny',
    ...(reason === undefined ? {} : { reason }),
  });
};

describe('tool approval', () => {
  it('asks every participant, runs the call once another participant approves, and streams the answer to both', async () => {
    const { alice, bob, sent, server } = await mailRoom({ approvalTimeoutMs: 60_000 });

    alice.send({ type: 'user_message', content: 'Send the report' });
    const [forAlice, forBob] = await Promise.all([
      alice.waitForType('tool_approval_request'),
      bob.waitForType('tool_approval_request'),
    ]);
    expect(forBob).toEqual(forAlice);
    expect(forBob).toMatchObject({
      tool_name: 'send_email',
      arguments: REPORT_EMAIL,
      timeout_ms: 60_000,
    });
    // The deadline counts from the moment the turn paused: after the message, before this frame.
    const message = await alice.waitForType('user_message');
    expect(forBob.deadline).toBeGreaterThanOrEqual(message.timestamp + 60_000);
    expect(forBob.deadline).toBeLessThanOrEqual(forBob.timestamp + 60_000);
    expect(sent).toEqual([]);
    expect(server.engine.stats().turns).toEqual({ running: 0, waiting: 0 });

    approve(bob, forBob.tool_call_id);
    const decision = await alice.waitForType('tool_approval_decision');
    expect(decision).toMatchObject({
      tool_call_id: forBob.tool_call_id,
      decision: 'approved',
      decided_by: 'bob',
    });
    const [aliceDone, bobDone] = await Promise.all([
      alice.waitForType('agent_response_complete'),
      bob.waitForType('agent_response_complete'),
    ]);
    expect(aliceDone.content).toBe('Sending it. Sent to board@example.com.');
    expect(bobDone).toEqual(aliceDone);
    expect(sent).toEqual([REPORT_EMAIL]);
    const seqs = eventFrames(alice.frames).map((frame) => frame.seq);
    expect(seqs).toEqual(seqs.map((_, index) => index + 1));
  });

  it("refuses a viewer's answer with approval_not_allowed and keeps the request pending for a member", async () => {
    const { alice, bob, carol, sent } = await guardedRoom();
    alice.send({ type: 'user_message', content: 'Send the report' });
    // A viewer sees the request like every participant, but may not answer it.
    const request = await bob.waitForType('tool_approval_request');

    approve(bob, request.tool_call_id);
    expect(await bob.waitForType('error')).toMatchObject({
      code: 'approval_not_allowed',
      message: 'Only the owner and members of the conversation may approve tool calls.',
      in_reply_to: 'tool_approval',
      details: { tool_call_id: request.tool_call_id },
    });

    // Still pending: the member's answer is the one that decides, and the call runs.
    approve(carol, request.tool_call_id);
    const decision = await alice.waitForType('tool_approval_decision');
    expect(decision).toMatchObject({
      tool_call_id: request.tool_call_id,
      decision: 'approved',
      decided_by: 'carol',
    });
    expect(await alice.waitForType('agent_response_complete')).toMatchObject({
      status: 'completed',
      content: 'Sending it. Sent to board@example.com.',
    });
    expect(sent).toEqual([REPORT_EMAIL]);
    expect(alice.frames.filter((frame) => frame.type === 'tool_approval_decision')).toHaveLength(1);
    expect(alice.frames.some((frame) => frame.type === 'error')).toBe(false);
    expect(carol.frames.some((frame) => frame.type === 'error')).toBe(false);
  });

  it('never runs a denied call, and the model answers with the denial and its reason', async () => {
    const { alice, bob, sent } = await mailRoom();

    alice.send({ type: 'user_message', content: 'Send the report' });
    const request = await bob.waitForType('tool_approval_request');
    deny(bob, request.tool_call_id, 'Not before Monday.');

    const result = await alice.waitForType('tool_result');
    expect(result).toMatchObject({
      ok: false,
      error: { code: 'tool_denied', message: 'bob denied this call: Not before Monday.' },
    });
    const done = await alice.waitForType('agent_response_complete');
    expect(done).toMatchObject({
      status: 'completed',
      content: 'Sending it. I did not send it: bob denied this call: Not before Monday.',
    });
    expect(sent).toEqual([]);
  });

  it('counts no answer before the deadline as a denial', async () => {
    const { alice, sent } = await mailRoom({ approvalTimeoutMs: 50 });

    alice.send({ type: 'user_message', content: 'Send the report' });

    const decision = await alice.waitForType('tool_approval_decision');
    expect(decision).toMatchObject({ decision: 'denied', timed_out: true });
    expect(decision).not.toHaveProperty('decided_by');
    const done = await alice.waitForType('agent_response_complete');
    expect(done.content).toContain('No participant answered before the deadline');
    expect(sent).toEqual([]);
  });

  it('takes the first answer; a later one gets approval_not_pending, to its sender only', async () => {
    const { alice, bob, sent } = await mailRoom();
    alice.send({ type: 'user_message', content: 'Send the report' });
    const request = await bob.waitForType('tool_approval_request');

    approve(bob, request.tool_call_id);
    await alice.waitForType('tool_approval_decision');
    deny(alice, request.tool_call_id);

    const refused = await alice.waitForType('error');
    expect(refused).toMatchObject({
      code: 'approval_not_pending',
      in_reply_to: 'tool_approval',
      details: { tool_call_id: request.tool_call_id },
    });
    await alice.waitForType('agent_response_complete');
    expect(bob.frames.some((frame) => frame.type === 'error')).toBe(false);
    expect(alice.frames.filter((frame) => frame.type === 'tool_approval_decision')).toHaveLength(1);
    expect(sent).toEqual([REPORT_EMAIL]);
  });

  it('holds no worker while waiting: with one worker, another conversation is answered meanwhile', async () => {
    const { alice, bob, server } = await mailRoom({ turnConcurrency: 1 });
    alice.send({ type: 'user_message', content: 'Send the report' });
    const request = await bob.waitForType('tool_approval_request');

    const carol = await connectClient(server.url, 'elsewhere', 'carol');
    carol.send({ type: 'user_message', content: 'Hello' });
    const other = await carol.waitForType('agent_response_complete');
    expect(other).toMatchObject({ status: 'completed', content: 'Nothing to send.' });

    approve(bob, request.tool_call_id);
    const done = await alice.waitForType('agent_response_complete');
    expect(done.content).toBe('Sending it. Sent to board@example.com.');
  });

  it('cancels a waiting turn: the call never runs and a late answer finds nothing pending', async () => {
    const { alice, bob, sent } = await mailRoom();
    alice.send({ type: 'user_message', content: 'Send the report' });
    const request = await bob.waitForType('tool_approval_request');

    alice.send({ type: 'cancel' });
    const done = await bob.waitForType('agent_response_complete');
    expect(done).toMatchObject({
      status: 'cancelled',
      cancelled_by: 'alice',
      content: 'Sending it. ',
    });
    approve(bob, request.tool_call_id);
    expect(await bob.waitForType('error')).toMatchObject({ code: 'approval_not_pending' });
    expect(sent).toEqual([]);
  });

  it('answers an approval through the typed client, which resolves with the decision', async () => {
    const { alice, server, sent } = await mailRoom();
    const dana = await connect({ url: server.url, conversationId: 'room', userId: 'dana' });
    try {
      alice.send({ type: 'user_message', content: 'Send the report' });
      const request = await dana.waitFor(
        (frame): frame is ToolApprovalRequestFrame => frame.type === 'tool_approval_request',
      );

      const decision = await dana.answerApproval(request.tool_call_id, 'approve', {
        reason: 'Go ahead.',
      });
      expect(decision).toMatchObject({
        decision: 'approved',
        decided_by: 'dana',
        reason: 'Go ahead.',
      });
      await expect(dana.answerApproval(request.tool_call_id, 'deny')).rejects.toMatchObject({
        code: 'request_failed',
        details: { code: 'approval_not_pending' },
      });
      await alice.waitForType('agent_response_complete');
      expect(sent).toEqual([REPORT_EMAIL]);
    } finally {
      await dana.close();
    }
  });
});

describe('tool approval across a restart', () => {
  /** Two servers over one SQLite file, the second started after the first closed. */
  async function restartWhileWaiting(second: TestServerOptions = {}) {
    const directory = mkdtempSync(join(tmpdir(), 'parley-approval-'));
    directories.push(directory);
    const database = join(directory, 'parley.db');
    const options = { database, approvalTimeoutMs: 600_000, tokenPacingMs: 0 };
    const before = approvalTools();
    const first = await startServer(
      toServerOptions({ ...options, ...before, environment: {}, port: 0, logLevel: 'silent' }),
    );
    const alice = await connectClient(first.url, 'restart', 'alice');
    alice.send({ type: 'user_message', content: 'Send the report' });
    const request = await alice.waitForType('tool_approval_request');
    await first.close();
    await alice.closed;

    const after = approvalTools();
    const server = await startTestServer({ ...options, ...after, ...second });
    const again = await connectClient(server.url, 'restart', 'alice', {
      query: `user_id=alice&since=${String(request.seq - 1)}`,
    });
    return {
      request,
      again,
      server,
      database,
      sentAfter: after.sent,
      sentBefore: before.sent,
      alice,
    };
  }

  it('restores the pending request from the log, and an approval after the restart resumes the turn', async () => {
    const { request, again, sentAfter, sentBefore, alice } = await restartWhileWaiting();

    // The shutdown left the waiting turn alone: no completion, and the request is resumed.
    expect(alice.frames.some((frame) => frame.type === 'agent_response_complete')).toBe(false);
    expect(await again.waitForType('tool_approval_request')).toEqual(request);
    expect(again.frames.find((frame) => frame.type === 'welcome')).toMatchObject({
      active_turn_id: request.turn_id,
    });

    approve(again, request.tool_call_id);
    const done = await again.waitForType('agent_response_complete');
    expect(done).toMatchObject({
      turn_id: request.turn_id,
      status: 'completed',
      content: 'Sending it. Sent to board@example.com.',
      steps: 2,
    });
    expect(sentBefore).toEqual([]);
    expect(sentAfter).toEqual([REPORT_EMAIL]);
    // The answer goes on under the id its first chunk had before the restart.
    const chunk = await alice.waitForType('agent_response_chunk');
    expect(done.message_id).toBe(chunk.message_id);
    const seen = [
      ...new Set([...eventFrames(alice.frames), ...eventFrames(again.frames)].map((f) => f.seq)),
    ];
    expect(seen).toEqual(seen.map((_, index) => index + 1));
  });

  it('replays a session that spans a restart while waiting with identical frames', async () => {
    const { request, again, server, database } = await restartWhileWaiting();
    approve(again, request.tool_call_id, 'Now.');
    await again.waitForType('agent_response_complete');
    await again.close();
    await server.close();

    const store = SqliteEventStore.open(database);
    const recording = parseRecording(await exportConversation(store, 'restart'), 'restart.jsonl');
    await store.close();
    const segments = recording.entries.filter((entry) => entry.kind === 'conversation.started');
    expect(segments).toHaveLength(2);

    const result = await replayRecording(recording);
    expect(result.divergence).toBeUndefined();
    expect(result.frames).toBeGreaterThan(10);
  });

  it('keeps counting the deadline while the server is down: a deadline passed by then denies at once', async () => {
    const elevenMinutesLater = () => Date.now() + 11 * 60_000;
    const { request, again, sentAfter } = await restartWhileWaiting({ now: elevenMinutesLater });

    const decision = await again.waitForType('tool_approval_decision');
    expect(decision).toMatchObject({
      tool_call_id: request.tool_call_id,
      decision: 'denied',
      timed_out: true,
    });
    const done = await again.waitForType('agent_response_complete');
    expect(done.content).toContain('No participant answered before the deadline');
    expect(sentAfter).toEqual([]);
  });
});
