import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  ImageNotFoundError,
  InvalidImageError,
  loadSharp,
  sniffImageType,
  type ImageContentType,
  type ImageInput,
} from '@mc-vision/core';
import { createHash } from 'node:crypto';
import { ApiError } from './errors.ts';

export const imageExtensions: Record<ImageContentType, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
};

export interface ImageLimits {
  maxBytes: number;
  maxPixels: number;
}

export interface InspectedImage {
  contentType: ImageContentType;
  width: number;
  height: number;
}

const unsupportedImage = () =>
  new ApiError(415, 'unsupported_media_type', 'the image is not a JPEG, PNG or WebP file');

/**
 * Accepts only what every provider can read: a JPEG, PNG or WebP (by its bytes) within the byte limit whose
 * bitmap stays within the pixel limit (a small file can decode to a huge bitmap), decoded in full so truncated
 * or corrupt files are refused here rather than by a provider later.
 */
export async function inspectImage(
  bytes: Uint8Array,
  limits: ImageLimits,
  declared?: ImageContentType,
): Promise<InspectedImage> {
  if (bytes.length > limits.maxBytes) {
    throw new ApiError(413, 'payload_too_large', `the image is larger than ${limits.maxBytes} bytes`);
  }
  const contentType = sniffImageType(bytes);
  if (!contentType) throw unsupportedImage();
  if (declared && declared !== contentType) {
    throw new ApiError(
      415,
      'unsupported_media_type',
      `content-type says ${declared} but the body is ${contentType}`,
    );
  }
  const options = { limitInputPixels: limits.maxPixels, failOn: 'truncated' } as const;
  const sharp = await loadSharp();
  try {
    const { width, height } = await sharp(bytes, options).metadata();
    await sharp(bytes, options).stats(); // decodes every pixel
    return { contentType, width, height };
  } catch (error) {
    if (error instanceof Error && /pixel limit/i.test(error.message)) {
      throw new ApiError(413, 'payload_too_large', `the image has more than ${limits.maxPixels} pixels`);
    }
    throw new InvalidImageError(`the ${imageExtensions[contentType].toUpperCase()} image cannot be decoded`, {
      cause: error,
    });
  }
}

export interface StoredImage extends InspectedImage {
  key: string;
  sha256: string;
  bytes: number;
}

/** Stores under a content-hash key: the same bytes always land on the same key, so storing is idempotent. */
export async function storeImage(
  s3: S3Client,
  bucket: string,
  bytes: Uint8Array,
  image: InspectedImage,
): Promise<StoredImage> {
  const hash = createHash('sha256').update(bytes);
  const sha256 = hash.copy().digest('hex');
  const key = `images/${sha256}.${imageExtensions[image.contentType]}`;
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: bytes,
      ContentType: image.contentType,
      // S3 checks the bytes it received against this.
      ChecksumSHA256: hash.digest('base64'),
    }),
  );
  return { ...image, key, sha256, bytes: bytes.length };
}

const isMissing = (error: unknown) =>
  error instanceof Error && ['NoSuchKey', 'NotFound'].includes(error.name);

/** Reads an image the platform stored (or a presigned upload put there) and checks it like a direct upload. */
export async function loadImage(
  s3: S3Client,
  bucket: string,
  key: string,
  limits: ImageLimits,
): Promise<ImageInput> {
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if ((object.ContentLength ?? 0) > limits.maxBytes) {
      await object.Body?.transformToWebStream().cancel();
      throw new ApiError(413, 'payload_too_large', `the image is larger than ${limits.maxBytes} bytes`);
    }
    const bytes = await object.Body!.transformToByteArray();
    const { contentType } = await inspectImage(bytes, limits);
    return { bytes, contentType };
  } catch (error) {
    if (isMissing(error)) throw new ImageNotFoundError(`image ${key} not found`);
    throw error;
  }
}

/** The image's current version (its ETag), without downloading it; ImageNotFound when there is none. */
export async function imageVersion(s3: S3Client, bucket: string, key: string): Promise<string> {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    if (!head.ETag) throw new Error(`S3 answered HeadObject of ${key} without an ETag`);
    return head.ETag;
  } catch (error) {
    if (isMissing(error)) throw new ImageNotFoundError(`image ${key} not found`);
    throw error;
  }
}
