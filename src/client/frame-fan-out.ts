/**
 * Hands each delivered frame to every subscriber, every `frames()` iterator and every waiter.
 */
import type { ServerFrame } from '../protocol/frames.js';
import { FrameQueue } from './frame-queue.js';

/**
 * The delivery side of the client. It can hold frames for a while (`hold`/`release`): the client
 * holds those that arrive with the first `welcome` until its caller has had a chance to subscribe.
 *
 * @example
 * const fanOut = new FrameFanOut((frame) => waiters.offer(frame), (cause) => report(cause));
 * const unsubscribe = fanOut.subscribe((frame) => console.log(frame.type));
 * fanOut.deliver(frame);
 */
export class FrameFanOut {
  private readonly listeners = new Set<(frame: ServerFrame) => void>();
  private readonly queues = new Set<FrameQueue<ServerFrame>>();
  private held: ServerFrame[] | undefined;
  private ending: (() => void) | undefined;
  private ended = false;
  private endError: Error | undefined;

  /**
   * @param offer called with each frame after the listeners (the client's waiters)
   * @param listenerFailed called when a listener throws; the other listeners still get the frame
   */
  constructor(
    private readonly offer: (frame: ServerFrame) => void,
    private readonly listenerFailed: (cause: unknown) => void,
  ) {}

  /** Calls `listener` with every frame delivered from now on; returns the unsubscribe function. */
  subscribe(listener: (frame: ServerFrame) => void): () => void {
    // Wrapped so the same function subscribed twice is two subscriptions, each removable once.
    const entry = (frame: ServerFrame) => {
      listener(frame);
    };
    if (!this.ended) this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  /** A new iterator over the frames delivered from now on; see {@link FrameQueue}. */
  iterate(maxBuffered: number): FrameQueue<ServerFrame> {
    const push = (frame: ServerFrame) => {
      queue.push(frame);
    };
    const queue = new FrameQueue<ServerFrame>(maxBuffered, () => {
      this.listeners.delete(push);
      this.queues.delete(queue);
    });
    if (this.ended) {
      queue.end(this.endError);
    } else {
      this.listeners.add(push);
      this.queues.add(queue);
    }
    return queue;
  }

  /** Keeps delivered frames back until {@link release}. */
  hold(): void {
    this.held ??= [];
  }

  /** Delivers the held frames, then completes an {@link end} that was waiting for them. */
  release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const frame of held) this.deliver(frame);
    this.ending?.();
  }

  deliver(frame: ServerFrame): void {
    if (this.held !== undefined) {
      this.held.push(frame);
      return;
    }
    for (const listener of [...this.listeners]) {
      try {
        listener(frame);
      } catch (cause) {
        this.listenerFailed(cause);
      }
    }
    this.offer(frame);
  }

  /**
   * Ends every iterator (`done`, or throwing `error`) and drops the listeners, then calls `then`;
   * held frames are delivered first, so readers see everything that arrived.
   */
  end(error: Error | undefined, then: () => void): void {
    const end = () => {
      this.ended = true;
      this.endError = error;
      for (const queue of this.queues) queue.end(error);
      this.listeners.clear();
      then();
    };
    if (this.held === undefined) end();
    else this.ending = end;
  }
}
