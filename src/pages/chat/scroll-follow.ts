/**
 * Keeps the end of the conversation in view while it grows (a streaming answer, new messages),
 * unless the reader has scrolled up to read: then nothing moves, and a button offers to jump back
 * to the latest. Older messages inserted above keep what the reader sees where it is. Scrolling
 * near the top asks for older history.
 */

/** Closer to the bottom than this (px), the reader is following the conversation. */
const FOLLOW_SLACK = 24;
/** Closer to the top than this (px), older history is asked for. */
const NEAR_TOP = 300;

/** The scroll behaviour of the message list. */
export class ScrollFollow {
  private following = true;

  /**
   * @param scroller the scrolling element around the list
   * @param jump the "jump to latest" button, shown while the reader is scrolled up
   * @param onNearTop called when the reader comes near the top
   */
  constructor(
    private readonly scroller: HTMLElement,
    private readonly jump: HTMLButtonElement,
    private readonly onNearTop: () => void,
  ) {
    // Only the reader moves the view away from the bottom: content that grows fires no scroll
    // event, and our own scrolling to the bottom lands within the slack. (No smooth scrolling:
    // its intermediate positions would read as the reader scrolling up.)
    scroller.addEventListener(
      'scroll',
      () => {
        this.following = this.distanceFromBottom() <= FOLLOW_SLACK;
        this.jump.hidden = this.following;
        if (scroller.scrollTop < NEAR_TOP) this.onNearTop();
      },
      { passive: true },
    );
    jump.addEventListener('click', () => {
      this.following = true;
      this.settle();
    });
    // Anything else that changes the height (a card unfolded, the window resized) settles too.
    const content = scroller.firstElementChild;
    if (content !== null) {
      new ResizeObserver(() => {
        if (this.following) this.settle();
      }).observe(content);
    }
  }

  /** Whether the reader follows the end of the conversation. */
  get isFollowing(): boolean {
    return this.following;
  }

  /** After content changed: back to the bottom if the reader follows. */
  settle(): void {
    this.jump.hidden = this.following;
    if (this.following) this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  /** Runs `insert` (which adds content above what is shown) and keeps the view where it was. */
  keepPosition(insert: () => void): void {
    const before = this.scroller.scrollHeight;
    insert();
    if (this.following) this.settle();
    else this.scroller.scrollTop += this.scroller.scrollHeight - before;
  }

  /** Whether the content leaves less than a screen to scroll up through. */
  get needsMoreAbove(): boolean {
    return this.scroller.scrollTop < NEAR_TOP;
  }

  private distanceFromBottom(): number {
    const { scrollHeight, scrollTop, clientHeight } = this.scroller;
    return scrollHeight - scrollTop - clientHeight;
  }
}
