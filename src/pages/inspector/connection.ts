/**
 * The inspector's WebSocket to `/ws/inspect`: connects (with `?token=` when an admin token is
 * set), parses messages, and reconnects with a growing delay when the socket drops.
 */
import type {
  InspectorMessage,
  InspectorRequestInput,
} from '../../inspector/inspector-protocol.js';

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 10_000;

/** The connection's state, as the header's status pill shows it. */
export type ConnectionState = 'connecting' | 'connected' | 'disconnected' | 'error';

/** What the page hears from the connection. */
export interface ConnectionHandlers {
  onMessage: (message: InspectorMessage) => void;
  onStatus: (state: ConnectionState, detail: string) => void;
  onOpen: () => void;
}

/** The socket to the engine's inspector endpoint. */
export class InspectorConnection {
  private socket: WebSocket | null = null;
  private token = '';
  private retryMs = FIRST_RETRY_MS;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private everOpened = false;

  constructor(private readonly handlers: ConnectionHandlers) {}

  /** (Re)connects with the given admin token ('' for none). */
  connect(token: string): void {
    this.token = token;
    clearTimeout(this.retryTimer);
    if (this.socket !== null) {
      const previous = this.socket;
      this.socket = null;
      previous.close();
    }
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const query = token === '' ? '' : `?token=${encodeURIComponent(token)}`;
    this.handlers.onStatus('connecting', 'connecting…');
    const socket = new WebSocket(`${scheme}//${location.host}/ws/inspect${query}`);
    this.socket = socket;
    socket.addEventListener('open', () => {
      this.retryMs = FIRST_RETRY_MS;
      this.everOpened = true;
      this.handlers.onStatus('connected', 'connected');
      this.handlers.onOpen();
    });
    socket.addEventListener('message', (event: MessageEvent<unknown>) => {
      let message: InspectorMessage;
      try {
        message = JSON.parse(String(event.data)) as InspectorMessage;
      } catch {
        this.handlers.onStatus('error', 'received a message that is not JSON');
        return;
      }
      this.handlers.onMessage(message);
    });
    socket.addEventListener('close', (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      const seconds = Math.round(this.retryMs / 100) / 10;
      const why =
        event.code === 1006 && !this.everOpened
          ? 'refused (is an admin token needed?)'
          : `closed ${String(event.code)}${event.reason === '' ? '' : ` ${event.reason}`}`;
      this.handlers.onStatus('disconnected', `${why}; retrying in ${String(seconds)} s`);
      this.retryTimer = setTimeout(() => {
        this.connect(this.token);
      }, this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
    });
  }

  /** Whether requests can be sent now. */
  get open(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  /** Sends one request; returns false when the socket is not open. */
  send(request: InspectorRequestInput): boolean {
    if (this.socket === null || !this.open) return false;
    this.socket.send(JSON.stringify(request));
    return true;
  }
}
