/**
 * The inspector's WebSocket to `/ws/inspect`: connects (with `?token=` when an admin token is
 * set), parses messages, and reconnects with a growing delay when the socket drops.
 */

const MAX_RETRY_MS = 10_000;

/** The socket to the engine's inspector endpoint. */
export class InspectorConnection {
  /**
   * @param {{ onMessage: (message: object) => void, onStatus: (status: string, detail: string) => void, onOpen: () => void }} handlers
   */
  constructor(handlers) {
    this.handlers = handlers;
    this.socket = null;
    this.token = '';
    this.retryMs = 500;
    this.retryTimer = undefined;
    this.everOpened = false;
  }

  /** (Re)connects with the given admin token ('' for none). */
  connect(token) {
    this.token = token;
    clearTimeout(this.retryTimer);
    if (this.socket) {
      this.socket.onclose = null;
      this.socket.close();
    }
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const query = token === '' ? '' : `?token=${encodeURIComponent(token)}`;
    this.handlers.onStatus('connecting', 'connecting…');
    const socket = new WebSocket(`${scheme}//${location.host}/ws/inspect${query}`);
    this.socket = socket;
    socket.onopen = () => {
      this.retryMs = 500;
      this.everOpened = true;
      this.handlers.onStatus('connected', 'connected');
      this.handlers.onOpen();
    };
    socket.onmessage = (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        this.handlers.onStatus('error', 'received a message that is not JSON');
        return;
      }
      this.handlers.onMessage(message);
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      const seconds = Math.round(this.retryMs / 100) / 10;
      const why =
        event.code === 1006 && !this.everOpened
          ? 'refused (is an admin token needed?)'
          : `closed ${event.code}${event.reason ? ` ${event.reason}` : ''}`;
      this.handlers.onStatus('disconnected', `${why}; retrying in ${seconds} s`);
      this.retryTimer = setTimeout(() => this.connect(this.token), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
    };
  }

  /** Whether requests can be sent now. */
  get open() {
    return this.socket !== null && this.socket.readyState === WebSocket.OPEN;
  }

  /** Sends one request; returns false when the socket is not open. */
  send(request) {
    if (!this.open) return false;
    this.socket.send(JSON.stringify(request));
    return true;
  }
}
