import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { deadline } from './deadline.js';

function createTestScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => {
    expect(actual).toEqual(expected);
  });
}

describe('deadline', () => {
  it('passes a source that completes before the deadline through untouched', () => {
    const testScheduler = createTestScheduler();
    let deadlineCalls = 0;
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a-b-c|');
      const bounded = source.pipe(
        deadline(
          10,
          () => {
            deadlineCalls += 1;
            return 'D';
          },
          testScheduler,
        ),
      );
      expectObservable(bounded).toBe('a-b-c|');
      expectSubscriptions(source.subscriptions).toBe('^----!');
    });
    expect(deadlineCalls).toBe(0);
  });

  it('unsubscribes a source still running at the deadline, then emits the deadline value and completes', () => {
    const testScheduler = createTestScheduler();
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a 5ms b 20ms c|');
      expectObservable(source.pipe(deadline(10, () => 'D', testScheduler))).toBe(
        'a 5ms b 3ms (D|)',
      );
      expectSubscriptions(source.subscriptions).toBe('^ 9ms !');
    });
  });

  it('emits the deadline value at the deadline even when the source never emitted', () => {
    const testScheduler = createTestScheduler();
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-');
      expectObservable(source.pipe(deadline(10, () => 'D', testScheduler))).toBe('10ms (D|)');
      expectSubscriptions(source.subscriptions).toBe('^ 9ms !');
    });
  });

  it('passes a source error through and never emits the deadline value', () => {
    const testScheduler = createTestScheduler();
    const failure = new Error('The model stream broke.');
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a-#', undefined, failure);
      expectObservable(source.pipe(deadline(10, () => 'D', testScheduler))).toBe(
        'a-#',
        undefined,
        failure,
      );
      expectSubscriptions(source.subscriptions).toBe('^-!');
    });
  });

  it('tears down the source and the timer when the result is unsubscribed before the deadline', () => {
    const testScheduler = createTestScheduler();
    let deadlineCalls = 0;
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a-b-c-d-e-f|');
      const bounded = source.pipe(
        deadline(
          10,
          () => {
            deadlineCalls += 1;
            return 'D';
          },
          testScheduler,
        ),
      );
      expectObservable(bounded, '^ 4ms !').toBe('a-b-c');
      expectSubscriptions(source.subscriptions).toBe('^ 4ms !');
    });
    expect(deadlineCalls).toBe(0);
  });
});
