/**
 * Access control over real sockets and HTTP (issue 14, "Any authenticated user can read and write
 * any conversation"): members with roles, membership as logged events, JWT claims, the
 * `authorize` hook, and a forbidden conversation answering exactly as a missing one.
 */
import { createOfflineModel } from '../src/agent/offline-model.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { startServer } from '../src/server/server.js';
import { connectClient, upgradeRefusal } from './support/test-client.js';
import { startTestServer, toServerOptions } from './support/test-server.js';

const secret = 'a-test-secret-of-at-least-32-bytes!!';

function token(sub: string, claims: Record<string, unknown> = {}, exp: string | number = '5m') {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setExpirationTime(exp)
    .sign(new TextEncoder().encode(secret));
}

async function api(
  url: string,
  jwt: string,
  init: { method?: string; body?: unknown } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as never) };
}

const jwtServer = (options: Parameters<typeof startTestServer>[0] = {}) =>
  startTestServer({ jwtSecret: secret, devMode: false, ...options });

const connectAs = async (serverUrl: string, conversationId: string, user: string, query = '') =>
  connectClient(serverUrl, conversationId, user, {
    query: `token=${await token(user)}${query}`,
  });

describe('access control', () => {
  const directories: string[] = [];
  afterEach(() => {
    for (const directory of directories.splice(0))
      rmSync(directory, { recursive: true, force: true });
  });

  it('defaults to members when a JWT key is set and to open without one', () => {
    expect(loadConfig({}, { jwtSecret: secret }).access).toBe('members');
    expect(loadConfig({}, {}).access).toBe('open');
    expect(loadConfig({ PARLEY_ACCESS: 'open' }, { jwtSecret: secret }).access).toBe('open');
    expect(() => loadConfig({ PARLEY_ACCESS: 'everyone' })).toThrow(/PARLEY_ACCESS/);
  });

  it('creates a conversation over HTTP with the agent it names; an unknown agent is refused', async () => {
    const server = await jwtServer({
      agents: [
        { id: 'default', model: createOfflineModel() },
        { id: 'helper', model: createOfflineModel() },
      ],
    });
    const alice = await token('alice');
    const unknown = await api(`${server.url}/api/conversations`, alice, {
      method: 'POST',
      body: { id: 'with-nobody', agent: 'nobody' },
    });
    expect(unknown).toMatchObject({ status: 400, body: { code: 'unknown_agent' } });
    const created = await api(`${server.url}/api/conversations`, alice, {
      method: 'POST',
      body: { id: 'with-helper', agent: 'helper' },
    });
    expect(created).toMatchObject({ status: 201, body: { id: 'with-helper', agent: 'helper' } });
    // The first join does not choose it any more: the conversation has its agent.
    const joined = await connectAs(server.url, 'with-helper', 'alice', '&agent=default');
    expect((await joined.waitForType('welcome')).agent).toMatchObject({ id: 'helper' });
  });

  it('hides a conversation from a user who is not a member: the same 404 as a missing one', async () => {
    // The defect: with a valid token for mallory, the list, /events, /export and ?since=0 all
    // showed alice-private, and mallory could post in it.
    const server = await jwtServer();
    const alice = await token('alice');
    const mallory = await token('mallory');
    const created = await api(`${server.url}/api/conversations`, alice, {
      method: 'POST',
      body: { id: 'alice-private' },
    });
    expect(created).toMatchObject({
      status: 201,
      body: { id: 'alice-private', members: [{ user_id: 'alice', role: 'owner' }], last_seq: 1 },
    });
    const own = await connectAs(server.url, 'alice-private', 'alice');
    own.send({ type: 'user_message', content: 'my secret plan' });
    await own.waitForType('agent_response_complete');

    for (const path of ['', '/events', '/export']) {
      const hidden = await api(`${server.url}/api/conversations/alice-private${path}`, mallory);
      const missing = await api(`${server.url}/api/conversations/nobody-here${path}`, mallory);
      expect(hidden.status).toBe(404);
      expect(hidden.body.code).toBe('not_found');
      expect(missing.status).toBe(404);
      expect(hidden.body.message).toBe(
        String(missing.body.message).replace('nobody-here', 'alice-private'),
      );
    }
    const listed = await api(`${server.url}/api/conversations`, mallory);
    expect(listed).toEqual({ status: 200, body: { conversations: [] } });
    const aliceList = await api(`${server.url}/api/conversations`, alice);
    expect(
      (aliceList.body.conversations as { conversation_id: string }[]).map((c) => c.conversation_id),
    ).toEqual(['alice-private']);

    const refused = await upgradeRefusal(
      `${server.url}/ws/chat/alice-private?since=0&token=${mallory}`,
    );
    const refusedMissing = await upgradeRefusal(
      `${server.url}/ws/chat/nobody-here?since=0&token=${mallory}`,
    );
    expect(refused.status).toBe(404);
    expect(refused.body.code).toBe('not_found');
    expect(refusedMissing.status).toBe(404);
    await own.close();
  });

  it('creates with members: a viewer reads and is refused posting and cancelling', async () => {
    const server = await jwtServer();
    const alice = await token('alice');
    await api(`${server.url}/api/conversations`, alice, {
      method: 'POST',
      body: { id: 'team', members: [{ user_id: 'bob', role: 'viewer' }] },
    });
    const bob = await connectAs(server.url, 'team', 'bob', '&since=0');
    const membership = await bob.waitForType('membership');
    expect(membership).toMatchObject({
      seq: 1,
      action: 'created',
      by: 'alice',
      members: [
        { user_id: 'alice', role: 'owner' },
        { user_id: 'bob', role: 'viewer' },
      ],
    });
    bob.send({ type: 'user_message', content: 'may I?' });
    const refused = await bob.waitForType('error');
    expect(refused).toMatchObject({ code: 'forbidden', in_reply_to: 'user_message' });
    bob.send({ type: 'cancel' });
    await bob.waitFor((frame) => frame.type === 'error' && frame.in_reply_to === 'cancel');
    bob.send({ type: 'history', after: 0, request_id: 'h' });
    const history = await bob.waitForType('history');
    expect(history.frames.map((frame) => frame.type)).toContain('membership');
    expect(bob.frames.some((frame) => frame.type === 'user_message')).toBe(false);
    await bob.close();
  });

  it('changes members live: everyone sees the frame, a removed member is closed with 4403', async () => {
    const server = await jwtServer();
    const alice = await token('alice');
    const bobToken = await token('bob');
    await api(`${server.url}/api/conversations`, alice, {
      method: 'POST',
      body: { id: 'live', members: [{ user_id: 'bob', role: 'viewer' }] },
    });
    const owner = await connectAs(server.url, 'live', 'alice');
    const bob = await connectAs(server.url, 'live', 'bob');

    const promoted = await api(`${server.url}/api/conversations/live/members/bob`, alice, {
      method: 'PUT',
      body: { role: 'member' },
    });
    expect(promoted.body.members).toEqual([
      { user_id: 'alice', role: 'owner' },
      { user_id: 'bob', role: 'member' },
    ]);
    for (const client of [owner, bob]) {
      await client.waitFor((frame) => frame.type === 'membership' && frame.action === 'changed');
    }
    bob.send({ type: 'user_message', content: 'now I can post' });
    await owner.waitFor(
      (frame) => frame.type === 'user_message' && frame.content === 'now I can post',
    );

    const byMember = await api(`${server.url}/api/conversations/live/members/carol`, bobToken, {
      method: 'PUT',
      body: { role: 'viewer' },
    });
    expect(byMember).toMatchObject({ status: 403, body: { code: 'forbidden' } });
    const badRole = await api(`${server.url}/api/conversations/live/members/carol`, alice, {
      method: 'PUT',
      body: { role: 'king' },
    });
    expect(badRole).toMatchObject({ status: 400, body: { code: 'invalid_request' } });
    expect((badRole.body.issues as { path: string }[])[0]?.path).toBe('role');

    const removed = await api(`${server.url}/api/conversations/live/members/bob`, alice, {
      method: 'DELETE',
    });
    expect(removed.body.members).toEqual([{ user_id: 'alice', role: 'owner' }]);
    await expect(bob.closed).resolves.toEqual({ code: 4403, reason: 'membership_revoked' });
    expect(bob.frames.at(-1)).toMatchObject({ type: 'membership', action: 'removed' });
    await owner.waitFor(
      (frame) => frame.type === 'presence' && frame.status === 'left' && frame.user_id === 'bob',
    );
    await expect(
      upgradeRefusal(`${server.url}/ws/chat/live?token=${bobToken}`),
    ).resolves.toMatchObject({ status: 404 });
    const lastOwner = await api(`${server.url}/api/conversations/live/members/alice`, alice, {
      method: 'DELETE',
    });
    expect(lastOwner).toMatchObject({ status: 400, body: { code: 'invalid_request' } });
    await owner.close();
  });

  it('deletes a conversation: sockets closed with 4404, entries erased, the id reusable from seq 1', async () => {
    const server = await jwtServer();
    const alice = await token('alice');
    const bobToken = await token('bob');
    await api(`${server.url}/api/conversations`, alice, {
      method: 'POST',
      body: { id: 'doomed', members: [{ user_id: 'bob', role: 'member' }] },
    });
    const bob = await connectAs(server.url, 'doomed', 'bob');
    bob.send({ type: 'user_message', content: 'What is 5 + 3?' });
    await bob.waitForType('agent_response_complete');
    const byMember = await api(`${server.url}/api/conversations/doomed`, bobToken, {
      method: 'DELETE',
    });
    expect(byMember).toMatchObject({ status: 403, body: { code: 'forbidden' } });

    const deleted = await api(`${server.url}/api/conversations/doomed`, alice, {
      method: 'DELETE',
    });
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({ id: 'doomed', deleted: true });
    expect(deleted.body.entries).toBeGreaterThan(5);
    await expect(bob.closed).resolves.toEqual({ code: 4404, reason: 'conversation_deleted' });
    expect(await api(`${server.url}/api/conversations/doomed/events`, alice)).toMatchObject({
      status: 404,
    });
    await expect(
      upgradeRefusal(`${server.url}/ws/chat/doomed?since=3&token=${bobToken}`),
    ).resolves.toMatchObject({ status: 404, body: { code: 'not_found' } });

    const again = await api(`${server.url}/api/conversations`, alice, {
      method: 'POST',
      body: { id: 'doomed' },
    });
    expect(again.body).toMatchObject({
      last_seq: 1,
      members: [{ user_id: 'alice', role: 'owner' }],
    });
    const fresh = await connectAs(server.url, 'doomed', 'alice', '&since=0');
    await fresh.waitFor((frame) => frame.type === 'membership' && frame.seq === 1);
    expect(fresh.frames.some((frame) => frame.type === 'user_message')).toBe(false);
    await fresh.close();

    // A client that kept its seq of the deleted conversation is ahead of the new one.
    const keptSeq = Math.max(...bob.frames.map((frame) => frame.seq));
    const stale = await connectAs(server.url, 'doomed', 'alice', `&since=${String(keptSeq)}`);
    const unavailable = await stale.waitForType('error');
    expect(unavailable).toMatchObject({ code: 'resume_unavailable', in_reply_to: 'resume' });
    expect(unavailable.details?.current_seq).toBeLessThan(keptSeq);
    await stale.close();
  });

  it('keeps members across a restart: they are events in the SQLite log', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'parley-access-'));
    directories.push(directory);
    const database = join(directory, 'parley.db');
    const options = toServerOptions({
      environment: {},
      port: 0,
      logLevel: 'silent',
      tokenPacingMs: 0,
      shutdownGraceMs: 0,
      jwtSecret: secret,
      devMode: false,
      database,
    });
    const first = await startServer(options);
    const alice = await token('alice');
    await api(`${first.url}/api/conversations`, alice, {
      method: 'POST',
      body: { id: 'kept', members: [{ user_id: 'bob', role: 'member' }] },
    });
    await api(`${first.url}/api/conversations/kept/members/carol`, alice, {
      method: 'PUT',
      body: { role: 'viewer' },
    });
    await first.close();

    const second = await startServer(options);
    try {
      const info = await api(`${second.url}/api/conversations/kept`, await token('bob'));
      expect(info.body).toMatchObject({
        id: 'kept',
        members: [
          { user_id: 'alice', role: 'owner' },
          { user_id: 'bob', role: 'member' },
          { user_id: 'carol', role: 'viewer' },
        ],
        last_seq: 2,
      });
      const carol = await connectAs(second.url, 'kept', 'carol');
      carol.send({ type: 'user_message', content: 'hello?' });
      await expect(carol.waitForType('error')).resolves.toMatchObject({ code: 'forbidden' });
      await carol.close();
      await expect(
        upgradeRefusal(`${second.url}/ws/chat/kept?token=${await token('mallory')}`),
      ).resolves.toMatchObject({ status: 404 });
    } finally {
      await second.close();
    }
  });

  it('grants conversations by the parley_conversations claim and everything to an admin', async () => {
    const server = await jwtServer();
    const alice = await token('alice');
    for (const id of ['team-a-1', 'team-b-1']) {
      await api(`${server.url}/api/conversations`, alice, { method: 'POST', body: { id } });
    }
    const dave = await token('dave', { parley_conversations: ['team-a-*'] });
    const joined = await connectClient(server.url, 'team-a-1', 'dave', { query: `token=${dave}` });
    joined.send({ type: 'user_message', content: 'by claim' });
    await joined.waitFor((frame) => frame.type === 'user_message');
    await joined.close();
    await expect(
      upgradeRefusal(`${server.url}/ws/chat/team-b-1?token=${dave}`),
    ).resolves.toMatchObject({ status: 404 });

    const admin = await token('root', { parley_role: 'admin' });
    const listed = await api(`${server.url}/api/conversations`, admin);
    expect((listed.body.conversations as unknown[]).length).toBe(2);
    const managed = await api(`${server.url}/api/conversations/team-b-1/members/erin`, admin, {
      method: 'PUT',
      body: { role: 'member' },
    });
    expect(managed.status).toBe(200);

    const badClaim = await token('eve', { parley_conversations: 'team-a-*' });
    const refused = await upgradeRefusal(`${server.url}/ws/chat/team-a-1?token=${badClaim}`);
    expect(refused.status).toBe(401);
    expect(refused.body.message).toContain('parley_conversations');
  });

  it('refuses a JWT sub that a development user_id could not be, with 401 and the reason', async () => {
    // The defect: a sub with a newline, NUL, <script> or 6 KB was accepted and broadcast.
    const server = await jwtServer({ access: 'open' });
    for (const sub of ['a\nb', 'a\u0000b', '<script>alert(1)</script>', 'x'.repeat(6 * 1024)]) {
      const refused = await upgradeRefusal(`${server.url}/ws/chat/c?token=${await token(sub)}`);
      expect(refused.status).toBe(401);
      expect(refused.body.message).toBe(
        'token sub claim must be 1-64 characters of letters, digits, _ . @ -',
      );
    }
  });

  it('asks the authorize hook first: true allows, false hides, undefined falls through', async () => {
    const asked: string[] = [];
    const server = await jwtServer({
      authorize: ({ user, conversationId, action }) => {
        asked.push(`${user.userId}:${conversationId}:${action}`);
        if (user.userId === 'partner') return true;
        if (user.userId === 'alice' && conversationId === 'frozen' && action === 'read') {
          return false;
        }
        return undefined;
      },
    });
    const alice = await token('alice');
    for (const id of ['frozen', 'open-to-partner']) {
      await api(`${server.url}/api/conversations`, alice, { method: 'POST', body: { id } });
    }
    const partner = await connectAs(server.url, 'open-to-partner', 'partner');
    await partner.close();
    await expect(
      upgradeRefusal(`${server.url}/ws/chat/frozen?token=${alice}`),
    ).resolves.toMatchObject({ status: 404 });
    const owner = await connectAs(server.url, 'open-to-partner', 'alice');
    await owner.close();
    expect(asked).toContain('partner:open-to-partner:read');
    expect(asked).toContain('alice:frozen:read');
    await expect(startServer({ authorize: 'yes' as never })).rejects.toThrow(
      /Option "authorize" must be a function/,
    );
  });

  it('admits a socket read-only when the authorize hook allows read but refuses post', async () => {
    const asked: string[] = [];
    const server = await jwtServer({
      authorize: ({ user, conversationId, action }) => {
        asked.push(`${user.userId}:${conversationId}:${action}`);
        if (user.userId === 'reader') return action === 'read';
        if (user.userId === 'writer') return true;
        return undefined;
      },
    });
    await api(`${server.url}/api/conversations`, await token('alice'), {
      method: 'POST',
      body: { id: 'hooked' },
    });
    const reader = await connectAs(server.url, 'hooked', 'reader', '&since=0');
    const writer = await connectAs(server.url, 'hooked', 'writer');
    await reader.waitFor((frame) => frame.type === 'membership' && frame.seq === 1);

    reader.send({ type: 'user_message', content: 'let me in' });
    const refused = await reader.waitForType('error');
    expect(refused).toMatchObject({ code: 'forbidden', in_reply_to: 'user_message' });
    reader.send({ type: 'cancel' });
    await reader.waitFor(
      (frame) =>
        frame.type === 'error' && frame.in_reply_to === 'cancel' && frame.code === 'forbidden',
    );

    writer.send({ type: 'user_message', content: 'I may post' });
    // The conversation takes frames in order: once the writer's message is back, a broadcast of
    // the reader's refused one would have arrived before it.
    await writer.waitFor(
      (frame) => frame.type === 'user_message' && frame.content === 'I may post',
    );
    await reader.waitFor(
      (frame) => frame.type === 'user_message' && frame.content === 'I may post',
    );
    for (const client of [reader, writer]) {
      expect(
        client.frames.some(
          (frame) => frame.type === 'user_message' && frame.content === 'let me in',
        ),
      ).toBe(false);
    }
    // Asked once at the upgrade and kept for the connection, not once per frame.
    expect(asked.filter((entry) => entry === 'reader:hooked:post')).toHaveLength(1);
    expect(asked).toContain('writer:hooked:post');
    await reader.close();
    await writer.close();
  });
});
