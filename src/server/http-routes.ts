import type { IncomingMessage, ServerResponse } from 'node:http';
import { ParleyError, toParleyError } from '../errors.js';
import type { EventStore } from '../event-log/event-store.js';
import { readHistoryPage } from '../engine/replies.js';
import { conversationIdSchema, MAX_HISTORY_PAGE } from '../protocol/frames.js';
import type { ParleyConfig } from '../config.js';
import type { Authenticator } from './authenticate.js';
import { authorizeAdmin, authorizeInspector } from './inspector-access.js';
import type { ReadinessReport } from './readiness.js';
import { readElkBundle, readPageFile } from './static-files.js';

/** What the HTTP routes need. */
export interface RouteContext {
  /** `/health`: the process and the engine's counters. */
  health: () => Promise<object>;
  /** `/health/ws`: the WebSocket side (connections, the cap, whether upgrades are taken). */
  websocketHealth: () => Promise<{ accepting_connections: boolean } & object>;
  /** `/health/ready`: every readiness check. */
  ready: () => Promise<ReadinessReport>;
  /** `/metrics`: the Prometheus text. */
  metrics: () => Promise<string>;
  shuttingDown: () => boolean;
  store: EventStore;
  /** Waits until everything appended is readable from the store. */
  durable: () => Promise<void>;
  authenticator: Authenticator;
  config: ParleyConfig;
}

const EVENTS_PATH = /^\/api\/conversations\/([^/]+)\/events$/;
const EXPORT_PATH = /^\/api\/conversations\/([^/]+)\/export$/;
/** A page's bundled script or stylesheet: `/chat/chat.js`, `/inspector/inspector.css`. */
const PAGE_ASSET = /^\/(chat|inspector)\/([a-z0-9-]+\.(js|css))$/;
const ASSET_TYPES = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };
const HTML = 'text/html; charset=utf-8';
/** The Prometheus text exposition format, version 0.0.4 (prom-client's `contentType`). */
const METRICS_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * Whether a path is one of Parley's HTTP routes (the chat page at `/` only when it is served).
 *
 * @example
 * isParleyPath('/health', { chatPage: false }) // true
 */
export function isParleyPath(path: string, { chatPage }: { chatPage: boolean }): boolean {
  return (
    (chatPage && (path === '/' || path.startsWith('/chat/'))) ||
    path === '/health' ||
    path.startsWith('/health/') ||
    path === '/metrics' ||
    path === '/inspector' ||
    path.startsWith('/inspector/') ||
    path === '/api/conversations' ||
    path.startsWith('/api/conversations/')
  );
}

/**
 * Serves the HTTP side: the chat page (`/`, its script and stylesheet under `/chat/`), the
 * inspector page (`/inspector`, its files and elkjs under `/inspector/`), health (`/health`,
 * `/health/ws`, and the probes `/health/live`, `/health/ready`), Prometheus metrics (`/metrics`,
 * with the admin token outside development mode), and the log API (`/api/conversations`,
 * `/api/conversations/{id}/events?after=&before=&limit=`, `/api/conversations/{id}/export`),
 * which needs the same credentials as the WebSocket.
 *
 * @example
 * createServer((request, response) => void route(request, response, context));
 */
export async function route(
  request: IncomingMessage,
  response: ServerResponse,
  context: RouteContext,
): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const path = url.pathname;
  try {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      throw new ParleyError(
        'method_not_allowed',
        `Only GET and HEAD are supported, not ${String(request.method)}.`,
      );
    } else if (path === '/') {
      sendText(response, HTML, await readPageFile('chat', 'index.html'));
    } else if (path === '/inspector' || path.startsWith('/inspector/')) {
      if (!context.config.inspector) {
        throw new ParleyError('not_found', 'The inspector is off (set PARLEY_INSPECTOR=1).');
      }
      if (path === '/inspector')
        sendText(response, HTML, await readPageFile('inspector', 'index.html'));
      else if (path === '/inspector/elk.js') sendText(response, ASSET_TYPES.js, readElkBundle());
      else await sendAsset(response, path);
    } else if (path.startsWith('/chat/')) {
      await sendAsset(response, path);
    } else if (EXPORT_PATH.test(path)) {
      // The inspector's "Export recording" link may carry the admin token instead of chat
      // credentials; anything else goes through the usual authentication.
      if (!isInspectorAdmin(context.config, request, url)) {
        await context.authenticator.authenticate(request, url);
      }
      const conversationId = parseConversationId(EXPORT_PATH.exec(path)?.[1] ?? '');
      await context.durable();
      // Loaded on the first export: a server that never exports does not carry the replay code.
      const { exportConversation } = await import('../replay/export-conversation.js');
      const text = await exportConversation(context.store, conversationId);
      if (text === '')
        throw new ParleyError('not_found', `No log for conversation ${conversationId}.`);
      response.writeHead(200, {
        'content-type': 'application/x-ndjson',
        'content-disposition': `attachment; filename="${conversationId.replace(/[^A-Za-z0-9_.-]/g, '_')}.jsonl"`,
      });
      response.end(text);
    } else if (path === '/health') {
      sendJson(response, context.shuttingDown() ? 503 : 200, await context.health());
    } else if (path === '/health/ws') {
      const body = await context.websocketHealth();
      sendJson(response, body.accepting_connections ? 200 : 503, body);
    } else if (path === '/health/live') {
      // The process answers: a liveness probe must not fail while the server drains or its
      // store is down, or the orchestrator would kill a process that is finishing its work.
      sendJson(response, 200, { status: 'live' });
    } else if (path === '/health/ready') {
      const report = await context.ready();
      sendJson(response, report.status === 'ready' ? 200 : 503, report);
    } else if (path === '/metrics') {
      authorizeAdmin(context.config, request, url);
      sendText(response, METRICS_TYPE, await context.metrics());
    } else if (path === '/api/conversations') {
      await context.authenticator.authenticate(request, url);
      const limit = integer(url, 'limit', 1, 1000) ?? 100;
      sendJson(response, 200, { conversations: await context.store.listConversations({ limit }) });
    } else if (EVENTS_PATH.test(path)) {
      await context.authenticator.authenticate(request, url);
      const conversationId = parseConversationId(EVENTS_PATH.exec(path)?.[1] ?? '');
      const after = integer(url, 'after', 0, Number.MAX_SAFE_INTEGER);
      const before = integer(url, 'before', 1, Number.MAX_SAFE_INTEGER);
      const limit = integer(url, 'limit', 1, MAX_HISTORY_PAGE) ?? 100;
      await context.durable();
      const page = await readHistoryPage(context.store, conversationId, { after, before, limit });
      const last = await context.store.lastPosition(conversationId);
      sendJson(response, 200, {
        conversation_id: conversationId,
        last_seq: last?.seq ?? 0,
        ...page,
      });
    } else {
      throw new ParleyError('not_found', `No route for ${path}.`);
    }
  } catch (error) {
    const failure = toParleyError(error);
    sendJson(response, failure.httpStatus, { code: failure.code, message: failure.message });
  }
}

function isInspectorAdmin(config: ParleyConfig, request: IncomingMessage, url: URL): boolean {
  if (config.inspectorToken === undefined) return false;
  try {
    authorizeInspector(config, request, url);
    return true;
  } catch {
    return false;
  }
}

function integer(url: URL, name: string, min: number, max: number): number | undefined {
  const raw = url.searchParams.get(name);
  if (raw === null) return undefined;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw new ParleyError(
      'invalid_frame',
      `Invalid ${name}=${JSON.stringify(raw)}: expected a whole number from ${min} to ${max}.`,
    );
  }
  return value;
}

function parseConversationId(raw: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    decoded = raw;
  }
  if (!conversationIdSchema.safeParse(decoded).success) {
    throw new ParleyError(
      'invalid_conversation_id',
      `Invalid conversation id ${JSON.stringify(decoded)}: expected 1-128 characters of A-Z a-z 0-9 _ - . :`,
    );
  }
  return decoded;
}

async function sendAsset(response: ServerResponse, path: string): Promise<void> {
  const [, page, name, extension] = PAGE_ASSET.exec(path) ?? [];
  if (page === undefined || name === undefined || extension === undefined) {
    throw new ParleyError('not_found', `No route for ${path}.`);
  }
  const body = await readPageFile(page as 'chat' | 'inspector', name);
  sendText(response, ASSET_TYPES[extension as 'js' | 'css'], body);
}

function sendText(response: ServerResponse, type: string, body: string | undefined): void {
  if (body === undefined) throw new ParleyError('not_found', 'No such file.');
  response.writeHead(200, { 'content-type': type, 'cache-control': 'no-cache' });
  response.end(body);
}

function sendJson(response: ServerResponse, status: number, body: object): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}
