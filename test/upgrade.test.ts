import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { connectClient, upgradeRefusal } from './support/test-client.js';
import { startTestServer } from './support/test-server.js';

const secret = 'a-test-secret-of-at-least-32-bytes!!';

function token(claims: { sub?: string; exp?: number | string }) {
  let jwt = new SignJWT({}).setProtectedHeader({ alg: 'HS256' });
  if (claims.sub !== undefined) jwt = jwt.setSubject(claims.sub);
  if (claims.exp !== undefined) jwt = jwt.setExpirationTime(claims.exp);
  return jwt.sign(new TextEncoder().encode(secret));
}

describe('the upgrade gate', () => {
  it('refuses a malformed conversation id with 400 and a reason', async () => {
    const server = await startTestServer();
    const refusal = await upgradeRefusal(`${server.url}/ws/chat/has%20space?user_id=a`);
    expect(refusal.status).toBe(400);
    expect(refusal.body.code).toBe('invalid_conversation_id');
    expect(refusal.body.message).toContain('has space');
  });

  it('refuses an unknown path with 404', async () => {
    const server = await startTestServer();
    const refusal = await upgradeRefusal(`${server.url}/ws/elsewhere`);
    expect(refusal).toMatchObject({ status: 404, body: { code: 'not_found' } });
  });

  it('authenticates with a JWT and uses its sub as the user', async () => {
    const server = await startTestServer({ jwtSecret: secret, devMode: false, access: 'open' });
    const jwt = await token({ sub: 'carol', exp: '5m' });
    const viaHeader = await connectClient(server.url, 'auth', 'ignored', {
      query: '',
      headers: { authorization: `Bearer ${jwt}` },
    });
    expect(viaHeader.frames[0]).toMatchObject({ type: 'welcome', user_id: 'carol' });
    const viaQuery = await connectClient(server.url, 'auth', 'ignored', { query: `token=${jwt}` });
    expect(viaQuery.frames[0]).toMatchObject({ type: 'welcome', user_id: 'carol' });
    const viaProtocol = await connectClient(server.url, 'auth', 'ignored', {
      query: '',
      protocols: ['parley.v1', `bearer.${jwt}`],
    });
    expect(viaProtocol.frames[0]).toMatchObject({ type: 'welcome', user_id: 'carol' });
    expect(viaProtocol.socket.protocol).toBe('parley.v1');
  });

  it('refuses missing, expired and development-mode credentials with 401 when JWT is on', async () => {
    const server = await startTestServer({ jwtSecret: secret, devMode: false });
    const base = `${server.url}/ws/chat/auth`;
    await expect(upgradeRefusal(`${base}?user_id=mallory`)).resolves.toMatchObject({
      status: 401,
      body: { code: 'unauthorized' },
    });
    const expired = await token({ sub: 'carol', exp: Math.floor(Date.now() / 1000) - 60 });
    const refusal = await upgradeRefusal(`${base}?token=${expired}`);
    expect(refusal.status).toBe(401);
    expect(refusal.body.message).toContain('expired');
    const noExp = await token({ sub: 'carol' });
    await expect(upgradeRefusal(`${base}?token=${noExp}`)).resolves.toMatchObject({ status: 401 });
  });

  it('refuses an origin outside the allowlist with 403', async () => {
    const server = await startTestServer({ allowedOrigins: ['https://chat.example'] });
    const refusal = await upgradeRefusal(`${server.url}/ws/chat/o?user_id=a`, {
      origin: 'https://evil.example',
    });
    expect(refusal).toMatchObject({ status: 403, body: { code: 'origin_not_allowed' } });
    const allowed = await connectClient(server.url, 'o', 'a', { origin: 'https://chat.example' });
    expect(allowed.frames[0]?.type).toBe('welcome');
  });

  it('refuses connections past maxConnections with 503', async () => {
    const server = await startTestServer({ maxConnections: 1 });
    await connectClient(server.url, 'cap', 'a');
    const refusal = await upgradeRefusal(`${server.url}/ws/chat/cap?user_id=b`);
    expect(refusal).toMatchObject({ status: 503, body: { code: 'too_many_connections' } });
  });
});

describe('health endpoints', () => {
  it('reports status, uptime, connections, conversations and turns', async () => {
    const server = await startTestServer();
    await connectClient(server.url, 'h', 'a');
    for (const path of ['/health', '/health/ws']) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({
        status: 'ok',
        uptime_seconds: expect.any(Number) as number,
        connections: 1,
        conversations: 1,
        turns: { running: 0, waiting: 0 },
      });
    }
    const missing = await fetch(`${server.url}/nope`);
    expect(missing.status).toBe(404);
  });

  it('serves the chat page at /', async () => {
    const server = await startTestServer();
    const response = await fetch(server.url);
    expect(response.headers.get('content-type')).toContain('text/html');
    expect(await response.text()).toContain('<title>');
  });
});
