import {
  ProtocolError,
  ProtocolErrorCode,
  SdkError,
  SdkErrorCode,
  SdkHttpError,
} from '@modelcontextprotocol/client';
import { describe, expect, it } from 'vitest';
import { ParleyError } from '../../errors.js';
import { failureScope, toCallError } from './mcp-call-error.js';

const context = {
  server: 'files',
  tool: 'files__read',
  timeoutMs: 10_000,
  redact: (text: string) => text.replaceAll('s3cret', '[redacted]'),
};

describe('failureScope', () => {
  it.each([
    [
      'a closed connection',
      new SdkError(SdkErrorCode.ConnectionClosed, 'Connection closed'),
      'lost',
    ],
    ['no connection', new SdkError(SdkErrorCode.NotConnected, 'Not connected'), 'lost'],
    ['an unreachable endpoint', new TypeError('fetch failed'), 'lost'],
    [
      'an unknown session (404)',
      new SdkHttpError(SdkErrorCode.ClientHttpNotImplemented, 'Error POSTing', { status: 404 }),
      'lost',
    ],
    [
      'an HTTP 502',
      new SdkHttpError(SdkErrorCode.ClientHttpNotImplemented, 'Error POSTing', { status: 502 }),
      'suspect',
    ],
    ['a timeout', new SdkError(SdkErrorCode.RequestTimeout, 'Request timed out'), 'call'],
    ['a JSON-RPC error', new ProtocolError(ProtocolErrorCode.InternalError, 'boom'), 'call'],
  ])('places %s: %s', (_name, error, scope) => {
    expect(failureScope(error)).toBe(scope);
  });
});

describe('toCallError', () => {
  it('turns the SDK request timeout into tool_timeout, worded like Parley’s own', () => {
    const cause = new SdkError(SdkErrorCode.RequestTimeout, 'Request timed out');
    expect(toCallError(cause, context)).toMatchObject({
      code: 'tool_timeout',
      message: 'The tool did not finish within 10000 ms.',
      cause,
    });
  });

  it('turns a JSON-RPC invalid params error into invalid_tool_arguments', () => {
    expect(
      toCallError(
        new ProtocolError(ProtocolErrorCode.InvalidParams, 'Tool read not found'),
        context,
      ),
    ).toMatchObject({
      code: 'invalid_tool_arguments',
      message: 'Invalid arguments for tool "files__read": Tool read not found',
    });
  });

  it('turns other JSON-RPC errors into tool_failed, secrets redacted', () => {
    const error = toCallError(
      new ProtocolError(ProtocolErrorCode.InternalError, 'bad key s3cret'),
      context,
    );
    expect(error).toBeInstanceOf(ParleyError);
    expect(error).toMatchObject({ code: 'tool_failed', message: 'bad key [redacted]' });
  });

  it('turns transport failures into tool_unavailable', () => {
    expect(toCallError(new TypeError('fetch failed'), context)).toMatchObject({
      code: 'tool_unavailable',
      message: 'MCP server "files" is unavailable (fetch failed); try again later.',
    });
  });
});
