import { APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import {
  GuardrailIntervenedError,
  InvalidImageError,
  ProviderError,
  ProviderModelError,
  ProviderThrottledError,
  ProviderUnavailableError,
} from '../errors.ts';
import type { ProviderName } from '../schemas.ts';

// One place that turns whatever an SDK threw into a named error Step Functions can match. The AWS SDKs
// name service errors after the service's error code (`ThrottlingException`, `ModelError`) and keep the HTTP
// response on `$response`; `openai` throws `APIError`s carrying the status and headers.
//
// The message of a mapped error is ours: the provider, a category and the service's error code
// (`bedrock: access denied (AccessDeniedException)`). The service's own text can name our account, roles and
// resources ("User: arn:aws:sts::123456789012:assumed-role/… is not authorized"), so it stays in `cause`,
// which the API and the worker log and never return or store.

const throttlingCodes = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'TooManyRequests',
  'RequestLimitExceeded',
  'ServiceQuotaExceededException',
]);

const unavailableCodes = new Set([
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalServerException',
  'InternalServerError',
  'InternalFailure',
  'InternalDependencyException',
  'InternalStreamFailure',
  'ModelNotReadyException',
  'ModelTimeoutException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'AbortError',
]);

// The caller's credentials or permissions were refused: a deployment problem, not the model's.
const accessDeniedCodes = new Set([
  'AccessDeniedException',
  'AccessDenied',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'MissingAuthenticationTokenException',
  'ExpiredTokenException',
  'InvalidClientTokenId',
]);

const notFoundCodes = new Set(['ResourceNotFoundException', 'NotFound', 'NoSuchKey']);

// Connection-level failures (Node's `code`): the service was not reached, or went away mid-answer.
const networkCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
]);

type HeaderBag = Headers | Record<string, string | undefined> | undefined;

function header(headers: HeaderBag, name: string): string | undefined {
  if (!headers) return undefined;
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
}

/** Seconds to wait from `retry-after-ms` or `retry-after` (delta-seconds or an HTTP date), rounded up. */
export function retryAfterSeconds(headers: HeaderBag, now: number = Date.now()): number | undefined {
  const ms = Number(header(headers, 'retry-after-ms'));
  if (header(headers, 'retry-after-ms') !== undefined && Number.isFinite(ms) && ms >= 0) {
    return Math.ceil(ms / 1000);
  }
  const value = header(headers, 'retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value));
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}

interface AwsErrorShape {
  name?: string;
  code?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number };
  $response?: { statusCode?: number; headers?: Record<string, string> };
}

/** An error code safe to repeat in a message: an identifier, never free text. */
function errorCode(code: unknown): string | undefined {
  return typeof code === 'string' && /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/.test(code) ? code : undefined;
}

/**
 * What a 4xx means to whoever reads the record: refused credentials, a missing resource (endpoint, model,
 * deployment), the model failing on this input, or a request the service would not take.
 */
function clientFailure(code: string | undefined, status: number | undefined): string {
  if ((code && accessDeniedCodes.has(code)) || status === 401 || status === 403) return 'access denied';
  if ((code && notFoundCodes.has(code)) || status === 404) return 'not found';
  if (code === 'ModelError' || code === 'ModelStreamErrorException') return 'model error';
  return 'request rejected';
}

/**
 * Maps any failure of a provider call to one of core's named errors. Named errors pass through unchanged;
 * an unrecognised failure counts as "unavailable" (retryable) rather than as the model's fault.
 */
export function toProviderError(provider: ProviderName, error: unknown): ProviderError | InvalidImageError {
  if (error instanceof ProviderError || error instanceof InvalidImageError) return error;

  if (error instanceof APIError) return fromOpenAiError(provider, error);

  const aws = (typeof error === 'object' && error !== null ? error : {}) as AwsErrorShape;
  const name = errorCode(aws.name) ?? 'Error';
  const network = aws.code !== undefined && networkCodes.has(aws.code) ? aws.code : undefined;
  const statusCode = aws.$metadata?.httpStatusCode ?? aws.$response?.statusCode;
  const options = { cause: error, statusCode, retryAfterSeconds: retryAfterSeconds(aws.$response?.headers) };
  const text = (category: string) => `${provider}: ${category} (${network ?? name})`;

  // Error codes first: some services answer a not-ready model with 429, and that is not throttling.
  if (throttlingCodes.has(name) || (!unavailableCodes.has(name) && statusCode === 429)) {
    return new ProviderThrottledError(provider, text('throttled'), options);
  }
  if (
    unavailableCodes.has(name) ||
    network !== undefined ||
    (statusCode !== undefined && statusCode >= 500) ||
    aws.$fault === 'server'
  ) {
    return new ProviderUnavailableError(provider, text('unavailable'), options);
  }
  if ((statusCode !== undefined && statusCode >= 400) || aws.$fault === 'client') {
    return new ProviderModelError(provider, text(clientFailure(name, statusCode)), options);
  }
  return new ProviderUnavailableError(provider, text('call failed'), options);
}

/**
 * What Azure's content filter flagged, from its verdict (a choice's `content_filter_results`, a 400's
 * `innererror.content_filter_result`): `["violence high", "jailbreak"]`. Only category names and severities are
 * kept, never text.
 */
export function filteredCategories(results: unknown): string[] {
  if (typeof results !== 'object' || results === null) return [];
  return Object.entries(results as Record<string, { filtered?: unknown; severity?: unknown }>).flatMap(
    ([category, verdict]) => {
      if (!/^[a-z_]{1,40}$/.test(category) || verdict?.filtered !== true) return [];
      const severity = verdict.severity;
      return [
        typeof severity === 'string' && /^(low|medium|high)$/.test(severity)
          ? `${category} ${severity}`
          : category,
      ];
    },
  );
}

function fromOpenAiError(provider: ProviderName, error: APIError): ProviderError {
  const status = error.status;
  const options = { cause: error, statusCode: status, retryAfterSeconds: retryAfterSeconds(error.headers) };
  const code = errorCode(error.code);
  const noResponse =
    error instanceof APIConnectionTimeoutError
      ? 'timed out'
      : error instanceof APIUserAbortError
        ? 'aborted'
        : 'no response';
  const text = (category: string) =>
    `${provider}: ${category} (${[status ?? noResponse, code].filter(Boolean).join(' ')})`;

  if (status === 429) return new ProviderThrottledError(provider, text('throttled'), options);
  // Azure's own content filter rejects a prompt with 400 `content_filter`: a guardrail decision, not a bug.
  if (status === 400 && error.code === 'content_filter') {
    const verdict = (error.error as { innererror?: { content_filter_result?: unknown } } | undefined)
      ?.innererror;
    const flagged = filteredCategories(verdict?.content_filter_result);
    const category = `the content filter blocked the request${flagged.length > 0 ? `: ${flagged.join(', ')}` : ''}`;
    return new GuardrailIntervenedError(provider, text(category), options);
  }
  // No status: a timeout, an abort or a connection failure ("Request timed out.", "Connection error.").
  if (status === undefined || status >= 500 || status === 408) {
    return new ProviderUnavailableError(provider, text('unavailable'), options);
  }
  return new ProviderModelError(provider, text(clientFailure(code, status)), options);
}

/** Runs a provider call, rethrowing any failure as a named error. */
export async function mapProviderErrors<T>(provider: ProviderName, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toProviderError(provider, error);
  }
}
