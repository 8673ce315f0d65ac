import { APICallError } from '@ai-sdk/provider';
import { describe, expect, it } from 'vitest';
import { ParleyError } from '../errors.js';
import { toProviderError } from './provider-error.js';

const context = { secrets: ['sk-secret-1234'], credentialVariable: 'ANTHROPIC_API_KEY' };

function apiError(statusCode: number, message: string, headers: Record<string, string> = {}) {
  return new APICallError({
    message,
    url: 'https://api.anthropic.com/v1/messages',
    requestBodyValues: { messages: [] },
    statusCode,
    responseHeaders: headers,
  });
}

function summary(error: ParleyError) {
  return { code: error.code, message: error.message, details: error.details };
}

describe('toProviderError', () => {
  it('keeps a ParleyError as it is', () => {
    const error = new ParleyError('provider_timeout', 'late');
    expect(toProviderError(error, context)).toBe(error);
  });

  it('classifies Anthropic 529 overloaded as provider_unavailable, retryable', () => {
    expect(summary(toProviderError(apiError(529, 'Overloaded'), context))).toEqual({
      code: 'provider_unavailable',
      message: 'The provider failed (HTTP 529): Overloaded',
      details: { retryable: true, status: 529 },
    });
  });

  it('keeps the wait a 429 asks for', () => {
    const error = toProviderError(apiError(429, 'Slow down', { 'retry-after': '3' }), context);
    expect(summary(error)).toEqual({
      code: 'provider_rate_limited',
      message: 'The provider is rate limiting (HTTP 429): Slow down',
      details: { retryable: true, retryAfterMs: 3_000, status: 429 },
    });
  });

  it('never shows the message of a refused credential, and names the variable', () => {
    const error = toProviderError(apiError(403, 'key sk-secret-12** has no access'), context);
    expect(error.message).toBe(
      'The provider refused the credentials (HTTP 403); check ANTHROPIC_API_KEY.',
    );
  });

  it('replaces secrets in a provider message and cuts it at 300 characters', () => {
    const long = `bad request for sk-secret-1234 ${'x'.repeat(400)}`;
    const error = toProviderError(apiError(400, long), context);
    expect(error.code).toBe('provider_rejected');
    expect(error.message).not.toContain('sk-secret-1234');
    expect(error.message).toContain('bad request for [redacted]');
    expect(error.message.endsWith('…')).toBe(true);
    expect(error.message.length).toBeLessThan(360);
  });

  it('drops the original error: it holds the request body and the raw response', () => {
    expect(toProviderError(apiError(500, 'boom'), context).cause).toBeUndefined();
  });

  it.each([
    [{ type: 'overloaded_error', message: 'Overloaded' }, 'provider_unavailable', true],
    [{ type: 'rate_limit_error', message: 'Too many tokens' }, 'provider_rate_limited', true],
    [{ type: 'api_error', message: 'Internal error' }, 'provider_unavailable', true],
    [{ type: 'invalid_request_error', message: 'prompt is too long' }, 'provider_rejected', false],
    [{ type: 'authentication_error', message: 'invalid x-api-key' }, 'provider_rejected', false],
    [
      { message: 'The server is overloaded.', type: 'server_error', code: null },
      'provider_unavailable',
      true,
    ],
  ])('classifies the streamed error %j as %s', (streamed, code, retryable) => {
    const error = toProviderError(streamed, context);
    expect(error.code).toBe(code);
    expect(error.details).toEqual({ retryable });
  });

  it('hides the message of a streamed authentication error', () => {
    const error = toProviderError(
      { type: 'authentication_error', message: 'sk-secret-1234 bad' },
      context,
    );
    expect(error.message).toBe('The provider refused the credentials; check ANTHROPIC_API_KEY.');
  });

  it('names the network code of a failed connection', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), {
      code: 'ECONNREFUSED',
    });
    const error = toProviderError(new TypeError('fetch failed', { cause: refused }), context);
    expect(summary(error)).toEqual({
      code: 'provider_unavailable',
      message: 'The provider connection failed (ECONNREFUSED).',
      details: { retryable: true },
    });
  });

  it('reports anything else as model_failed, without secrets', () => {
    const error = toProviderError(new Error('bug near sk-secret-1234'), context);
    expect(summary(error)).toEqual({
      code: 'model_failed',
      message: 'bug near [redacted]',
      details: { retryable: false },
    });
  });
});
