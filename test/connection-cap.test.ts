/**
 * The connection cap under a flood of concurrent upgrades with JWT auth (issue 14: "the
 * connection cap is checked before the token is verified, so concurrent upgrades pass it (cap
 * 2,000 → 2,024 open)").
 */
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startTestServer } from './support/test-server.js';

const secret = 'a-test-secret-of-at-least-32-bytes!!';

function token(sub: string) {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(secret));
}

/** Opens a socket; resolves with it when open, or with the refusal's status. */
function open(url: string): Promise<WebSocket | number> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url);
    socket.once('open', () => {
      resolve(socket);
    });
    socket.once('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      response.resume();
    });
    socket.on('error', () => undefined);
  });
}

describe('the connection cap', () => {
  it('never lets a flood of concurrent JWT upgrades past the cap, and returns failed slots', async () => {
    const cap = 20;
    const server = await startTestServer({
      jwtSecret: secret,
      devMode: false,
      access: 'open',
      maxConnections: cap,
    });
    const base = `${server.url.replace(/^http/, 'ws')}/ws/chat/flood`;
    const tokens = await Promise.all(Array.from({ length: 80 }, (_, index) => token(`u${index}`)));

    // Upgrades that fail authentication hold a slot only while they are checked.
    const refused = await Promise.all(
      Array.from({ length: 40 }, () => open(`${base}?token=not-a-token`)),
    );
    expect(new Set(refused)).toEqual(new Set([401]));

    const outcomes = await Promise.all(tokens.map((jwt) => open(`${base}?token=${jwt}`)));
    const opened = outcomes.filter((outcome): outcome is WebSocket => typeof outcome !== 'number');
    const statuses = outcomes.filter((outcome) => typeof outcome === 'number');
    expect(opened).toHaveLength(cap);
    expect(new Set(statuses)).toEqual(new Set([503]));
    expect(server.engine.stats().connections).toBeLessThanOrEqual(cap);

    await Promise.all(
      opened.map(
        (socket) =>
          new Promise<void>((resolve) => {
            socket.once('close', () => {
              resolve();
            });
            socket.close();
          }),
      ),
    );
  });
});
