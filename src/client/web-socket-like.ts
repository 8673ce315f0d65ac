/**
 * What the client needs from a WebSocket implementation, and how it finds one.
 */

/** The part of the WHATWG `WebSocket` the client uses; browsers, Node 22+ and `ws` all have it. */
export interface WebSocketLike {
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open', listener: () => void): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(
    type: 'close',
    listener: (event: { code: number; reason: string }) => void,
  ): void;
  addEventListener(type: 'error', listener: (event: unknown) => void): void;
}

/** A `WebSocket` constructor: the global one, `ws`'s, or any look-alike (tests use fakes). */
export type WebSocketConstructor = new (
  url: string,
  protocols?: string | string[],
) => WebSocketLike;

/** `readyState` values, as in the WHATWG spec (not read from the class: look-alikes may lack them). */
export const READY_STATE = { connecting: 0, open: 1, closing: 2, closed: 3 } as const;

/**
 * The global `WebSocket` (browsers, Deno, Bun, Node 22+), else the `ws` package.
 *
 * `ws` is imported dynamically so a browser bundle never has to include it.
 */
export async function defaultWebSocket(): Promise<WebSocketConstructor> {
  const global = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (global !== undefined) return global;
  const { WebSocket } = await import('ws');
  return WebSocket;
}

/** The subprotocol of protocol version 1; see docs/WEBSOCKET_API.md#versioning. */
export const SUBPROTOCOL = 'parley.v1';

/**
 * The subprotocols to offer: always `parley.v1`, plus `bearer.<jwt>` when there is a token.
 *
 * The subprotocol is the one token transport that works in browsers (which cannot set headers)
 * and stays out of proxy and access logs (unlike `?token=`); the server never echoes it back.
 */
export function subprotocols(token: string | undefined): string[] {
  return token === undefined || token === '' ? [SUBPROTOCOL] : [SUBPROTOCOL, `bearer.${token}`];
}

/**
 * The chat URL for a conversation: `ws(s)://host[/prefix]/ws/chat/<id>?user_id=…&since=…`.
 *
 * @example
 * chatUrl('http://127.0.0.1:8080', 'demo', { user_id: 'alice' });
 * // 'ws://127.0.0.1:8080/ws/chat/demo?user_id=alice'
 */
export function chatUrl(
  base: string,
  conversationId: string,
  query: Record<string, string | number | undefined>,
): string {
  const url = new URL(base);
  const schemes: Record<string, string> = {
    'http:': 'ws:',
    'https:': 'wss:',
    'ws:': 'ws:',
    'wss:': 'wss:',
  };
  const scheme = schemes[url.protocol];
  if (scheme === undefined) {
    throw new TypeError(`Expected an http(s):// or ws(s):// URL, got ${url.protocol}//…`);
  }
  url.protocol = scheme;
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/ws/chat/${encodeURIComponent(conversationId)}`;
  url.hash = '';
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined) url.searchParams.set(name, String(value));
  }
  return url.toString();
}
