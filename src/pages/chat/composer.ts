/**
 * The message box: Enter sends, Shift+Enter starts a new line, Escape cancels the running turn;
 * it grows with its text, tells the others while its user types (and stops telling them after a
 * pause), and keeps the text when it could not be sent.
 */

/** Stop showing "typing" this long after the last keystroke. */
const TYPING_IDLE_MS = 2000;
const MAX_ROWS = 8;

/** What the composer asks of the connection. */
export interface ComposerActions {
  /** Sends a message; false when it could not be sent (not connected). */
  send: (content: string) => boolean;
  cancel: () => void;
  typing: (isTyping: boolean) => void;
}

/** The composer form and its buttons. */
export class Composer {
  private typing = false;
  private typingTimer: ReturnType<typeof setTimeout> | undefined;
  private enabled = false;
  private turnRunning = false;

  constructor(
    private readonly form: HTMLFormElement,
    private readonly input: HTMLTextAreaElement,
    private readonly sendButton: HTMLButtonElement,
    private readonly cancelButton: HTMLButtonElement,
    private readonly actions: ComposerActions,
  ) {
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
    });
    input.addEventListener('keydown', (event) => {
      // (Not while an input method composes: its Enter picks a candidate.)
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submit();
      } else if (event.key === 'Escape' && this.turnRunning) {
        event.preventDefault();
        actions.cancel();
      }
    });
    input.addEventListener('input', () => {
      this.resize();
      this.noteTyping();
    });
    cancelButton.addEventListener('click', () => {
      actions.cancel();
      input.focus();
    });
  }

  /** Enables sending (connected) or not. */
  setEnabled(enabled: boolean): void {
    this.enabled = enabled;
    if (!enabled) this.stopTyping(false);
    this.update();
  }

  /** Whether a turn is running, so Cancel (and Escape) can stop it. */
  setTurnRunning(running: boolean): void {
    this.turnRunning = running;
    this.update();
  }

  /** Puts the cursor in the box. */
  focus(): void {
    this.input.focus();
  }

  private update(): void {
    this.sendButton.disabled = !this.enabled;
    this.cancelButton.disabled = !this.enabled || !this.turnRunning;
    this.form.dataset.state = this.enabled ? 'ready' : 'offline';
    this.input.placeholder = this.enabled ? 'Message the agent…' : 'Not connected yet…';
    this.input.title = this.enabled
      ? 'Enter sends, Shift+Enter starts a new line, Escape cancels the answer'
      : 'Your text is kept until you can send it';
  }

  private submit(): void {
    const content = this.input.value;
    if (content.trim() === '' || !this.enabled) return;
    this.stopTyping(true);
    if (this.actions.send(content)) {
      this.input.value = '';
      this.resize();
    }
    this.input.focus();
  }

  private noteTyping(): void {
    if (!this.enabled) return;
    if (this.input.value.trim() === '') {
      this.stopTyping(true);
      return;
    }
    if (!this.typing) {
      this.typing = true;
      this.actions.typing(true);
    }
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => {
      this.stopTyping(true);
    }, TYPING_IDLE_MS);
  }

  private stopTyping(notify: boolean): void {
    clearTimeout(this.typingTimer);
    if (this.typing && notify) this.actions.typing(false);
    this.typing = false;
  }

  private resize(): void {
    const input = this.input;
    input.rows = 1;
    if (input.value === '') return;
    const lineHeight = parseFloat(getComputedStyle(input).lineHeight) || 20;
    const rows = Math.ceil((input.scrollHeight - 12) / lineHeight);
    input.rows = Math.max(1, Math.min(MAX_ROWS, rows));
  }
}
