/**
 * Keeps a server's credentials out of what Parley says about it. A stdio server's `env` values
 * and an HTTP server's `headers` values are secrets: an error message, a status or a logged
 * stderr line that contains one (a careless server may echo the `Authorization` it got) shows
 * `[redacted]` instead.
 */
import type { McpServerSettings } from './mcp-config.js';

/** Replaces every secret in a text by `[redacted]`. */
export type Redact = (text: string) => string;

// Shorter values (a `DEBUG=1`) would blank out unrelated text and protect nothing.
const MIN_SECRET_LENGTH = 4;
// The token of `Bearer <token>` is a secret on its own; so is any long word of a value.
const MIN_SECRET_WORD_LENGTH = 8;

/**
 * The redaction for one server's secrets.
 *
 * @example
 * const redact = redactorFor(settings);
 * status.lastError = redact(error.message);
 */
export function redactorFor(settings: McpServerSettings): Redact {
  const values = Object.values(settings.transport === 'stdio' ? settings.env : settings.headers);
  const secrets = new Set<string>();
  for (const value of values) {
    if (value.length >= MIN_SECRET_LENGTH) secrets.add(value);
    for (const word of value.split(/\s+/)) {
      if (word.length >= MIN_SECRET_WORD_LENGTH) secrets.add(word);
    }
  }
  // Longest first, so a value is replaced whole before any of its words.
  const ordered = [...secrets].sort((a, b) => b.length - a.length);
  return (text) =>
    ordered.reduce((redacted, secret) => redacted.replaceAll(secret, '[redacted]'), text);
}
