import { describe, expect, it } from 'vitest';
import { decideAfterClose, REJECTING_CLOSE_CODES } from './decide-after-close.js';

describe('decideAfterClose', () => {
  it('does not reconnect after the close codes the docs list as rejecting', () => {
    expect([...REJECTING_CLOSE_CODES].sort()).toEqual([1003, 1007, 1008, 4401, 4403, 4404]);
    const close = {
      code: 4401,
      reason: 'token_expired',
      serverError: undefined,
      socketError: undefined,
    };
    const decision = decideAfterClose(close, {
      firstConnection: false,
      reconnect: true,
      attempts: 2,
    });
    expect(decision.reconnect).toBe(false);
  });

  it('reconnects at the first step after 1012 (service restart)', () => {
    const close = {
      code: 1012,
      reason: 'server_shutdown',
      serverError: undefined,
      socketError: undefined,
    };
    expect(
      decideAfterClose(close, { firstConnection: false, reconnect: true, attempts: 3 }),
    ).toEqual({
      reconnect: true,
      step: 0,
    });
  });
});
