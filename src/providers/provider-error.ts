/**
 * Turns whatever a provider package throws or streams as an error into a `ParleyError` with a
 * `provider_*` code, whether a retry may help, and a message that is safe to show participants.
 */
import { APICallError } from '@ai-sdk/provider';
import { ParleyError, type ErrorCode } from '../errors.js';
import { retryAfterMs } from './retry-delay.js';

/** What {@link toProviderError} puts in `ParleyError.details`. */
export interface ProviderErrorDetails {
  /** Whether the same request may succeed if sent again (before any output). */
  retryable: boolean;
  /** How long the provider asked to wait (`retry-after-ms` / `retry-after`), when it said. */
  retryAfterMs?: number;
  /** The HTTP status, when there was one. */
  status?: number;
}

/** How to word errors for one provider. */
export interface ProviderErrorContext {
  /** Strings never to show (the API key): replaced by `[redacted]` in every message. */
  secrets: readonly string[];
  /** The variable holding the credentials, named when the provider refuses them. */
  credentialVariable?: string;
}

/** Provider messages are cut here: enough to say what is wrong, not a whole response body. */
const MAX_PROVIDER_MESSAGE = 300;

/** Network failures worth a retry before the first byte, by the code Node or undici gives. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/**
 * Classifies a provider failure. A `ParleyError` is returned as it is; an HTTP error keeps its
 * status and `retry-after`; a refused credential never shows the provider's message (OpenAI
 * echoes part of a wrong key); every other provider message is cut to 300 characters with each
 * secret replaced. The original error is not kept as `cause`: it holds the request body and the
 * raw response, which a log serializer would print.
 *
 * @example
 * toProviderError(error, { secrets: [apiKey], credentialVariable: 'OPENAI_API_KEY' })
 */
export function toProviderError(error: unknown, context: ProviderErrorContext): ParleyError {
  if (error instanceof ParleyError) return error;
  if (APICallError.isInstance(error)) return fromApiCallError(error, context);
  const networkCode = findNetworkCode(error);
  if (networkCode !== undefined) {
    return failure('provider_unavailable', `The provider connection failed (${networkCode}).`, {
      retryable: true,
    });
  }
  if (isStreamErrorObject(error)) return fromStreamError(error, context);
  if (
    error instanceof Error &&
    /^AI_(InvalidResponseData|JSONParse|TypeValidation)Error$/.test(error.name)
  ) {
    return failure(
      'provider_protocol_error',
      `The provider's stream broke its format: ${safeMessage(error.message, context)}`,
      { retryable: false },
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  return failure('model_failed', safeMessage(message, context), { retryable: false });
}

function fromApiCallError(error: APICallError, context: ProviderErrorContext): ParleyError {
  const status = error.statusCode;
  const retryAfter = retryAfterMs(error.responseHeaders);
  const details: ProviderErrorDetails = {
    retryable: error.isRetryable,
    ...(retryAfter === undefined ? {} : { retryAfterMs: retryAfter }),
    ...(status === undefined ? {} : { status }),
  };
  if (status === undefined) {
    const code = findNetworkCode(error.cause) ?? 'no response';
    return failure('provider_unavailable', `The provider could not be reached (${code}).`, details);
  }
  // A 2xx whose body then failed: the connection broke mid-stream.
  if (status < 400) {
    const code = findNetworkCode(error.cause) ?? 'the response body failed';
    return failure('provider_unavailable', `The provider connection failed (${code}).`, details);
  }
  if (status === 401 || status === 403) {
    const hint =
      context.credentialVariable === undefined ? '' : `; check ${context.credentialVariable}`;
    return failure(
      'provider_rejected',
      `The provider refused the credentials (HTTP ${status})${hint}.`,
      {
        ...details,
        retryable: false,
      },
    );
  }
  const said = safeMessage(error.message, context);
  if (status === 429) {
    return failure('provider_rate_limited', `The provider is rate limiting (HTTP 429): ${said}`, {
      ...details,
      retryable: true,
    });
  }
  if (status >= 500 || error.isRetryable) {
    return failure(
      'provider_unavailable',
      `The provider failed (HTTP ${status}): ${said}`,
      details,
    );
  }
  return failure(
    'provider_rejected',
    `The provider rejected the request (HTTP ${status}): ${said}`,
    details,
  );
}

/** An error a provider streams mid-answer: Anthropic's `{ type, message }`, OpenAI's `{ message, type, code }`. */
interface StreamErrorObject {
  message: string;
  type?: unknown;
  code?: unknown;
}

function isStreamErrorObject(error: unknown): error is StreamErrorObject {
  return (
    typeof error === 'object' &&
    error !== null &&
    !(error instanceof Error) &&
    typeof (error as { message?: unknown }).message === 'string'
  );
}

function fromStreamError(error: StreamErrorObject, context: ProviderErrorContext): ParleyError {
  const kind = [error.type, error.code].filter((value) => typeof value === 'string').join(' ');
  const said = safeMessage(error.message, context);
  if (/rate_limit/.test(kind)) {
    return failure('provider_rate_limited', `The provider is rate limiting: ${said}`, {
      retryable: true,
    });
  }
  if (/authentication|permission|invalid_api_key/.test(kind)) {
    const hint =
      context.credentialVariable === undefined ? '' : `; check ${context.credentialVariable}`;
    return failure('provider_rejected', `The provider refused the credentials${hint}.`, {
      retryable: false,
    });
  }
  if (/invalid_request|not_found|request_too_large/.test(kind)) {
    return failure('provider_rejected', `The provider rejected the request: ${said}`, {
      retryable: false,
    });
  }
  return failure('provider_unavailable', `The provider failed: ${said}`, { retryable: true });
}

function failure(code: ErrorCode, message: string, details: ProviderErrorDetails): ParleyError {
  return new ParleyError(code, message, { details: { ...details } });
}

/** The provider's message without any secret, cut to a readable length. */
function safeMessage(message: string, context: ProviderErrorContext): string {
  let safe = message;
  for (const secret of context.secrets) {
    if (secret !== '') safe = safe.split(secret).join('[redacted]');
  }
  return safe.length > MAX_PROVIDER_MESSAGE ? `${safe.slice(0, MAX_PROVIDER_MESSAGE)}…` : safe;
}

/** The first network error code along an error's `cause` chain (fetch wraps undici's). */
function findNetworkCode(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  let current = error;
  while (current instanceof Error && !seen.has(current)) {
    seen.add(current);
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
    // undici ends a body cut mid-stream with TypeError('terminated'), its socket error as cause.
    if (current.message === 'terminated' && current.cause === undefined) return 'terminated';
    current = current.cause;
  }
  return undefined;
}
