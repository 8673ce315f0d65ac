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

  it('releases a stream faster than the pace at its own rate once 100 ms of it are known, so it never falls behind', () => {
    const testScheduler = createTestScheduler();
    testScheduler.run(({ cold, expectObservable }) => {
      // 50 tokens/s against a 30 ms pace (33/s): fixed pacing would end at 360 ms, 140 behind.
      const source = cold(
        'a 19ms b 19ms c 19ms d 19ms e 19ms f 19ms g 19ms h 19ms i 19ms j 19ms k 19ms l|',
      );
      expectObservable(source.pipe(paceTokens(30, isToken, testScheduler))).toBe(
        // Paced while the rate is unknown, then twice the source's rate until the backlog is
        // gone, then each token half an interval (10 ms) after it arrived.
        '30ms a 29ms b 29ms c 29ms d 9ms e 9ms f 9ms g 9ms h 9ms i 19ms j 19ms k 19ms (l|)',
      );
    });
  });

  it('spreads bursts of a fast source over half of the time between them', () => {
    const testScheduler = createTestScheduler();
    testScheduler.run(({ cold, expectObservable }) => {
      // Four tokens per network read, a read every 80 ms: 20 ms a token on average.
      const source = cold('(abcd) 74ms (efgh) 74ms (ijkl) 74ms (mnop) U|');
      expectObservable(source.pipe(paceTokens(30, isToken, testScheduler))).toBe(
        '30ms a 29ms b 29ms c 29ms d 29ms e 29ms f 9ms g 9ms h 9ms i 9ms j 9ms k 9ms l 9ms m 9ms n 9ms o 9ms (pU|)',
      );
    });
  });

  it('drains a backlog at the rate of the run it arrived in after a non-token ends that run', () => {
    const testScheduler = createTestScheduler();
    testScheduler.run(({ cold, expectObservable }) => {
      // 100 tokens/s, then the usage of the model call right after the last token.
      const source = cold(
        'a 9ms b 9ms c 9ms d 9ms e 9ms f 9ms g 9ms h 9ms i 9ms j 9ms k 9ms l 9ms m 9ms n 9ms o 9ms p 9ms q 9ms r 9ms s 9ms t U|',
      );
      expectObservable(source.pipe(paceTokens(30, isToken, testScheduler))).toBe(
        '30ms a 29ms b 29ms c 29ms d 4ms e 4ms f 4ms g 4ms h 4ms i 4ms j 4ms k 4ms l 4ms m 4ms n 4ms o 4ms p 4ms q 4ms r 4ms s 4ms (tU|)',
      );
    });
  });

  it('paces a new run at the delay until its own rate is known', () => {
    const testScheduler = createTestScheduler();
    testScheduler.run(({ cold, expectObservable }) => {
      // Two model calls with a tool call (T) between them; each call's first tokens are paced.
      const source = cold('a 9ms b 9ms c T 200ms d 9ms e|');
      expectObservable(source.pipe(paceTokens(30, isToken, testScheduler))).toBe(
        '30ms a 29ms b 29ms (cT) 158ms d 29ms (e|)',
      );
    });
  });

  it('errors as soon as the source errors, dropping the tokens still waiting', () => {
    const testScheduler = createTestScheduler();
    testScheduler.run(({ cold, expectObservable }) => {
      const source = cold('ab#');
      expectObservable(source.pipe(paceTokens(30, isToken, testScheduler))).toBe('--#');
    });
  });

  it('stops its timer and the source when unsubscribed', () => {
    const testScheduler = createTestScheduler();
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a 9ms b 9ms c 9ms d 9ms e 9ms f 9ms g|');
      expectObservable(source.pipe(paceTokens(30, isToken, testScheduler)), '^ 40ms !').toBe(
        '30ms a',
      );
      expectSubscriptions(source.subscriptions).toBe('^ 40ms !');
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
