import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParleyError } from '../errors.js';
import { createAuthenticator, selectSubprotocol, type AuthOptions } from './authenticate.js';

const SECRET = 'a-shared-secret-for-tests-only-32b';
const MISSING_CREDENTIALS =
  'missing credentials: send Authorization: Bearer <jwt>, a bearer.<jwt> subprotocol or ?token=';

interface SignOptions {
  secret?: string;
  expiresAt?: number | null;
  subject?: string | null;
  issuer?: string;
  audience?: string;
}

function nowInSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

async function signHs256(options: SignOptions = {}): Promise<string> {
  const jwt = new SignJWT({}).setProtectedHeader({ alg: 'HS256' });
  applyClaims(jwt, options);
  return jwt.sign(new TextEncoder().encode(options.secret ?? SECRET));
}

async function signEs256(privateKey: CryptoKey, kid?: string): Promise<string> {
  const jwt = new SignJWT({}).setProtectedHeader({
    alg: 'ES256',
    ...(kid === undefined ? {} : { kid }),
  });
  applyClaims(jwt, {});
  return jwt.sign(privateKey);
}

function applyClaims(jwt: SignJWT, options: SignOptions): void {
  if (options.subject !== null) jwt.setSubject(options.subject ?? 'alice');
  if (options.expiresAt !== null) jwt.setExpirationTime(options.expiresAt ?? nowInSeconds() + 60);
  if (options.issuer !== undefined) jwt.setIssuer(options.issuer);
  if (options.audience !== undefined) jwt.setAudience(options.audience);
}

function request(headers: Record<string, string> = {}): IncomingMessage {
  return { headers } as unknown as IncomingMessage;
}

function url(query = ''): URL {
  return new URL(`http://localhost/conversations/c1${query}`);
}

async function rejection(promise: Promise<unknown>): Promise<ParleyError> {
  const error: unknown = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(ParleyError);
  return error as ParleyError;
}

async function expectUnauthorized(promise: Promise<unknown>, message: string): Promise<void> {
  const error = await rejection(promise);
  expect(error.code).toBe('unauthorized');
  expect(error.message).toBe(message);
}

const hs256: AuthOptions = { jwtSecret: SECRET, devMode: false };

describe('createAuthenticator with an HS256 secret', () => {
  it('accepts a valid token from the Authorization header', async () => {
    const authenticator = await createAuthenticator(hs256);
    const token = await signHs256();
    await expect(
      authenticator.authenticate(request({ authorization: `Bearer ${token}` }), url()),
    ).resolves.toMatchObject({ userId: 'alice', method: 'jwt' });
  });

  it('accepts a valid token from a bearer subprotocol among others', async () => {
    const authenticator = await createAuthenticator(hs256);
    const token = await signHs256();
    const headers = { 'sec-websocket-protocol': `parley.v1 ,  bearer.${token}` };
    await expect(authenticator.authenticate(request(headers), url())).resolves.toMatchObject({
      userId: 'alice',
      method: 'jwt',
    });
  });

  it('accepts a valid token from ?token=', async () => {
    const authenticator = await createAuthenticator(hs256);
    const token = await signHs256();
    await expect(
      authenticator.authenticate(request(), url(`?token=${token}`)),
    ).resolves.toMatchObject({
      userId: 'alice',
      method: 'jwt',
    });
  });

  it('prefers the Authorization header over the subprotocol and the query', async () => {
    const authenticator = await createAuthenticator(hs256);
    const token = await signHs256();
    const headers = { authorization: `bearer ${token}`, 'sec-websocket-protocol': 'bearer.junk' };
    await expect(
      authenticator.authenticate(request(headers), url('?token=junk')),
    ).resolves.toMatchObject({ userId: 'alice', method: 'jwt' });
  });

  it('rejects an expired token', async () => {
    const authenticator = await createAuthenticator(hs256);
    const token = await signHs256({ expiresAt: nowInSeconds() - 60 });
    await expectUnauthorized(
      authenticator.authenticate(request({ authorization: `Bearer ${token}` }), url()),
      'token expired',
    );
  });

  it('accepts a token that expired within the five-second clock tolerance', async () => {
    const authenticator = await createAuthenticator(hs256);
    const token = await signHs256({ expiresAt: nowInSeconds() - 2 });
    await expect(
      authenticator.authenticate(request({ authorization: `Bearer ${token}` }), url()),
    ).resolves.toMatchObject({ userId: 'alice', method: 'jwt' });
  });

  it('rejects a token signed with another secret', async () => {
    const authenticator = await createAuthenticator(hs256);
    const token = await signHs256({ secret: 'some-other-secret-that-is-32-bytes' });
    await expectUnauthorized(
      authenticator.authenticate(request(), url(`?token=${token}`)),
      'token signature invalid',
    );
  });

  it('rejects a token without an exp claim', async () => {
    const authenticator = await createAuthenticator(hs256);
    const token = await signHs256({ expiresAt: null });
    await expectUnauthorized(
      authenticator.authenticate(request(), url(`?token=${token}`)),
      'token is missing the exp claim',
    );
  });

  it('rejects a token without a sub claim', async () => {
    const authenticator = await createAuthenticator(hs256);
    const token = await signHs256({ subject: null });
    await expectUnauthorized(
      authenticator.authenticate(request(), url(`?token=${token}`)),
      'token is missing the sub claim',
    );
  });

  it('rejects a token whose sub claim is not a string', async () => {
    const authenticator = await createAuthenticator(hs256);
    const token = await new SignJWT({ sub: 42 } as unknown as Record<string, unknown>)
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('1m')
      .sign(new TextEncoder().encode(SECRET));
    await expectUnauthorized(
      authenticator.authenticate(request(), url(`?token=${token}`)),
      'token sub claim must be 1-64 characters of letters, digits, _ . @ -',
    );
  });

  it('rejects a token whose issuer does not match', async () => {
    const authenticator = await createAuthenticator({ ...hs256, jwtIssuer: 'https://id.example' });
    const token = await signHs256({ issuer: 'https://evil.example' });
    await expectUnauthorized(
      authenticator.authenticate(request(), url(`?token=${token}`)),
      'token issuer (iss) does not match',
    );
  });

  it('rejects a token whose audience does not match', async () => {
    const authenticator = await createAuthenticator({ ...hs256, jwtAudience: 'parley' });
    const token = await signHs256({ audience: 'billing' });
    await expectUnauthorized(
      authenticator.authenticate(request(), url(`?token=${token}`)),
      'token audience (aud) does not match',
    );
  });

  it('accepts a token whose issuer and audience match', async () => {
    const authenticator = await createAuthenticator({
      ...hs256,
      jwtIssuer: 'https://id.example',
      jwtAudience: 'parley',
    });
    const token = await signHs256({ issuer: 'https://id.example', audience: 'parley' });
    await expect(
      authenticator.authenticate(request(), url(`?token=${token}`)),
    ).resolves.toMatchObject({
      userId: 'alice',
      method: 'jwt',
    });
  });

  it('rejects a malformed token without repeating it in the message', async () => {
    const authenticator = await createAuthenticator(hs256);
    const token = 'not-a-jwt-secret-looking-value';
    const error = await rejection(
      authenticator.authenticate(request({ authorization: `Bearer ${token}` }), url()),
    );
    expect(error.code).toBe('unauthorized');
    expect(error.message).toBe('malformed token');
    expect(error.message).not.toContain(token);
  });

  it('rejects an empty Bearer token as malformed', async () => {
    const authenticator = await createAuthenticator(hs256);
    await expectUnauthorized(
      authenticator.authenticate(request({ authorization: 'Bearer' }), url()),
      'malformed token',
    );
  });

  it('rejects a request without credentials', async () => {
    const authenticator = await createAuthenticator(hs256);
    await expectUnauthorized(authenticator.authenticate(request(), url()), MISSING_CREDENTIALS);
  });

  it('ignores ?user_id= outside development mode', async () => {
    const authenticator = await createAuthenticator(hs256);
    await expectUnauthorized(
      authenticator.authenticate(request(), url('?user_id=alice')),
      MISSING_CREDENTIALS,
    );
  });
});

describe('createAuthenticator with a public key file', () => {
  let directory: string;
  let privateKey: CryptoKey;
  let pemFile: string;
  let jwksFile: string;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'parley-authenticate-'));
    const pair = await generateKeyPair('ES256');
    privateKey = pair.privateKey;
    pemFile = join(directory, 'public.pem');
    jwksFile = join(directory, 'jwks.json');
    await writeFile(pemFile, await exportSPKI(pair.publicKey));
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'key-1', alg: 'ES256' };
    await writeFile(jwksFile, JSON.stringify({ keys: [jwk] }));
  });

  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('verifies an ES256 token against a PEM public key', async () => {
    const authenticator = await createAuthenticator({ jwtPublicKeyFile: pemFile, devMode: false });
    const token = await signEs256(privateKey);
    await expect(
      authenticator.authenticate(request({ authorization: `Bearer ${token}` }), url()),
    ).resolves.toMatchObject({ userId: 'alice', method: 'jwt' });
  });

  it('rejects a token signed by another key against a PEM public key', async () => {
    const authenticator = await createAuthenticator({ jwtPublicKeyFile: pemFile, devMode: false });
    const other = await generateKeyPair('ES256');
    await expectUnauthorized(
      authenticator.authenticate(request(), url(`?token=${await signEs256(other.privateKey)}`)),
      'token signature invalid',
    );
  });

  it('rejects an HS256 token when only a public key is configured', async () => {
    const authenticator = await createAuthenticator({ jwtPublicKeyFile: pemFile, devMode: false });
    await expectUnauthorized(
      authenticator.authenticate(request(), url(`?token=${await signHs256()}`)),
      'token algorithm not allowed',
    );
  });

  it('rejects a token whose algorithm the PEM key cannot verify', async () => {
    const authenticator = await createAuthenticator({ jwtPublicKeyFile: pemFile, devMode: false });
    const other = await generateKeyPair('ES384');
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES384' })
      .setSubject('alice')
      .setExpirationTime('1m')
      .sign(other.privateKey);
    await expectUnauthorized(
      authenticator.authenticate(request(), url(`?token=${token}`)),
      'token algorithm not allowed',
    );
  });

  it('verifies an ES256 token against a JWKS file', async () => {
    const authenticator = await createAuthenticator({ jwtPublicKeyFile: jwksFile, devMode: false });
    const token = await signEs256(privateKey, 'key-1');
    await expect(
      authenticator.authenticate(request(), url(`?token=${token}`)),
    ).resolves.toMatchObject({
      userId: 'alice',
      method: 'jwt',
    });
  });

  it('rejects a token whose kid is not in the JWKS', async () => {
    const authenticator = await createAuthenticator({ jwtPublicKeyFile: jwksFile, devMode: false });
    const token = await signEs256(privateKey, 'key-2');
    await expectUnauthorized(
      authenticator.authenticate(request(), url(`?token=${token}`)),
      'no configured key matches the token',
    );
  });

  it('rejects a token signed by another key under a JWKS kid', async () => {
    const authenticator = await createAuthenticator({ jwtPublicKeyFile: jwksFile, devMode: false });
    const other = await generateKeyPair('ES256');
    await expectUnauthorized(
      authenticator.authenticate(
        request(),
        url(`?token=${await signEs256(other.privateKey, 'key-1')}`),
      ),
      'token signature invalid',
    );
  });

  it('picks the secret or the key file by the token algorithm when both are configured', async () => {
    const authenticator = await createAuthenticator({
      jwtSecret: SECRET,
      jwtPublicKeyFile: pemFile,
      devMode: false,
    });
    await expect(
      authenticator.authenticate(request(), url(`?token=${await signHs256()}`)),
    ).resolves.toMatchObject({ userId: 'alice', method: 'jwt' });
    await expect(
      authenticator.authenticate(request(), url(`?token=${await signEs256(privateKey)}`)),
    ).resolves.toMatchObject({ userId: 'alice', method: 'jwt' });
  });

  it('names the path when the key file does not exist', async () => {
    const missing = join(directory, 'missing.pem');
    const error = await rejection(
      createAuthenticator({ jwtPublicKeyFile: missing, devMode: false }),
    );
    expect(error.code).toBe('internal_error');
    expect(error.message).toContain(`cannot read the JWT public key file ${missing}`);
  });

  it('refuses a key file that is neither PEM nor JWKS', async () => {
    const garbage = join(directory, 'garbage.txt');
    await writeFile(garbage, 'hello');
    const error = await rejection(
      createAuthenticator({ jwtPublicKeyFile: garbage, devMode: false }),
    );
    expect(error.code).toBe('internal_error');
    expect(error.message).toBe(
      `the JWT public key file ${garbage} is neither a PEM public key nor a JWKS ({"keys": [...]})`,
    );
  });

  it('refuses a JSON key file without a keys array', async () => {
    const notJwks = join(directory, 'not-jwks.json');
    await writeFile(notJwks, '{"kty":"EC"}');
    const error = await rejection(
      createAuthenticator({ jwtPublicKeyFile: notJwks, devMode: false }),
    );
    expect(error.code).toBe('internal_error');
    expect(error.message).toContain(`the JWKS file ${notJwks} is not a key set`);
  });
});

describe('createAuthenticator in development mode', () => {
  it('accepts ?user_id= without a token', async () => {
    const authenticator = await createAuthenticator({ devMode: true });
    await expect(
      authenticator.authenticate(request(), url('?user_id=bob.smith@example-1_x')),
    ).resolves.toMatchObject({ userId: 'bob.smith@example-1_x', method: 'development' });
  });

  it('rejects a request without user_id and says what is expected', async () => {
    const authenticator = await createAuthenticator({ devMode: true });
    await expectUnauthorized(
      authenticator.authenticate(request(), url()),
      'development mode: send ?user_id=<id> (1-64 characters: letters, digits, _ . @ -) or a JWT',
    );
  });

  it.each([['has space'], [''], ['x'.repeat(65)], ['semi;colon']])(
    'rejects the malformed user_id %j',
    async (userId) => {
      const authenticator = await createAuthenticator({ devMode: true });
      await expectUnauthorized(
        authenticator.authenticate(request(), url(`?user_id=${encodeURIComponent(userId)}`)),
        'user_id must be 1-64 characters of letters, digits, _ . @ -',
      );
    },
  );

  it('still verifies a token that is present', async () => {
    const authenticator = await createAuthenticator({ jwtSecret: SECRET, devMode: true });
    const token = await signHs256({ secret: 'some-other-secret-that-is-32-bytes' });
    await expectUnauthorized(
      authenticator.authenticate(request(), url(`?token=${token}&user_id=alice`)),
      'token signature invalid',
    );
  });

  it('takes the user from a valid token rather than from user_id', async () => {
    const authenticator = await createAuthenticator({ jwtSecret: SECRET, devMode: true });
    const token = await signHs256();
    await expect(
      authenticator.authenticate(request(), url(`?token=${token}&user_id=mallory`)),
    ).resolves.toMatchObject({ userId: 'alice', method: 'jwt' });
  });

  it('rejects a token when no key is configured to verify it', async () => {
    const authenticator = await createAuthenticator({ devMode: true });
    await expectUnauthorized(
      authenticator.authenticate(request(), url(`?token=${await signHs256()}&user_id=alice`)),
      'a token was sent but the server has no JWT key to verify it; use ?user_id= in development mode',
    );
  });
});

describe('createAuthenticator configuration', () => {
  it('refuses to start without a key outside development mode', async () => {
    const error = await rejection(createAuthenticator({ devMode: false }));
    expect(error.code).toBe('internal_error');
    expect(error.message).toBe(
      'no JWT key configured and development mode is off: set PARLEY_JWT_SECRET or PARLEY_JWT_PUBLIC_KEY_FILE',
    );
  });

  it('refuses an empty secret', async () => {
    const error = await rejection(createAuthenticator({ jwtSecret: '', devMode: true }));
    expect(error.code).toBe('internal_error');
  });
});

describe('selectSubprotocol', () => {
  it('returns parley.v1 when it is offered', () => {
    expect(selectSubprotocol(new Set(['bearer.abc', 'chat', 'parley.v1']))).toBe('parley.v1');
  });

  it('returns the first offered protocol that is not a bearer token', () => {
    expect(selectSubprotocol(new Set(['bearer.abc', 'chat', 'other']))).toBe('chat');
  });

  it('never echoes a bearer token back', () => {
    expect(selectSubprotocol(new Set(['bearer.abc', 'Bearer.def']))).toBe(false);
  });

  it('returns false when nothing is offered', () => {
    expect(selectSubprotocol(new Set())).toBe(false);
  });
});
