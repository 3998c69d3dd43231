import type { ProviderName } from './schemas.ts';

// Named failures. The `name` is what Step Functions' Retry/Catch `ErrorEquals` matches (Lambda reports a
// thrown error's name as its errorType), so these strings are part of the pipeline's contract.

export const ProviderErrorName = {
  Throttled: 'ProviderThrottled',
  Unavailable: 'ProviderUnavailable',
  ModelError: 'ProviderModelError',
  Misconfigured: 'ProviderMisconfigured',
  GuardrailIntervened: 'GuardrailIntervened',
  InvalidResponse: 'InvalidModelResponse',
} as const;
export type ProviderErrorName = (typeof ProviderErrorName)[keyof typeof ProviderErrorName];

/** Failures of the platform itself (not of a provider). */
export const PlatformErrorName = {
  ImageNotFound: 'ImageNotFound',
  InvalidImage: 'InvalidImage',
  ImageUnavailable: 'ImageUnavailable',
  ImageChanged: 'ImageChanged',
} as const;
export type PlatformErrorName = (typeof PlatformErrorName)[keyof typeof PlatformErrorName];

/**
 * The named errors worth another attempt, by how long to back off: the pipeline's Retry lists are built from
 * these (every other named error is caught and recorded at once).
 */
export const retryableErrors = {
  /** Someone is rate-limiting us: back off longer, try more often. */
  throttled: [ProviderErrorName.Throttled],
  /** Down, timed out or answered 5xx: a little later it may work. */
  transient: [ProviderErrorName.Unavailable, PlatformErrorName.ImageUnavailable],
} as const;

export interface ProviderErrorOptions {
  /** The upstream failure (its raw text is logged, never shown to callers or stored). */
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

/** The platform is not set up to call the provider (no key, an empty key secret): retrying will not help. */
export class ProviderMisconfiguredError extends ProviderError {
  override readonly name = ProviderErrorName.Misconfigured;
}

/** A guardrail blocked the input or output. */
export class GuardrailIntervenedError extends ProviderError {
  override readonly name = ProviderErrorName.GuardrailIntervened;
}

/** The model answered, but not in the shape we asked for. */
export class InvalidModelResponseError extends ProviderError {
  override readonly name = ProviderErrorName.InvalidResponse;
}

/** No object under the image key. */
export class ImageNotFoundError extends Error {
  override readonly name = PlatformErrorName.ImageNotFound;
}

/** The object is not an image the providers take (type, size, pixels, or it does not decode). */
export class InvalidImageError extends Error {
  override readonly name = PlatformErrorName.InvalidImage;
}

/** The image store could not be read just now (throttled, 5xx, timed out, connection lost): retryable. */
export class ImageUnavailableError extends Error {
  override readonly name = PlatformErrorName.ImageUnavailable;
}

/** The object under the key is no longer the version the pipeline started with (it was overwritten). */
export class ImageChangedError extends Error {
  override readonly name = PlatformErrorName.ImageChanged;
}

/** `ResultsStore.create`: a record with that requestId exists already. */
export class RecordExistsError extends Error {
  override readonly name = 'RecordExists';
}

/** `ResultsStore.list`: the page token is not one the store handed out. */
export class InvalidPageTokenError extends Error {
  override readonly name = 'InvalidPageToken';
}

/** `{code, message}` as stored in a result record's `errors`. */
export function toErrorInfo(error: unknown): { code: string; message: string } {
  if (error instanceof Error) return { code: error.name, message: error.message };
  return { code: 'Error', message: String(error) };
}
