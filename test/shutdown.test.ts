import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { startParleyProcess } from './support/parley-process.js';
import { connectClient } from './support/test-client.js';

describe('graceful shutdown', () => {
  it('lets the running turn finish on SIGTERM, closes sockets with 1012 and exits 0', async () => {
    const { child, url } = await startParleyProcess({
      PARLEY_TOKEN_PACING_MS: '15',
      PARLEY_DB: 'memory',
    });
    const alice = await connectClient(url, 'drain', 'alice');
    alice.send({ type: 'user_message', content: 'what can you do?' });
    await alice.waitForType('agent_response_chunk');
    child.kill('SIGTERM');

    const complete = await alice.waitForType('agent_response_complete');
    expect(complete.status).toBe('completed');
    expect(complete.content).toMatch(/^I can help with/);
    await expect(alice.closed).resolves.toEqual({ code: 1012, reason: 'server_shutdown' });
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
  });

  it('interrupts a turn still running when the grace period ends, and exits 0', async () => {
    const { child, url } = await startParleyProcess({
      PARLEY_TOKEN_PACING_MS: '200',
      PARLEY_SHUTDOWN_GRACE_MS: '100',
      PARLEY_DB: 'memory',
    });
    const alice = await connectClient(url, 'drain-late', 'alice');
    alice.send({ type: 'user_message', content: 'what can you do?' });
    await alice.waitForType('agent_response_chunk');
    child.kill('SIGTERM');

    const complete = await alice.waitForType('agent_response_complete');
    expect(complete.status).toBe('interrupted');
    expect(complete.content.length).toBeGreaterThan(0);
    await expect(alice.closed).resolves.toEqual({ code: 1012, reason: 'server_shutdown' });
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
  });
});
