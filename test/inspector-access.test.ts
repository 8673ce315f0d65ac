/**
 * Who may open the inspector (issue 14: "/ws/inspect ignores the Origin allowlist in development
 * mode: a page on a foreign origin read a private message and could send events to actors").
 */
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { upgradeRefusal } from './support/test-client.js';
import { startTestServer } from './support/test-server.js';
import { connectInspector } from './support/inspector-client.js';
import { WebSocket } from 'ws';

const secret = 'a-test-secret-of-at-least-32-bytes!!';
const adminToken = 'admin-token-0123456789';

function jwt(sub: string, claims: Record<string, unknown> = {}) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(secret));
}

/** Opens `/ws/inspect` with an `Origin` header, as a browser page on that origin would. */
function openFrom(url: string, origin: string): Promise<'open'> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/ws/inspect`, { origin });
    socket.once('open', () => {
      socket.close();
      resolve('open');
    });
    socket.once('unexpected-response', (_request, response) => {
      reject(new Error(`refused with ${String(response.statusCode)}`));
    });
    socket.on('error', () => undefined);
  });
}

describe('inspector access', () => {
  it('accepts only loopback origins in development mode without an allowlist', async () => {
    const server = await startTestServer();
    const foreign = await upgradeRefusal(`${server.url}/ws/inspect`, {
      origin: 'http://evil.example',
    });
    expect(foreign.status).toBe(403);
    expect(foreign.body.code).toBe('origin_not_allowed');
    await expect(openFrom(server.url, 'http://localhost:5173')).resolves.toBe('open');
    await expect(openFrom(server.url, 'http://127.0.0.1:8080')).resolves.toBe('open');
    await expect(openFrom(server.url, 'http://localhost.evil.example')).rejects.toThrow('403');
  });

  it('honours PARLEY_ALLOWED_ORIGINS in development mode too', async () => {
    const server = await startTestServer({ allowedOrigins: ['https://app.example'] });
    await expect(openFrom(server.url, 'https://app.example')).resolves.toBe('open');
    await expect(openFrom(server.url, 'http://localhost:5173')).rejects.toThrow('403');
  });

  it('outside development mode takes the admin token or an admin JWT, and nothing less', async () => {
    const server = await startTestServer({
      devMode: false,
      jwtSecret: secret,
      inspector: true,
      inspectorToken: adminToken,
    });
    const member = await upgradeRefusal(`${server.url}/ws/inspect?token=${await jwt('alice')}`);
    expect(member.status).toBe(401);
    expect(member.body.message).toContain('parley_role');
    const admin = await connectInspector(
      server.url,
      `?token=${await jwt('root', { parley_role: 'admin' })}`,
    );
    await admin.waitFor((message) => message.type === 'welcome');
    admin.close();
    const byToken = await connectInspector(server.url, `?token=${adminToken}`);
    await byToken.waitFor((message) => message.type === 'welcome');
    byToken.close();
  });
});
