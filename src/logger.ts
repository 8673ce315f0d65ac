import { pino, type Logger, type LoggerOptions } from 'pino';

/**
 * Paths pino replaces with `[redacted]`: credentials never reach the log. Message content and
 * tokens are never logged at info in the first place; they appear only at `trace`.
 */
export const REDACTED_PATHS = [
  'authorization',
  'token',
  'jwt',
  '*.authorization',
  '*.token',
  'headers.authorization',
  'headers["sec-websocket-protocol"]',
  'request.headers.authorization',
  'request.headers["sec-websocket-protocol"]',
];

/**
 * The server's structured logger (JSON lines on stdout).
 *
 * @example
 * const logger = createLogger('info');
 * logger.child({ connection_id, user_id, conversation_id }).info('connection opened');
 */
export function createLogger(
  level: LoggerOptions['level'] = 'info',
  destination?: NodeJS.WritableStream,
): Logger {
  const options: LoggerOptions = {
    level,
    base: { service: 'parley' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}

export type { Logger };
