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
