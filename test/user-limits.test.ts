/**
 * Per-user conversation limits (issue 14: "one user opened 10,000 conversations in 34 s with no
 * refusal: RSS 80 → 592 MiB").
 */
import { describe, expect, it } from 'vitest';
import { connectClient, upgradeRefusal } from './support/test-client.js';
import { startTestServer } from './support/test-server.js';

describe('per-user conversation limits', () => {
  it('refuses a user past the conversations they may start per hour with user_limit (429)', async () => {
    const server = await startTestServer({ userConversationsPerHour: 3, userLiveConversations: 0 });
    for (const id of ['a1', 'a2', 'a3']) {
      const client = await connectClient(server.url, id, 'mallory');
      await client.close();
    }
    const refused = await upgradeRefusal(`${server.url}/ws/chat/a4?user_id=mallory`);
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe('user_limit');
    expect(refused.body.message).toContain('PARLEY_USER_CONVERSATIONS_PER_HOUR');
    // Joining one that exists is not a creation; another user has a budget of their own.
    const again = await connectClient(server.url, 'a1', 'mallory');
    await again.close();
    const other = await connectClient(server.url, 'a4', 'alice');
    await other.close();

    const created = await fetch(`${server.url}/api/conversations?user_id=mallory`, {
      method: 'POST',
      body: '{}',
    });
    expect(created.status).toBe(429);
    expect(await created.json()).toMatchObject({ code: 'user_limit' });
  });

  it('refuses a user past the live conversations they started', async () => {
    const server = await startTestServer({ userConversationsPerHour: 0, userLiveConversations: 2 });
    const open = [
      await connectClient(server.url, 'b1', 'mallory'),
      await connectClient(server.url, 'b2', 'mallory'),
    ];
    const refused = await upgradeRefusal(`${server.url}/ws/chat/b3?user_id=mallory`);
    expect(refused).toMatchObject({ status: 429, body: { code: 'user_limit' } });
    expect(refused.body.message).toContain('PARLEY_USER_LIVE_CONVERSATIONS');
    await Promise.all(open.map((client) => client.close()));
  });
});
