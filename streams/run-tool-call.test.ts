import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { ParleyError } from '../src/errors.js';
import { runToolCall, type ToolCallOutcome } from './run-tool-call.js';

/*
 * A tool is a promise-returning function, and promise callbacks are microtasks, which
 * `TestScheduler.flush()` does not wait for. So these tests drive the TestScheduler as a virtual
 * event loop: fire the timers of one frame, let the microtasks run, fire the next frame…
 */

function createTestScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => {
    expect(actual).toEqual(expected);
  });
}

/** Lets every pending promise callback run (one turn of the event loop; no time passes). */
function drainMicrotasks(): Promise<void> {
  return new Promise((resolve) => {
    setImmediate(resolve);
  });
}

/** Fires the virtual timers frame by frame, draining microtasks before and after each frame. */
async function runVirtualTime(testScheduler: TestScheduler): Promise<void> {
  await drainMicrotasks();
  for (let next = testScheduler.actions[0]; next !== undefined; next = testScheduler.actions[0]) {
    testScheduler.maxFrames = next.delay;
    testScheduler.flush();
    await drainMicrotasks();
  }
}

/** A promise that resolves with `value` after `ms` of virtual time. */
function resolveAfter(testScheduler: TestScheduler, ms: number, value: unknown): Promise<unknown> {
  return new Promise((resolve) => {
    testScheduler.schedule(() => {
      resolve(value);
    }, ms);
  });
}

/** A promise that rejects with `error` after `ms` of virtual time. */
function rejectAfter(testScheduler: TestScheduler, ms: number, error: Error): Promise<never> {
  return new Promise((_resolve, reject) => {
    testScheduler.schedule(() => {
      reject(error);
    }, ms);
  });
}

interface Recording {
  outcomes: { at: number; outcome: ToolCallOutcome }[];
  completedAt: number | undefined;
}

function record(
  testScheduler: TestScheduler,
  execute: (signal: AbortSignal) => Promise<unknown>,
  timeoutMs = 50,
): Recording & { unsubscribe(): void } {
  const recording: Recording = { outcomes: [], completedAt: undefined };
  const subscription = runToolCall(execute, { timeoutMs, scheduler: testScheduler }).subscribe({
    next: (outcome) => recording.outcomes.push({ at: testScheduler.now(), outcome }),
    complete: () => {
      recording.completedAt = testScheduler.now();
    },
  });
  return Object.assign(recording, {
    unsubscribe: () => {
      subscription.unsubscribe();
    },
  });
}

describe('runToolCall', () => {
  it('emits one ok outcome with the output and the virtual duration when the tool resolves in time', async () => {
    const testScheduler = createTestScheduler();
    let toolSignal: AbortSignal | undefined;
    const recording = record(testScheduler, (signal) => {
      toolSignal = signal;
      return resolveAfter(testScheduler, 20, { forecast: 'sunny' });
    });

    await runVirtualTime(testScheduler);

    expect(recording.outcomes).toEqual([
      { at: 20, outcome: { ok: true, output: { forecast: 'sunny' }, durationMs: 20 } },
    ]);
    expect(recording.completedAt).toBe(20);
    // The call finished by itself: nothing to abort, and the timeout timer is gone.
    expect(toolSignal?.aborted).toBe(false);
    expect(testScheduler.actions).toEqual([]);
  });

  it('emits tool_timeout at timeoutMs and aborts the signal of a tool that never settles', async () => {
    const testScheduler = createTestScheduler();
    let toolSignal: AbortSignal | undefined;
    const recording = record(testScheduler, (signal) => {
      toolSignal = signal;
      return new Promise<never>(() => undefined);
    });

    await runVirtualTime(testScheduler);

    expect(recording.outcomes).toEqual([
      {
        at: 50,
        outcome: {
          ok: false,
          error: { code: 'tool_timeout', message: 'The tool did not finish within 50 ms.' },
          durationMs: 50,
        },
      },
    ]);
    expect(recording.completedAt).toBe(50);
    expect(toolSignal?.aborted).toBe(true);
  });

  it('emits tool_failed with the message of a tool that rejects', async () => {
    const testScheduler = createTestScheduler();
    const recording = record(testScheduler, () =>
      rejectAfter(testScheduler, 5, new Error('The weather service answered 503.')),
    );

    await runVirtualTime(testScheduler);

    expect(recording.outcomes).toEqual([
      {
        at: 5,
        outcome: {
          ok: false,
          error: { code: 'tool_failed', message: 'The weather service answered 503.' },
          durationMs: 5,
        },
      },
    ]);
    expect(recording.completedAt).toBe(5);
  });

  it('emits tool_failed for a tool that throws before returning a promise', async () => {
    const testScheduler = createTestScheduler();
    const recording = record(testScheduler, () => {
      throw new Error('Cannot read properties of undefined.');
    });

    await runVirtualTime(testScheduler);

    expect(recording.outcomes).toEqual([
      {
        at: 0,
        outcome: {
          ok: false,
          error: { code: 'tool_failed', message: 'Cannot read properties of undefined.' },
          durationMs: 0,
        },
      },
    ]);
  });

  it('keeps the code of a ParleyError the tool rejects with', async () => {
    const testScheduler = createTestScheduler();
    const recording = record(testScheduler, () =>
      Promise.reject(new ParleyError('invalid_tool_arguments', '`location` must be a string.')),
    );

    await runVirtualTime(testScheduler);

    expect(recording.outcomes).toEqual([
      {
        at: 0,
        outcome: {
          ok: false,
          error: { code: 'invalid_tool_arguments', message: '`location` must be a string.' },
          durationMs: 0,
        },
      },
    ]);
  });

  it('aborts the signal of a running tool when unsubscribed early, and emits nothing', async () => {
    const testScheduler = createTestScheduler();
    let toolSignal: AbortSignal | undefined;
    const recording = record(testScheduler, (signal) => {
      toolSignal = signal;
      return resolveAfter(testScheduler, 20, 'late');
    });
    await drainMicrotasks();
    expect(toolSignal?.aborted).toBe(false);

    recording.unsubscribe();
    await runVirtualTime(testScheduler);

    expect(toolSignal?.aborted).toBe(true);
    expect(recording.outcomes).toEqual([]);
    expect(recording.completedAt).toBeUndefined();
  });

  // Regression: the tool was called in a microtask after subscription, even when the call had
  // already been torn down by then (a cancel in the same tick), so a cancelled tool still ran.
  it('never starts a tool whose call is torn down before the tool was called', async () => {
    const testScheduler = createTestScheduler();
    let calls = 0;
    const recording = record(testScheduler, () => {
      calls += 1;
      return Promise.resolve('ran anyway');
    });

    recording.unsubscribe();
    await runVirtualTime(testScheduler);

    expect(calls).toBe(0);
    expect(recording.outcomes).toEqual([]);
  });
});
