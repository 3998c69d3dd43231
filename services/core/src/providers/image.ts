import type { Metadata } from 'sharp';
import { InvalidImageError } from '../errors.ts';
import { imageFormatContentTypes, type ImageFormat } from '../image-type.ts';
import { loadSharp } from '../sharp.ts';
import type { ImageInput } from './types.ts';

// Vision LLMs bill by image size and gain nothing from pixels beyond their own working resolution, so images are
// downsized before they are sent. The bytes' real format wins over the declared content type: a PNG uploaded as
// `image/jpeg` is sent, and labelled, as a PNG.

export interface PreparedImage extends ImageInput {
  format: ImageFormat;
  width: number;
  height: number;
}

export interface PrepareImageOptions {
  /** Longest edge allowed; larger images are scaled down to it, smaller ones are never scaled up. */
  maxEdge: number;
  /** Decompression-bomb guard: images with more pixels are rejected before they are decoded. */
  maxPixels?: number;
}

function isSupported(format: string): format is ImageFormat {
  return Object.hasOwn(imageFormatContentTypes, format);
}

/** Checks the image decodes as JPEG, PNG or WebP and scales it so its longest edge is at most `maxEdge`. */
export async function prepareImage(image: ImageInput, options: PrepareImageOptions): Promise<PreparedImage> {
  const { maxEdge, maxPixels } = options;
  const sharp = await loadSharp();
  let metadata: Metadata;
  try {
    metadata = await sharp(image.bytes).metadata();
  } catch (error) {
    throw new InvalidImageError('The image could not be decoded.', { cause: error });
  }
  const { format } = metadata;
  if (!isSupported(format)) {
    throw new InvalidImageError(`The image is ${format}, not JPEG, PNG or WebP.`);
  }
  if (maxPixels !== undefined && metadata.width * metadata.height > maxPixels) {
    throw new InvalidImageError(`The image has more than ${maxPixels} pixels.`);
  }

  // Orientation-aware size: what a viewer (and the model) sees.
  const { width, height } = metadata.autoOrient;
  if (Math.max(width, height) <= maxEdge) {
    return { bytes: image.bytes, contentType: imageFormatContentTypes[format], format, width, height };
  }

  try {
    const { data, info } = await sharp(image.bytes, { autoOrient: true })
      .resize({ width: maxEdge, height: maxEdge, fit: 'inside', withoutEnlargement: true })
      .toFormat(format, format === 'png' ? { compressionLevel: 9 } : { quality: 85 })
      .toBuffer({ resolveWithObject: true });
    return {
      bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      contentType: imageFormatContentTypes[format],
      format,
      width: info.width,
      height: info.height,
    };
  } catch (error) {
    throw new InvalidImageError('The image could not be decoded.', { cause: error });
  }
}
