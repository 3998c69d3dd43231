import { InvalidImageError } from '@mc-vision/core/errors';
import type { ErrorCode } from '@mc-vision/core/schemas';

export type ImageRejection = {
  status: 413 | 415 | 422;
  code: Extract<ErrorCode, 'payload_too_large' | 'unsupported_media_type' | 'undecodable_image'>;
};

/** The caller's image cannot be classified: too large, not a JPEG/PNG/WebP, or broken. Maps to a 4xx. */
export class ImageRejectedError extends InvalidImageError {
  readonly status: ImageRejection['status'];
  readonly code: ImageRejection['code'];

  constructor(rejection: ImageRejection, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.status = rejection.status;
    this.code = rejection.code;
  }
}

export const tooLarge = { status: 413, code: 'payload_too_large' } as const;
export const unsupported = { status: 415, code: 'unsupported_media_type' } as const;
export const undecodable = { status: 422, code: 'undecodable_image' } as const;

/** A model package that must not be served: bad manifest, wrong checksum, labels that do not fit the model. */
export class ModelPackageError extends Error {
  override readonly name = 'ModelPackageError';
}
