/**
 * The bounded buffer behind `ParleyClient.frames()`.
 */
import { ParleyClientError } from './client-error.js';

/** Default number of frames a `frames()` iterator holds for a consumer that has fallen behind. */
export const DEFAULT_MAX_BUFFERED_FRAMES = 10_000;

/**
 * An async iterator fed by `push`: it yields every pushed value in order, ends (`done`) after
 * `end()`, and throws after `end(error)` once the values already buffered have been read.
 *
 * A consumer more than `maxBuffered` values behind gets a `frame_buffer_overflow` error after the
 * buffered values instead of an ever-growing buffer: memory stays bounded and the loss is visible.
 *
 * @example
 * const queue = new FrameQueue<number>(100, () => unsubscribe());
 * queue.push(1);
 * for await (const value of queue) console.log(value);
 */
export class FrameQueue<TValue> implements AsyncIterableIterator<TValue> {
  private readonly buffer: TValue[] = [];
  private reader:
    | { resolve: (result: IteratorResult<TValue>) => void; reject: (error: Error) => void }
    | undefined;
  private ended = false;
  private failure: Error | undefined;

  /**
   * @param maxBuffered values held before the iterator gives up with `frame_buffer_overflow`
   * @param onEnd called once when the iterator ends, however it ends (to unsubscribe)
   */
  constructor(
    private readonly maxBuffered: number,
    private readonly onEnd: () => void,
  ) {}

  /** Hands a value to the waiting reader, or buffers it. */
  push(value: TValue): void {
    if (this.ended) return;
    if (this.reader !== undefined) {
      const { resolve } = this.reader;
      this.reader = undefined;
      resolve({ value, done: false });
      return;
    }
    if (this.buffer.length >= this.maxBuffered) {
      this.end(
        new ParleyClientError(
          'frame_buffer_overflow',
          `frames() fell more than ${this.maxBuffered} frames behind; read frames faster or use subscribe().`,
          { details: { max_buffered_frames: this.maxBuffered } },
        ),
      );
      return;
    }
    this.buffer.push(value);
  }

  /** Ends the iterator: `done` once the buffer is read, or `error` thrown at that point. */
  end(error?: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = error;
    this.onEnd();
    if (this.reader !== undefined) {
      const { resolve, reject } = this.reader;
      this.reader = undefined;
      this.failure = undefined;
      if (error === undefined) resolve({ value: undefined, done: true });
      else reject(error);
    }
  }

  next(): Promise<IteratorResult<TValue>> {
    if (this.buffer.length > 0) {
      return Promise.resolve({ value: this.buffer.shift() as TValue, done: false });
    }
    if (this.ended) {
      const error = this.failure;
      // Thrown once; a loop that catches it and calls next() again just finishes.
      this.failure = undefined;
      return error === undefined
        ? Promise.resolve({ value: undefined, done: true })
        : Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      this.reader = { resolve, reject };
    });
  }

  /** Called by `break` in a `for await` loop: stops listening and drops the buffer. */
  return(): Promise<IteratorResult<TValue>> {
    this.buffer.length = 0;
    this.end();
    this.failure = undefined;
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
