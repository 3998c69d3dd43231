import {
  GuardrailIntervenedError,
  ImageNotFoundError,
  InvalidImageError,
  InvalidPageTokenError,
  ProviderError,
  ProviderThrottledError,
  RecordExistsError,
} from '@mc-vision/core/errors';
import type { ErrorCode, ErrorResponse } from '@mc-vision/core/schemas';
import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import type { ZodError } from 'zod';
import { requestContext } from './request-context.ts';

/** An error the API answers with as is: status, contract code, a message safe to show the caller. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly status: number;
  readonly code: ErrorCode;
  readonly headers: Record<string, string>;

  constructor(status: number, code: ErrorCode, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

export const notFound = (what: string) => new ApiError(404, 'not_found', `${what} not found`);

/** Where a value came from, so a validation message names the field the caller has to fix. */
export type InputLocation = 'body' | 'query' | 'path';

export function invalidInput(location: InputLocation, error: ZodError): ApiError {
  const problems = error.issues.map((issue) => {
    const field = [location, ...issue.path.map(String)].join('.');
    return `${field}: ${issue.message}`;
  });
  return new ApiError(400, 'invalid_request', problems.join('; '));
}

/** Errors of the HTTP layer (body-parser and raw-body throw `http-errors`): a status, `expose`, a `type`. */
interface HttpLayerError {
  status: number;
  expose: boolean;
  limit?: number;
  type?: string;
  message: string;
}

function isHttpLayerError(error: unknown): error is HttpLayerError {
  const candidate = error as { status?: unknown; expose?: unknown } | null;
  return (
    typeof candidate?.status === 'number' &&
    candidate.status >= 400 &&
    candidate.status < 500 &&
    typeof candidate.expose === 'boolean'
  );
}

function fromHttpLayer(error: HttpLayerError): ApiError {
  switch (error.type) {
    case 'entity.parse.failed':
      return new ApiError(400, 'invalid_request', 'request body is not valid JSON');
    case 'entity.too.large':
      return new ApiError(413, 'payload_too_large', `the request body is larger than ${error.limit} bytes`);
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new ApiError(415, 'unsupported_media_type', error.message);
  }
  // `send` (static files, the UI's index.html) fails a missing file with a 404, not a bad request.
  if (error.status === 404) return new ApiError(404, 'not_found', 'not found');
  if (error.status === 413) return new ApiError(413, 'payload_too_large', 'request body is too large');
  if (error.status === 415) return new ApiError(415, 'unsupported_media_type', error.message);
  return new ApiError(400, 'invalid_request', error.expose ? error.message : 'invalid request');
}

/** Seconds a throttled caller should wait before trying again. */
function retryAfter(error: ProviderThrottledError): Record<string, string> {
  return { 'retry-after': String(Math.max(1, Math.ceil(error.retryAfterSeconds ?? 1))) };
}

export function fromProviderError(error: ProviderError): ApiError {
  if (error instanceof ProviderThrottledError) {
    return new ApiError(429, 'rate_limited', `${error.provider} is throttling requests`, retryAfter(error));
  }
  if (error instanceof GuardrailIntervenedError) {
    return new ApiError(502, 'provider_failed', `${error.provider}: the guardrail blocked the response`);
  }
  return new ApiError(502, 'provider_failed', error.message);
}

const networkCodes = [
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
];
const networkCodeInMessage = new RegExp(`\\b(${networkCodes.join('|')})\\b`);

/**
 * The socket error behind a failed call (`ECONNREFUSED`…), if that is what it was: on the error, on its
 * `cause` (fetch), or only in the message when the SDK wrapped an error it did not recognise as one.
 */
export function networkErrorCode(error: unknown): string | undefined {
  const failure = error as { code?: unknown; cause?: { code?: unknown }; message?: unknown } | null;
  for (const code of [failure?.code, failure?.cause?.code]) {
    if (typeof code === 'string' && networkCodes.includes(code)) return code;
  }
  return typeof failure?.message === 'string' ? networkCodeInMessage.exec(failure.message)?.[1] : undefined;
}

/** What an AWS SDK error says about itself: its name (the service's error code), fault and HTTP response. */
interface SdkError {
  name: string;
  $fault?: unknown;
  $metadata?: unknown;
  $response?: { headers?: Record<string, string | undefined> };
}

const isSdkError = (error: unknown): error is SdkError =>
  typeof (error as { name?: unknown } | null)?.name === 'string' &&
  (error as { $metadata?: unknown }).$metadata !== undefined;

/**
 * The service errors that mean our own account is over a rate or quota (DynamoDB, Step Functions, S3): the
 * request was fine and will work a little later, so the caller gets 429 with Retry-After, not a 5xx.
 * `ExecutionLimitExceeded` is Step Functions' cap on running executions.
 */
const throttlingErrorNames = [
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'ExecutionLimitExceeded',
  'SlowDown',
];

/** Seconds to wait before trying again: what the service said, else a short pause. */
const defaultThrottleRetryAfterSeconds = 2;

function throttled(error: SdkError): ApiError {
  const said = Number(error.$response?.headers?.['retry-after']);
  const seconds = Number.isFinite(said) && said > 0 ? Math.ceil(said) : defaultThrottleRetryAfterSeconds;
  return new ApiError(429, 'rate_limited', 'too many requests right now; try again shortly', {
    'retry-after': String(seconds),
  });
}

/**
 * Failures that mean a dependency is unreachable or failing on its side (connection refused, timeout, 5xx):
 * the API is not ready, the request was fine.
 */
function isDependencyUnavailable(error: unknown): boolean {
  if (networkErrorCode(error)) return true;
  const name = (error as { name?: unknown } | null)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return true;
  return isSdkError(error) && (error.$fault === 'server' || error.name === 'ServiceUnavailable');
}

/** Maps anything thrown to the answer the contract promises; `undefined` means unexpected (a 500). */
export function toApiError(error: unknown): ApiError | undefined {
  if (error instanceof ApiError) return error;
  if (error instanceof ProviderError) return fromProviderError(error);
  if (error instanceof ImageNotFoundError) return new ApiError(404, 'not_found', error.message);
  if (error instanceof InvalidImageError) return new ApiError(422, 'undecodable_image', error.message);
  if (error instanceof RecordExistsError) return new ApiError(409, 'conflict', error.message);
  if (error instanceof InvalidPageTokenError) return new ApiError(400, 'invalid_request', error.message);
  if (isHttpLayerError(error)) return fromHttpLayer(error);
  if (isSdkError(error) && throttlingErrorNames.includes(error.name)) return throttled(error);
  if (isDependencyUnavailable(error)) {
    return new ApiError(503, 'not_ready', 'a backing service is not reachable; try again shortly', {
      'retry-after': '5',
    });
  }
  return undefined;
}

export function sendError(res: Response, error: ApiError): void {
  const body: ErrorResponse = {
    error: { code: error.code, message: error.message, requestId: requestContext(res).requestId },
  };
  res.status(error.status).set(error.headers).json(body);
}

/** The one error handler: every failure leaves as the contract's JSON, never a stack trace or HTML. */
export const errorHandler: ErrorRequestHandler = (error: unknown, _req, res, _next) => {
  const known = toApiError(error);
  const context = requestContext(res);
  if (known) {
    if (known.status >= 500) context.logger.warn('request failed', { error: known.message, cause: error });
    context.error = known.code;
  } else {
    context.logger.error('unexpected error', error as Error);
    context.error = 'internal';
  }
  if (res.headersSent) {
    res.end();
    return;
  }
  sendError(res, known ?? new ApiError(500, 'internal', 'internal error'));
};

/** Anything no route matched: JSON 404, never Express's HTML page. */
export const notFoundHandler: RequestHandler = (req) => {
  throw new ApiError(404, 'not_found', `no route for ${req.method} ${req.path}`);
};
