import { describe, expect, it } from 'vitest';
import { isCloseCode, isErrorCode } from './errors.js';

describe('the error table', () => {
  it('tells its close codes from other numbers', () => {
    expect(isCloseCode(4401)).toBe(true);
    expect(isCloseCode(1012)).toBe(true);
    expect(isCloseCode(4999)).toBe(false);
    expect(isCloseCode(1005)).toBe(false);
  });

  it('tells its error codes from other values, own keys only', () => {
    expect(isErrorCode('busy')).toBe(true);
    expect(isErrorCode('no_such_code')).toBe(false);
    expect(isErrorCode('toString')).toBe(false);
    expect(isErrorCode(429)).toBe(false);
  });
});
