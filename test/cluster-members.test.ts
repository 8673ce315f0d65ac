/**
 * The conversation API under access control in cluster mode: a conversation created over HTTP on
 * one instance is joined on another, and member changes sent to an instance that does not own the
 * conversation are made by its owner (forwarded through Redis) and take effect everywhere.
 * Before, the receiving instance's own engine made the change, PostgreSQL refused entries it had
 * not fenced, and the API answered 201 for a conversation that did not exist.
 */
import { SignJWT } from 'jose';
import { describe, expect, it, onTestFailed } from 'vitest';
import {
  clusterHealth,
  describeCluster,
  probeCluster,
  startInstance,
} from './support/cluster-processes.js';
import { connectClient, upgradeRefusal } from './support/test-client.js';

const probes = await probeCluster();
const secret = 'a-cluster-test-secret-of-32-bytes!!';

const token = (sub: string) =>
  new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(secret));

async function api(url: string, user: string, init: { method?: string; body?: unknown } = {}) {
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${await token(user)}`, 'content-type': 'application/json' },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const join = async (url: string, conversationId: string, user: string) =>
  connectClient(url, conversationId, user, { query: `token=${await token(user)}` });

describe('cluster mode', () => {
  describeCluster(probes, ({ environment }) => {
    it(
      'creates a conversation on one instance, joins it on another, and makes member changes at its owner wherever they are sent',
      { timeout: 60_000 },
      async () => {
        const env = { ...environment(), PARLEY_JWT_SECRET: secret, PARLEY_DEV_MODE: 'false' };
        const [a, b] = await Promise.all([startInstance(env, 'a'), startInstance(env, 'b')]);
        let step = 'creating at a';
        onTestFailed(() => {
          console.error(
            `members failed at: ${step}\n--- a:\n${a.printed().slice(-3_000)}\n--- b:\n${b.printed().slice(-3_000)}`,
          );
        });

        const created = await api(`${a.url}/api/conversations`, 'alice', {
          method: 'POST',
          body: { id: 'team', members: [{ user_id: 'bob', role: 'member' }] },
        });
        expect(created.status).toBe(201);
        // The creation took the lease at a: it owns the conversation, b has not seen it.
        expect((await clusterHealth(a)).owned).toBe(1);

        step = 'joining bob at b';
        // Joined at b, which follows a; the members come from the shared log.
        const bob = await join(b.url, 'team', 'bob');
        await bob.waitForType('welcome');
        expect(
          (await upgradeRefusal(`${b.url}/ws/chat/team?token=${await token('carol')}`)).status,
        ).toBe(404);

        step = 'adding carol through b';
        // Sent to b, made by a: carol is added, and b's own check of her join sees it.
        const added = await api(`${b.url}/api/conversations/team/members/carol`, 'alice', {
          method: 'PUT',
          body: { role: 'viewer' },
        });
        expect(added).toMatchObject({
          status: 200,
          body: {
            members: [
              { user_id: 'alice', role: 'owner' },
              { user_id: 'bob', role: 'member' },
              { user_id: 'carol', role: 'viewer' },
            ],
          },
        });
        const change = await bob.waitForType('membership');
        expect(change.members).toEqual(added.body.members);
        step = 'joining carol at b';
        const carol = await join(b.url, 'team', 'carol');
        await carol.waitForType('welcome');
        const info = await api(`${b.url}/api/conversations/team`, 'bob');
        expect(info.body.members).toEqual(added.body.members);

        step = 'removing bob through b';
        // Removed through b: bob's socket, which b serves, is closed by the owner's decision.
        const removed = await api(`${b.url}/api/conversations/team/members/bob`, 'alice', {
          method: 'DELETE',
        });
        expect(removed.status).toBe(200);
        expect(await bob.closed).toMatchObject({ code: 4403 });

        step = 'creating again through b';
        // A creation through b of an id that exists is refused as on one node.
        const again = await api(`${b.url}/api/conversations`, 'alice', {
          method: 'POST',
          body: { id: 'team' },
        });
        expect(again).toMatchObject({ status: 409, body: { code: 'conversation_exists' } });

        step = 'deleting through b';
        // Deleting a whole conversation is not available in cluster mode: refused, with the reason.
        const deleted = await api(`${b.url}/api/conversations/team`, 'alice', { method: 'DELETE' });
        expect(deleted).toMatchObject({ status: 405, body: { code: 'method_not_allowed' } });
        await carol.close();
      },
    );
  });
});
