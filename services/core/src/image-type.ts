import type { ImageContentType } from './schemas.ts';

// The image types every provider takes, told apart by their first bytes alone. The API, the worker and the
// model server all decide by these bytes, never by a declared content type. No runtime imports: the model
// server loads this by subpath (`@mc-vision/core/image-type`) to keep its cold start small.

export type ImageFormat = 'jpeg' | 'png' | 'webp';

export const imageFormatContentTypes: Readonly<Record<ImageFormat, ImageContentType>> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
};

const startsWith = (bytes: Uint8Array, signature: readonly number[], offset = 0) =>
  bytes.length >= offset + signature.length && signature.every((byte, i) => bytes[offset + i] === byte);

/** The format the bytes' magic numbers announce, if it is JPEG, PNG or WebP. */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  // RIFF <size> WEBP
  if (startsWith(bytes, [0x52, 0x49, 0x46, 0x46]) && startsWith(bytes, [0x57, 0x45, 0x42, 0x50], 8)) {
    return 'webp';
  }
  return undefined;
}

/** The content type the bytes' magic numbers announce, if it is one the providers take. */
export function sniffImageType(bytes: Uint8Array): ImageContentType | undefined {
  const format = sniffImageFormat(bytes);
  return format === undefined ? undefined : imageFormatContentTypes[format];
}
