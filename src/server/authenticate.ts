/**
 * Authentication at the HTTP upgrade, before the socket opens: a JWT from the `Authorization`
 * header, a `bearer.<jwt>` subprotocol or `?token=`, or `?user_id=` in development mode.
 */
import type { IncomingMessage } from 'node:http';
import type * as Jose from 'jose';
import { ParleyError } from '../errors.js';
import type { JwtVerifier } from './load-jwt-key.js';

/** Where the server finds the key that verifies client JWTs, and what the claims must say. */
export interface AuthOptions {
  /** HS256 shared secret. */
  jwtSecret?: string;
  /** Path to a PEM public key (SPKI) or a JWKS file (`{"keys": [...]}`); the content says which. */
  jwtPublicKeyFile?: string;
  /** When set, the token's `iss` must equal it. */
  jwtIssuer?: string;
  /** When set, the token's `aud` must contain it. */
  jwtAudience?: string;
  /** Accept `?user_id=` without a token; a token that is present is still verified. */
  devMode: boolean;
}

/** Who opened the connection, and how they proved it. */
export interface AuthenticatedUser {
  /** The JWT `sub` claim, or `?user_id=` in development mode. */
  userId: string;
  method: 'jwt' | 'development' | 'admin_token';
  /** The token's claims (`{}` for a development `?user_id=`): `parley_conversations`, `parley_role`… */
  claims: Readonly<Record<string, unknown>>;
  /** The token's `exp` in epoch seconds; undefined for a development user. */
  expiresAt?: number;
}

/** Checks the credentials of one upgrade request. */
export interface Authenticator {
  /** Resolves with the user, or rejects with an `unauthorized` {@link ParleyError} saying why. */
  authenticate(request: IncomingMessage, url: URL): Promise<AuthenticatedUser>;
  /** Verifies a bare token (an `authenticate` frame's), with the same rules and errors. */
  verifyToken(token: string): Promise<AuthenticatedUser>;
}

const SUBPROTOCOL = 'parley.v1';
const BEARER_PREFIX = 'bearer.';
const HMAC_ALGORITHMS = ['HS256'];
/** Seconds a token is still accepted after its `exp` (clocks drift); its socket closes then. */
export const JWT_CLOCK_TOLERANCE_SECONDS = 5;
const CLOCK_TOLERANCE_SECONDS = JWT_CLOCK_TOLERANCE_SECONDS;
const USER_ID_PATTERN = /^[A-Za-z0-9_.@-]{1,64}$/;
const USER_ID_RULE = 'must be 1-64 characters of letters, digits, _ . @ -';
/** Most entries a `parley_conversations` claim may list. */
const MAX_CLAIMED_CONVERSATIONS = 1_000;
const MISSING_CREDENTIALS =
  'missing credentials: send Authorization: Bearer <jwt>, a bearer.<jwt> subprotocol or ?token=';

type TokenSource = 'authorization_header' | 'subprotocol' | 'query' | 'frame';

/**
 * Builds the authenticator once at startup, reading the key file so a bad path fails the start
 * rather than the first connection.
 *
 * @throws {ParleyError} `internal_error` when no key is configured outside development mode, or
 * the key file is missing, unreadable or neither a PEM public key nor a JWKS.
 *
 * @example
 * const authenticator = await createAuthenticator({ jwtSecret: process.env.PARLEY_JWT_SECRET, devMode: false });
 * const { userId } = await authenticator.authenticate(request, new URL(request.url ?? '/', 'http://localhost'));
 */
export async function createAuthenticator(options: AuthOptions): Promise<Authenticator> {
  if (options.jwtSecret === '') {
    throw new ParleyError(
      'internal_error',
      'the JWT secret is empty: set a non-empty PARLEY_JWT_SECRET',
    );
  }
  const hmac: JwtVerifier | undefined =
    options.jwtSecret === undefined
      ? undefined
      : { key: new TextEncoder().encode(options.jwtSecret), algorithms: HMAC_ALGORITHMS };
  const keyFile = options.jwtPublicKeyFile;
  const asymmetric =
    keyFile === undefined
      ? undefined
      : await import('./load-jwt-key.js').then(({ loadJwtKey }) => loadJwtKey(keyFile));
  if (hmac === undefined && asymmetric === undefined && !options.devMode) {
    throw new ParleyError(
      'internal_error',
      'no JWT key configured and development mode is off: set PARLEY_JWT_SECRET or PARLEY_JWT_PUBLIC_KEY_FILE',
    );
  }
  // jose loads only when there is a key to verify with: a development server without one turns
  // every token down unread, and so carries none of jose's code.
  const jose = hmac === undefined && asymmetric === undefined ? undefined : await import('jose');

  async function verify(token: string, source: TokenSource): Promise<AuthenticatedUser> {
    const verifier = jose === undefined ? undefined : chooseVerifier(jose, token, hmac, asymmetric);
    if (jose === undefined || verifier === undefined) {
      throw new ParleyError(
        'unauthorized',
        'a token was sent but the server has no JWT key to verify it; use ?user_id= in development mode',
        { details: { source } },
      );
    }
    let payload: Jose.JWTPayload;
    try {
      ({ payload } = await jose.jwtVerify(token, verifier.key, {
        algorithms: verifier.algorithms,
        requiredClaims: ['exp', 'sub'],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        ...(options.jwtIssuer === undefined ? {} : { issuer: options.jwtIssuer }),
        ...(options.jwtAudience === undefined ? {} : { audience: options.jwtAudience }),
      }));
    } catch (cause) {
      throw new ParleyError('unauthorized', describeVerificationFailure(cause, jose.errors), {
        cause,
        details: { source },
      });
    }
    // jose checks that `sub` is present but not its type, and the user id keys everything else:
    // it is broadcast to every participant, so it follows the same rule as a development user_id.
    const subject = payload.sub;
    if (typeof subject !== 'string' || !USER_ID_PATTERN.test(subject)) {
      throw new ParleyError('unauthorized', `token sub claim ${USER_ID_RULE}`, {
        details: { source },
      });
    }
    checkAccessClaims(payload, source);
    return {
      userId: subject,
      method: 'jwt',
      claims: payload,
      ...(typeof payload.exp === 'number' ? { expiresAt: payload.exp } : {}),
    };
  }

  return {
    verifyToken: (token) => verify(token, 'frame'),
    async authenticate(request, url) {
      const found = findToken(request, url);
      if (found !== undefined) return verify(found.token, found.source);
      if (!options.devMode) throw new ParleyError('unauthorized', MISSING_CREDENTIALS);
      const userId = url.searchParams.get('user_id');
      if (userId === null) {
        throw new ParleyError(
          'unauthorized',
          'development mode: send ?user_id=<id> (1-64 characters: letters, digits, _ . @ -) or a JWT',
        );
      }
      if (!USER_ID_PATTERN.test(userId)) {
        throw new ParleyError('unauthorized', `user_id ${USER_ID_RULE}`);
      }
      return { userId, method: 'development', claims: {} };
    },
  };
}

/**
 * Picks the subprotocol to answer with: `parley.v1` when offered, else the first offered one
 * that is not a `bearer.<jwt>` credential (echoing it would put the token in the response),
 * else none. Browsers fail a handshake that offered protocols but got none back, so clients
 * sending `bearer.<jwt>` should offer `parley.v1` too.
 *
 * @example
 * new WebSocketServer({ noServer: true, handleProtocols: selectSubprotocol });
 */
export function selectSubprotocol(offered: Set<string>): string | false {
  if (offered.has(SUBPROTOCOL)) return SUBPROTOCOL;
  for (const protocol of offered) {
    if (!protocol.toLowerCase().startsWith(BEARER_PREFIX)) return protocol;
  }
  return false;
}

/** The access claims, when present, must have their documented shape (docs/SECURITY.md). */
function checkAccessClaims(payload: Jose.JWTPayload, source: TokenSource): void {
  const listed = payload.parley_conversations;
  if (
    listed !== undefined &&
    (!Array.isArray(listed) ||
      listed.length > MAX_CLAIMED_CONVERSATIONS ||
      !listed.every((item) => typeof item === 'string' && item.length > 0 && item.length <= 129))
  ) {
    throw new ParleyError(
      'unauthorized',
      `token parley_conversations claim must be a list of at most ${MAX_CLAIMED_CONVERSATIONS} conversation ids or prefix* patterns`,
      { details: { source } },
    );
  }
  const role = payload.parley_role;
  if (role !== undefined && role !== 'admin') {
    throw new ParleyError('unauthorized', 'token parley_role claim must be "admin" when present', {
      details: { source },
    });
  }
}

function findToken(
  request: IncomingMessage,
  url: URL,
): { token: string; source: TokenSource } | undefined {
  const authorization = request.headers.authorization;
  // Other schemes (Basic from a proxy, say) are not ours to judge; an empty Bearer is.
  const bearer = authorization === undefined ? null : /^Bearer(?:\s+(.*))?$/i.exec(authorization);
  if (bearer !== null) return { token: (bearer[1] ?? '').trim(), source: 'authorization_header' };

  const protocols = request.headers['sec-websocket-protocol'];
  if (protocols !== undefined) {
    for (const protocol of protocols.split(',')) {
      const trimmed = protocol.trim();
      if (trimmed.toLowerCase().startsWith(BEARER_PREFIX)) {
        return { token: trimmed.slice(BEARER_PREFIX.length), source: 'subprotocol' };
      }
    }
  }

  const query = url.searchParams.get('token');
  if (query !== null) return { token: query, source: 'query' };
  return undefined;
}

function chooseVerifier(
  jose: typeof Jose,
  token: string,
  hmac: JwtVerifier | undefined,
  asymmetric: JwtVerifier | undefined,
): JwtVerifier | undefined {
  if (hmac === undefined || asymmetric === undefined) return hmac ?? asymmetric;
  // With both keys configured, the header says which one signed; jwtVerify still enforces the
  // algorithm list, so a forged header only picks a key that then fails to verify.
  try {
    return jose.decodeProtectedHeader(token).alg?.startsWith('HS') === true ? hmac : asymmetric;
  } catch {
    // An undecodable header is reported as malformed by jwtVerify, with jose's own cause.
    return asymmetric;
  }
}

function describeVerificationFailure(error: unknown, errors: typeof Jose.errors): string {
  if (error instanceof errors.JWTExpired) {
    return error.claim === 'exp' ? 'token expired' : `token ${error.claim} claim check failed`;
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === 'missing') return `token is missing the ${error.claim} claim`;
    if (error.reason === 'invalid') return `token ${error.claim} claim is not a valid value`;
    if (error.claim === 'iss') return 'token issuer (iss) does not match';
    if (error.claim === 'aud') return 'token audience (aud) does not match';
    if (error.claim === 'nbf') return 'token is not valid yet (nbf)';
    return `token ${error.claim} claim check failed`;
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'token signature invalid';
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) {
    return 'malformed token';
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return 'token algorithm not allowed';
  if (error instanceof errors.JOSENotSupported)
    return 'token algorithm does not fit the configured key';
  if (error instanceof errors.JWKSNoMatchingKey) return 'no configured key matches the token';
  if (error instanceof errors.JWKSMultipleMatchingKeys) {
    return 'several configured keys match the token: it needs a kid header';
  }
  // jose reports a key that cannot do the token's algorithm as a plain TypeError.
  return 'token could not be verified with the configured key';
}
