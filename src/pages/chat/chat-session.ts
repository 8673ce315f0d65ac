/**
 * The page's connection to its conversation, through the package's own client
 * (`parley-engine/client`): joining on load, retrying with backoff while the server cannot be
 * reached, telling a refused sign-in from a network failure, following the client's reconnects
 * and resumes, and fetching the conversation's past a page at a time.
 */
import {
  backoffDelay,
  connect,
  ParleyClientError,
  type ConversationEventFrame,
  type ParleyClient,
  type ParleyClientStatus,
  type ServerFrame,
  type WelcomeFrame,
} from 'parley-engine/client';
import { DIRECT_FRAME_TYPES, serverFrameSchema } from 'parley-engine/protocol';
import { storedToken, type ChatSettings } from './chat-settings.js';

/** Events per history page: enough for a few turns of streamed chunks. */
const HISTORY_PAGE = 200;
const RETRY = { initialDelayMs: 1000, maxDelayMs: 15_000 };

/**
 * What the page shows of the connection: `connecting` (first join), `connected`, `reconnecting`
 * (the client resumes by itself), `offline` (retrying, or given up), `signin` (the server wants a
 * valid token).
 */
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'offline' | 'signin';

/** What the page hears from the session. */
export interface SessionEvents {
  onState: (state: ConnectionState, detail: string) => void;
  /** A `welcome`: on joining, and again after each reconnection (with `resumed_from`). */
  onWelcome: (welcome: WelcomeFrame, rejoined: boolean) => void;
  /** A live conversation event. */
  onEvent: (frame: ConversationEventFrame) => void;
  /** A page of past events, oldest first, older than anything shown. */
  onHistory: (frames: ConversationEventFrame[], hasMore: boolean) => void;
  /** Something the reader should know (an `error` frame, a failed request). */
  onNotice: (text: string, tone: 'info' | 'error') => void;
}

function isEvent(frame: ServerFrame): frame is ConversationEventFrame {
  return !(DIRECT_FRAME_TYPES as readonly string[]).includes(frame.type);
}

/** One conversation's connection, for the life of the page. */
export class ChatSession {
  private client: ParleyClient | undefined;
  private joinedWith: WelcomeFrame | undefined;
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private loadingOlder = false;
  /** Whether older history remains to be fetched. */
  hasMore = true;

  constructor(
    private readonly settings: ChatSettings,
    private readonly events: SessionEvents,
  ) {}

  /** Joins the conversation; on failure, says why and retries unless sign-in is the problem. */
  async start(): Promise<void> {
    clearTimeout(this.retryTimer);
    this.events.onState('connecting', `joining ${this.settings.conversationId}…`);
    let client: ParleyClient;
    try {
      client = await connect({
        url: location.origin,
        conversationId: this.settings.conversationId,
        userId: this.settings.userId,
        ...(this.settings.agent === undefined ? {} : { agent: this.settings.agent }),
        // Read at every (re)connection: a token entered since is used at once.
        token: storedToken,
      });
    } catch (error) {
      await this.failed(error);
      return;
    }
    this.attempt = 0;
    this.client = client;
    this.joinedWith = client.welcome;
    client.onStatus((status, error) => {
      this.statusChanged(status, error);
    });
    client.subscribe((frame) => {
      this.received(frame);
    });
    this.events.onWelcome(client.welcome, false);
    this.events.onState('connected', `joined at seq ${String(client.welcome.seq)}`);
    await this.loadOlder(client.welcome.seq + 1);
  }

  /** Fetches the page of history before `before` (exclusive), unless one is on its way. */
  async loadOlder(before: number): Promise<void> {
    const client = this.client;
    if (this.loadingOlder || !this.hasMore || client?.status !== 'open') return;
    if (before <= 1) {
      this.hasMore = false;
      this.events.onHistory([], false);
      return;
    }
    this.loadingOlder = true;
    try {
      const page = await client.history({ before, limit: HISTORY_PAGE });
      const frames = page.frames.flatMap((raw) => {
        const parsed = serverFrameSchema.safeParse(raw);
        return parsed.success && isEvent(parsed.data) ? [parsed.data] : [];
      });
      this.hasMore = page.has_more;
      this.events.onHistory(frames, page.has_more);
    } catch (error) {
      this.events.onNotice(`Could not load earlier messages: ${describe(error)}`, 'error');
    } finally {
      this.loadingOlder = false;
    }
  }

  /** Sends a message; false when not connected. */
  send(content: string): boolean {
    return this.attemptSend((client) => {
      client.sendMessage(content);
    });
  }

  /** Cancels the running turn. */
  cancel(): void {
    this.attemptSend((client) => {
      client.cancel();
    });
  }

  /**
   * Answers a tool call that waits for approval; true once answered or refused by the server
   * (its `error` frame is shown as a notice already), false when it could not be sent.
   */
  async answerApproval(
    toolCallId: string,
    decision: 'approve' | 'deny',
    reason: string | undefined,
  ): Promise<boolean> {
    const client = this.client;
    if (client?.status !== 'open') {
      this.events.onNotice('Not connected: your answer was not sent.', 'error');
      return false;
    }
    try {
      await client.answerApproval(toolCallId, decision, reason === undefined ? {} : { reason });
      return true;
    } catch (error) {
      const refused =
        error instanceof ParleyClientError &&
        error.code === 'request_failed' &&
        error.details?.code !== undefined;
      if (!refused) this.events.onNotice(`Your answer failed: ${describe(error)}`, 'error');
      return refused;
    }
  }

  /** Tells the others this page's user is (or stopped) typing. */
  typing(isTyping: boolean): void {
    this.attemptSend((client) => {
      client.send({ type: 'typing_indicator', is_typing: isTyping });
    });
  }

  private attemptSend(act: (client: ParleyClient) => void): boolean {
    if (this.client?.status !== 'open') return false;
    try {
      act(this.client);
      return true;
    } catch (error) {
      this.events.onNotice(describe(error), 'error');
      return false;
    }
  }

  private received(frame: ServerFrame): void {
    if (frame.type === 'welcome') {
      // The joining welcome was handled in start(); a later one is a reconnection.
      if (frame !== this.joinedWith) this.rejoined(frame);
    } else if (frame.type === 'error') {
      const why = frame.in_reply_to === undefined ? '' : ` (${frame.in_reply_to})`;
      this.events.onNotice(`${frame.message}${why}`, 'error');
    } else if (isEvent(frame)) {
      this.events.onEvent(frame);
    }
    // `pong` needs nothing; a `history` answer goes to the request that asked for it.
  }

  private rejoined(welcome: WelcomeFrame): void {
    this.events.onWelcome(welcome, true);
    const from = welcome.resumed_from;
    const missed = from === undefined ? 0 : Math.max(0, welcome.seq - from);
    this.events.onState(
      'connected',
      from === undefined
        ? `reconnected as ${welcome.user_id}`
        : `reconnected · resumed from seq ${String(from)}, ${String(missed)} missed event${missed === 1 ? '' : 's'} replayed`,
    );
  }

  private statusChanged(status: ParleyClientStatus, error?: ParleyClientError): void {
    if (status === 'reconnecting' && error === undefined) {
      this.events.onState('reconnecting', 'connection lost · reconnecting and resuming…');
    } else if (status === 'closed') {
      this.events.onState('offline', `disconnected: ${error?.message ?? 'the connection closed'}`);
    } else if (error !== undefined && status === 'open') {
      // Non-fatal: a skipped frame, a seq gap. The reader may see something odd: say why.
      this.events.onNotice(error.message, 'info');
    }
  }

  /** The first join failed: a refused sign-in waits for a token; anything else is retried. */
  private async failed(error: unknown): Promise<void> {
    const refusal = await this.signInRefusal();
    if (refusal !== undefined) {
      this.events.onState('signin', refusal);
      return;
    }
    const delay = backoffDelay(this.attempt, RETRY) + RETRY.initialDelayMs;
    this.attempt += 1;
    const seconds = Math.round(delay / 1000);
    this.events.onState(
      'offline',
      `cannot join (${describe(error)}); retrying in ${String(seconds)} s`,
    );
    this.retryTimer = setTimeout(() => void this.start(), delay);
  }

  /**
   * Why the server refuses this page's credentials, or undefined if it does not. A browser is
   * not told why a WebSocket upgrade failed, so the page asks an HTTP route that checks the same
   * credentials (`/api/conversations`) and reads its 401.
   */
  private async signInRefusal(): Promise<string | undefined> {
    const token = storedToken();
    const query = new URLSearchParams({ limit: '1', user_id: this.settings.userId });
    try {
      const response = await fetch(`/api/conversations?${query.toString()}`, {
        headers: token === '' ? {} : { authorization: `Bearer ${token}` },
      });
      if (response.status !== 401) return undefined;
      const body = (await response.json().catch(() => ({}))) as { message?: unknown };
      const reason = typeof body.message === 'string' ? body.message : 'unauthorized';
      return token === ''
        ? `this server needs a sign-in token (JWT): paste it in Settings (${reason})`
        : `the server refused the token: ${reason}`;
    } catch {
      return undefined;
    }
  }
}

function describe(error: unknown): string {
  if (error instanceof ParleyClientError) return error.message;
  return error instanceof Error ? error.message : String(error);
}
