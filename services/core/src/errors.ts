import type { ProviderName } from './schemas.ts';

// Named failures. The `name` is what Step Functions' Retry/Catch `ErrorEquals` matches (Lambda reports a
// thrown error's name as its errorType), so these strings are part of the pipeline's contract.

export const ProviderErrorName = {
  Throttled: 'ProviderThrottled',
  Unavailable: 'ProviderUnavailable',
  ModelError: 'ProviderModelError',
  GuardrailIntervened: 'GuardrailIntervened',
  InvalidResponse: 'InvalidModelResponse',
} as const;
export type ProviderErrorName = (typeof ProviderErrorName)[keyof typeof ProviderErrorName];

/** Errors worth another attempt: Step Functions retries these with backoff, the SDKs retry them too. */
export const retryableErrorNames: readonly string[] = [
  ProviderErrorName.Throttled,
  ProviderErrorName.Unavailable,
];

export interface ProviderErrorOptions {
  cause?: unknown;
  /** Seconds the service asked us to wait (HTTP `retry-after`), when it said. */
  retryAfterSeconds?: number;
  statusCode?: number;
}

export abstract class ProviderError extends Error {
  abstract override readonly name: ProviderErrorName;
  readonly provider: ProviderName;
  readonly retryAfterSeconds: number | undefined;
  readonly statusCode: number | undefined;

  constructor(provider: ProviderName, message: string, options: ProviderErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.provider = provider;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.statusCode = options.statusCode;
  }

  get retryable(): boolean {
    return retryableErrorNames.includes(this.name);
  }
}

/** The service is rate-limiting us (HTTP 429, ThrottlingException). */
export class ProviderThrottledError extends ProviderError {
  override readonly name = ProviderErrorName.Throttled;
}

/** The service is down, timed out or answered 5xx. */
export class ProviderUnavailableError extends ProviderError {
  override readonly name = ProviderErrorName.Unavailable;
}

/** The model itself failed on this input (4xx model error, content it refuses): retrying will not help. */
export class ProviderModelError extends ProviderError {
  override readonly name = ProviderErrorName.ModelError;
}

/** A guardrail blocked the input or output. */
export class GuardrailIntervenedError extends ProviderError {
  override readonly name = ProviderErrorName.GuardrailIntervened;
}

/** The model answered, but not in the shape we asked for. */
export class InvalidModelResponseError extends ProviderError {
  override readonly name = ProviderErrorName.InvalidResponse;
}

/** Errors of the platform itself (not of a provider), named for Step Functions as well. */
export class ImageNotFoundError extends Error {
  override readonly name = 'ImageNotFound';
}

export class InvalidImageError extends Error {
  override readonly name = 'InvalidImage';
}

/** `{code, message}` as stored in a result record's `errors`. */
export function toErrorInfo(error: unknown): { code: string; message: string } {
  if (error instanceof Error) return { code: error.name, message: error.message };
  return { code: 'Error', message: String(error) };
}
