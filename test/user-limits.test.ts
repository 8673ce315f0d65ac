/**
 * Per-user conversation limits (issue 14: "one user opened 10,000 conversations in 34 s with no
 * refusal: RSS 80 → 592 MiB").
 */
import { describe, expect, it } from 'vitest';
import { createGatedModel } from './support/test-models.js';
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

describe('turns waiting per user', () => {
  it('refuses a message past PARLEY_USER_TURN_QUEUE with busy, while another user still gets a place', async () => {
    const gated = createGatedModel();
    const server = await startTestServer({
      model: gated.model,
      turnConcurrency: 1,
      userTurnQueueSize: 2,
      tokenPacingMs: 0,
    });
    const mallory = await connectClient(server.url, 'queue-1', 'mallory');
    const echoed = (content: string) =>
      mallory.waitFor(
        (frame) => frame.type === 'user_message' && frame.content === content,
        `the echo of ${content}`,
      );
    mallory.send({ type: 'user_message', content: 'one' });
    await gated.started(1);
    // 'one' runs (it left the queue); 'two' and 'three' wait; 'four' is one too many.
    for (const content of ['two', 'three', 'four']) mallory.send({ type: 'user_message', content });
    await echoed('three');
    const refusal = await mallory.waitFor(
      (frame) => frame.type === 'error' && frame.code === 'busy',
      'a busy refusal',
    );
    expect(refusal).toMatchObject({ code: 'busy' });
    expect(
      mallory.frames.filter((frame) => frame.type === 'user_message').map((frame) => frame.content),
    ).toEqual(['one', 'two', 'three']);

    // The shared queue still has room for somebody else.
    const alice = await connectClient(server.url, 'queue-2', 'alice');
    alice.send({ type: 'user_message', content: 'mine' });
    await alice.waitFor(
      (frame) => frame.type === 'user_message' && frame.content === 'mine',
      'the echo of mine',
    );

    // Once mallory's turns have run, her places are hers again.
    gated.open();
    await mallory.waitFor(
      (frame) =>
        frame.type === 'agent_response_complete' &&
        mallory.frames.filter((item) => item.type === 'agent_response_complete').length === 3,
      'three answers',
    );
    mallory.send({ type: 'user_message', content: 'five' });
    await echoed('five');
  });
});
