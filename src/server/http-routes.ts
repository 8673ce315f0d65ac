/**
 * Over 300 lines because every HTTP route is in one table here.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ParleyError, toParleyError } from '../errors.js';
import type { EventStore } from '../event-log/event-store.js';
import { readHistoryPage } from '../engine/replies.js';
import { conversationIdSchema, MAX_HISTORY_PAGE } from '../protocol/frames.js';
import type { ParleyConfig } from '../config.js';
import type { Engine } from '../engine.js';
import type { Access } from './access.js';
import type { AuthenticatedUser, Authenticator } from './authenticate.js';
import {
  changeMember,
  createConversation,
  deleteConversation,
  readConversation,
} from './conversation-routes.js';
import { authorizeAdmin, authorizeInspector } from './inspector-access.js';
import type { ReadinessReport } from './readiness.js';
import type { UserLimits } from './user-limits.js';
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
  access: Access;
  engine: Engine;
  userLimits: UserLimits;
  config: ParleyConfig;
  /**
   * Cluster mode: the conversation API's writes, made by each conversation's owner (the engine
   * of this instance writes only the conversations it owns).
   */
  conversationWrites?: Pick<Engine, 'changeMembership' | 'deleteConversation'>;
  /** Cluster mode: owned and followed conversations with their owners (`/inspector/cluster`). */
  clusterStatus?: () => object;
}

const CONVERSATION_PATH = /^\/api\/conversations\/([^/]+)$/;
const MEMBER_PATH = /^\/api\/conversations\/([^/]+)\/members\/([^/]+)$/;
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
  const method = request.method ?? 'GET';
  try {
    if (path.startsWith('/api/conversations')) {
      await conversationApi(request, response, context, url, method);
    } else if (method !== 'GET' && method !== 'HEAD') {
      throw new ParleyError(
        'method_not_allowed',
        `Only GET and HEAD are supported here, not ${method}.`,
      );
    } else if (path === '/') {
      sendText(response, HTML, await readPageFile('chat', 'index.html'));
    } else if (path === '/inspector' || path.startsWith('/inspector/')) {
      if (!context.config.inspector) {
        throw new ParleyError('not_found', 'The inspector is off (set PARLEY_INSPECTOR=1).');
      }
      if (path === '/inspector')
        sendText(response, HTML, await readPageFile('inspector', 'index.html'));
      else if (path === '/inspector/cluster') {
        if (!context.config.devMode && !isInspectorAdmin(context.config, request, url)) {
          throw new ParleyError('unauthorized', 'The cluster view needs the inspector token.');
        }
        if (context.clusterStatus === undefined) {
          throw new ParleyError('not_found', 'Cluster mode is off (set PARLEY_REDIS_URL).');
        }
        sendJson(response, 200, context.clusterStatus());
      } else if (path === '/inspector/elk.js') sendText(response, ASSET_TYPES.js, readElkBundle());
      else await sendAsset(response, path);
    } else if (path.startsWith('/chat/')) {
      await sendAsset(response, path);
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
      await authorizeOperator(context, request, url);
      sendText(response, METRICS_TYPE, await context.metrics());
    } else {
      throw new ParleyError('not_found', `No route for ${path}.`);
    }
  } catch (error) {
    const failure = toParleyError(error);
    sendJson(response, failure.httpStatus, {
      code: failure.code,
      message: failure.message,
      ...(failure.issues === undefined ? {} : { issues: failure.issues }),
    });
  }
}

/** The log and conversation API under `/api/conversations`; every request needs credentials. */
async function conversationApi(
  request: IncomingMessage,
  response: ServerResponse,
  context: RouteContext,
  url: URL,
  method: string,
): Promise<void> {
  const path = url.pathname;
  const allow = (...methods: string[]) => {
    if (!methods.includes(method)) {
      throw new ParleyError(
        'method_not_allowed',
        `${path} takes ${methods.join(', ')}, not ${method}.`,
      );
    }
  };
  // The inspector's "Export recording" link (and an operator's tooling) may carry the admin
  // token instead of chat credentials: it acts as an admin.
  const user: AuthenticatedUser = isInspectorAdmin(context.config, request, url)
    ? { userId: 'admin', method: 'admin_token', claims: { parley_role: 'admin' } }
    : await context.authenticator.authenticate(request, url);
  const { engine } = context;
  const routes = {
    engine: {
      conversationInfo: (id: string) => engine.conversationInfo(id),
      ...(context.conversationWrites ?? {
        changeMembership: engine.changeMembership.bind(engine),
        deleteConversation: engine.deleteConversation.bind(engine),
      }),
    },
    store: context.store,
    access: context.access,
    userLimits: context.userLimits,
  };
  if (path === '/api/conversations') {
    allow('GET', 'HEAD', 'POST');
    if (method === 'POST') {
      sendJson(response, 201, await createConversation(request, user, routes));
      return;
    }
    const limit = integer(url, 'limit', 1, 1000) ?? 100;
    sendJson(response, 200, { conversations: await listConversations(context, user, limit) });
    return;
  }
  const member = MEMBER_PATH.exec(path);
  if (member !== null) {
    allow('PUT', 'DELETE');
    const conversationId = parseConversationId(member[1] ?? '');
    const memberId = decodeSegment(member[2] ?? '');
    const verb = method === 'PUT' ? 'PUT' : 'DELETE';
    sendJson(
      response,
      200,
      await changeMember(conversationId, memberId, verb, request, user, routes),
    );
    return;
  }
  const conversation = CONVERSATION_PATH.exec(path);
  if (conversation !== null) {
    allow('GET', 'HEAD', 'DELETE');
    const conversationId = parseConversationId(conversation[1] ?? '');
    sendJson(
      response,
      200,
      method === 'DELETE'
        ? await deleteConversation(conversationId, user, routes)
        : await readConversation(conversationId, user, routes),
    );
    return;
  }
  allow('GET', 'HEAD');
  const exported = EXPORT_PATH.exec(path);
  if (exported !== null) {
    const conversationId = parseConversationId(exported[1] ?? '');
    await context.access.require(user, conversationId, 'read');
    await context.durable();
    // Loaded on the first export: a server that never exports does not carry the replay code.
    const { exportConversation } = await import('../replay/export-conversation.js');
    const text = await exportConversation(context.store, conversationId);
    if (text === '') throw new ParleyError('not_found', `No conversation ${conversationId}.`);
    response.writeHead(200, {
      'content-type': 'application/x-ndjson',
      'content-disposition': `attachment; filename="${conversationId.replace(/[^A-Za-z0-9_.-]/g, '_')}.jsonl"`,
    });
    response.end(text);
    return;
  }
  const events = EVENTS_PATH.exec(path);
  if (events !== null) {
    const conversationId = parseConversationId(events[1] ?? '');
    await context.access.require(user, conversationId, 'read');
    const after = integer(url, 'after', 0, Number.MAX_SAFE_INTEGER);
    const before = integer(url, 'before', 1, Number.MAX_SAFE_INTEGER);
    const limit = integer(url, 'limit', 1, MAX_HISTORY_PAGE) ?? 100;
    await context.durable();
    const page = await readHistoryPage(context.store, conversationId, { after, before, limit });
    const last = await context.store.lastPosition(conversationId);
    sendJson(response, 200, { conversation_id: conversationId, last_seq: last?.seq ?? 0, ...page });
    return;
  }
  throw new ParleyError('not_found', `No route for ${path}.`);
}

/** Conversations scanned, newest first, to find the ones a caller may read. */
const LIST_SCAN = 10_000;

/** The conversations the caller may read, newest first (every one for an admin or in `open` mode). */
async function listConversations(context: RouteContext, user: AuthenticatedUser, limit: number) {
  const all = await context.store.listConversations({
    limit: context.access.mode === 'open' ? limit : LIST_SCAN,
  });
  const readable = [];
  for (const summary of all) {
    if (readable.length >= limit) break;
    const info = await context.engine.conversationInfo(summary.conversation_id);
    if (info !== undefined && (await context.access.mayRead(user, info))) readable.push(summary);
  }
  return readable;
}

/**
 * The operator's endpoints (`/metrics`) answer the admin token (see {@link authorizeAdmin}) or a
 * chat credential whose JWT says `parley_role: "admin"`; the admin token's refusal otherwise.
 */
async function authorizeOperator(
  context: RouteContext,
  request: IncomingMessage,
  url: URL,
): Promise<void> {
  try {
    authorizeAdmin(context.config, request, url);
  } catch (refusal) {
    const user = await context.authenticator.authenticate(request, url).catch(() => undefined);
    if (user?.claims.parley_role !== 'admin') throw refusal;
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

function decodeSegment(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

function parseConversationId(raw: string): string {
  const decoded = decodeSegment(raw);
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
