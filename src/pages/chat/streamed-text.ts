/**
 * Text that arrives in pieces, each with its frame's seq: a tool call's arguments as the model
 * writes them, a turn's reasoning. History pages arrive newest first, so a page may bring the
 * pieces before those already shown; keeping them in seq order makes a replayed conversation
 * read exactly as it did live.
 */

/** Pieces of text, joined in seq order whatever order they came in. */
export class StreamedText {
  private readonly pieces: { seq: number; text: string }[] = [];
  private joined: string | undefined = '';

  /**
   * Adds the piece of the frame with this seq.
   *
   * @example
   * text.add(9, 'Paris"}'); text.add(8, '{"location":"'); text.value // '{"location":"Paris"}'
   */
  add(seq: number, text: string): void {
    let at = this.pieces.length;
    // Live pieces come last: the search from the end stops at once.
    while (at > 0 && (this.pieces[at - 1]?.seq ?? 0) > seq) at -= 1;
    this.pieces.splice(at, 0, { seq, text });
    this.joined = undefined;
  }

  /** The text so far. */
  get value(): string {
    this.joined ??= this.pieces.map((piece) => piece.text).join('');
    return this.joined;
  }
}
