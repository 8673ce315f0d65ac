import { describe, expect, it } from 'vitest';
import { mcpServerConfigSchema } from './mcp-config.js';
import { redactorFor } from './redact-secrets.js';

describe('redactorFor', () => {
  it('hides header values, and the token of a Bearer value on its own', () => {
    const redact = redactorFor(
      mcpServerConfigSchema.parse({
        url: 'http://127.0.0.1/mcp',
        headers: { authorization: 'Bearer abc123def456', 'x-team': 'red' },
      }),
    );
    expect(redact('got "Bearer abc123def456" and then abc123def456 alone; team red')).toBe(
      'got "[redacted]" and then [redacted] alone; team red',
    );
  });

  it('hides env values of a stdio server, leaving values too short to matter', () => {
    const redact = redactorFor(
      mcpServerConfigSchema.parse({ command: 'x', env: { API_KEY: 'k-9f8e7d', DEBUG: '1' } }),
    );
    expect(redact('key k-9f8e7d, debug 1')).toBe('key [redacted], debug 1');
  });
});
