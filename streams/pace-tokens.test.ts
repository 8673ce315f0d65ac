import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { paceTokens } from './pace-tokens.js';

function createTestScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => {
    expect(actual).toEqual(expected);
  });
}

/** Lower-case letters are tokens; upper-case letters stand for other events (usage, finish…). */
const isToken = (value: string): boolean => /^[a-z]$/.test(value);

describe('paceTokens', () => {
  it('spaces tokens by the delay, each delay starting when the previous token is out', () => {
    const testScheduler = createTestScheduler();
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-c|');
      expectObservable(source.pipe(paceTokens(30, isToken, testScheduler))).toBe(
        '31ms a 29ms b 29ms (c|)',
      );
      // The source is read at its own pace; only the output is paced.
      expectSubscriptions(source.subscriptions).toBe('^-----!');
    });
  });

  it('delays a token that follows a quiet gap by the delay from its arrival', () => {
    const testScheduler = createTestScheduler();
    testScheduler.run(({ cold, expectObservable }) => {
      const source = cold('a 100ms b|');
      expectObservable(source.pipe(paceTokens(30, isToken, testScheduler))).toBe(
        '30ms a 100ms (b|)',
      );
    });
  });

  it('keeps non-token values in their place between the tokens', () => {
    const testScheduler = createTestScheduler();
    testScheduler.run(({ cold, expectObservable }) => {
      const source = cold('-aUbF|');
      expectObservable(source.pipe(paceTokens(30, isToken, testScheduler))).toBe(
        '31ms (aU) 26ms (bF|)',
      );
    });
  });

  it('passes a non-token through at once when no token is being paced', () => {
    const testScheduler = createTestScheduler();
    testScheduler.run(({ cold, expectObservable }) => {
      const source = cold('U-a|');
      expectObservable(source.pipe(paceTokens(30, isToken, testScheduler))).toBe('U 31ms (a|)');
    });
  });

  it('completes only once the delay of the last token has passed', () => {
    const testScheduler = createTestScheduler();
    testScheduler.run(({ cold, expectObservable }) => {
      const source = cold('a|');
      expectObservable(source.pipe(paceTokens(30, isToken, testScheduler))).toBe('30ms (a|)');
    });
  });

  it('returns the source itself, with no timers, when the delay is 0', () => {
    const testScheduler = createTestScheduler();
    testScheduler.run(({ cold, expectObservable }) => {
      const source = cold('-a-b-U-c|');
      const paced = source.pipe(paceTokens(0, isToken, testScheduler));
      expect(paced).toBe(source);
      expectObservable(paced).toBe('-a-b-U-c|');
    });
  });
});
