/**
 * Who may use the inspector and the operator's endpoints (`/metrics`), and where the inspector
 * listens. Kept apart from the endpoint so that the
 * server and the HTTP routes can check access without loading the inspector itself (its
 * timeline builder, replay and protocol schemas), which a server with the inspector off never
 * needs.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { ParleyConfig } from '../config.js';
import { ParleyError } from '../errors.js';
import type { Authenticator } from './authenticate.js';

/** The inspector's WebSocket path. */
export const INSPECTOR_PATH = '/ws/inspect';

/**
 * Checks whether a request may use the inspector: it must be on, and when an admin token is
 * configured the request must carry it (`?token=` or `Authorization: Bearer`).
 *
 * @throws {ParleyError} `not_found` when the inspector is off, `unauthorized` when the admin
 * token is missing or wrong.
 *
 * @example
 * authorizeInspector(config, request, new URL(request.url ?? '/', 'http://localhost'));
 */
export function authorizeInspector(config: ParleyConfig, request: IncomingMessage, url: URL): void {
  if (!config.inspector) {
    throw new ParleyError('not_found', 'The inspector is off (set PARLEY_INSPECTOR=1).');
  }
  const expected = config.inspectorToken;
  if (expected === undefined) return;
  if (!hasAdminToken(expected, request, url)) {
    throw new ParleyError(
      'unauthorized',
      'The inspector needs the admin token (PARLEY_INSPECTOR_TOKEN).',
    );
  }
}

/**
 * Checks whether a request may read the operator's endpoints (`/metrics`): with an admin token
 * configured it must carry it (`Authorization: Bearer` or `?token=`); without one, only a server
 * in development mode answers.
 *
 * @throws {ParleyError} `unauthorized` when the token is missing or wrong, or when none is
 * configured outside development mode.
 *
 * @example
 * authorizeAdmin(config, request, new URL(request.url ?? '/', 'http://localhost'));
 */
export function authorizeAdmin(config: ParleyConfig, request: IncomingMessage, url: URL): void {
  const expected = config.inspectorToken;
  if (expected === undefined) {
    if (config.devMode) return;
    throw new ParleyError(
      'unauthorized',
      'This endpoint needs the admin token: set PARLEY_INSPECTOR_TOKEN and send it as Authorization: Bearer.',
    );
  }
  if (!hasAdminToken(expected, request, url)) {
    throw new ParleyError(
      'unauthorized',
      'This endpoint needs the admin token (PARLEY_INSPECTOR_TOKEN).',
    );
  }
}

/** Whether the request carries the admin token, compared in constant time. */
function hasAdminToken(expected: string, request: IncomingMessage, url: URL): boolean {
  const header = request.headers.authorization;
  const given =
    (header?.toLowerCase().startsWith('bearer ') === true ? header.slice(7).trim() : undefined) ??
    url.searchParams.get('token') ??
    '';
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Loopback origins: `http(s)://localhost`, `127.x.x.x` or `[::1]`, any port. */
const LOOPBACK_ORIGIN = /^https?:\/\/(localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d{1,5})?$/i;

/**
 * Whether a browser origin may open the inspector: one in `PARLEY_ALLOWED_ORIGINS` when it is
 * set (in every mode); without it, in development mode, only a loopback origin, since a page on
 * any other origin could otherwise read every conversation through a developer's browser. A
 * request without `Origin` (not a browser) is not affected.
 *
 * @example
 * inspectorOriginAllowed(config, 'http://localhost:5173') // true in development mode
 */
export function inspectorOriginAllowed(config: ParleyConfig, origin: string | undefined): boolean {
  if (origin === undefined) return true;
  if (config.allowedOrigins !== undefined) return config.allowedOrigins.includes(origin);
  return !config.devMode || LOOPBACK_ORIGIN.test(origin);
}

/**
 * The inspector's full check at its WebSocket upgrade: on, an allowed origin
 * ({@link inspectorOriginAllowed}), and, when an admin token is configured (always outside
 * development mode), that token or a JWT with `parley_role: "admin"`.
 *
 * @throws {ParleyError} `not_found` (off), `origin_not_allowed` (403), `unauthorized` (401).
 */
export async function admitInspector(
  config: ParleyConfig,
  request: IncomingMessage,
  url: URL,
  authenticator: Authenticator,
): Promise<void> {
  if (!config.inspector) {
    throw new ParleyError('not_found', 'The inspector is off (set PARLEY_INSPECTOR=1).');
  }
  const origin = request.headers.origin;
  if (!inspectorOriginAllowed(config, origin)) {
    throw new ParleyError(
      'origin_not_allowed',
      `Origin ${String(origin)} may not open the inspector${config.allowedOrigins === undefined ? ' (development mode without PARLEY_ALLOWED_ORIGINS accepts loopback origins only)' : ''}.`,
    );
  }
  try {
    authorizeInspector(config, request, url);
    return;
  } catch (tokenError) {
    // Not the admin token: an admin JWT (Authorization header, bearer subprotocol, ?token=) will do.
    let user;
    try {
      user = await authenticator.authenticate(request, url);
    } catch {
      throw tokenError;
    }
    if (user.claims.parley_role !== 'admin') {
      throw new ParleyError(
        'unauthorized',
        'The inspector needs the admin token (PARLEY_INSPECTOR_TOKEN) or a JWT with parley_role "admin".',
      );
    }
  }
}
