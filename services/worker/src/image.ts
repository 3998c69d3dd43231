import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  ImageNotFoundError,
  InvalidImageError,
  type ImageContentType,
  type ImageInput,
} from '@mc-vision/core';

export interface ImageSource {
  s3: S3Client;
  bucket: string;
  /** Larger objects are refused before they are downloaded: SageMaker Serverless takes at most 4 MB. */
  maxBytes: number;
}

/** Reads an image from the images bucket; a missing object is an `ImageNotFound`, a non-image an `InvalidImage`. */
export async function readImage(source: ImageSource, key: string): Promise<ImageInput> {
  let object;
  try {
    object = await source.s3.send(new GetObjectCommand({ Bucket: source.bucket, Key: key }));
  } catch (error) {
    if (error instanceof Error && error.name === 'NoSuchKey') {
      throw new ImageNotFoundError(`no image at ${key}`, { cause: error });
    }
    throw error;
  }
  if (object.ContentLength !== undefined && object.ContentLength > source.maxBytes) {
    // Release the connection without downloading the body.
    await object.Body?.transformToWebStream()
      .cancel()
      .catch(() => undefined);
    throw new InvalidImageError(`${key} is ${object.ContentLength} bytes, more than ${source.maxBytes}`);
  }
  const bytes = (await object.Body?.transformToByteArray()) ?? new Uint8Array();
  if (bytes.byteLength > source.maxBytes) {
    throw new InvalidImageError(`${key} is ${bytes.byteLength} bytes, more than ${source.maxBytes}`);
  }
  // The bytes decide, not the stored ContentType: an upload may label an image octet-stream, or a non-image
  // image/jpeg, and the three formats the providers take are told apart by their first bytes alone.
  const contentType = sniffContentType(bytes);
  if (!contentType) throw new InvalidImageError(`${key} is not a JPEG, PNG or WebP image`);
  return { bytes, contentType };
}

/** The image type its first bytes announce, if it is one the providers take. */
export function sniffContentType(bytes: Uint8Array): ImageContentType | undefined {
  const startsWith = (signature: number[], offset = 0) =>
    bytes.length >= offset + signature.length && signature.every((byte, i) => bytes[offset + i] === byte);
  if (startsWith([0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (startsWith([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (startsWith([0x52, 0x49, 0x46, 0x46]) && startsWith([0x57, 0x45, 0x42, 0x50], 8)) return 'image/webp';
  return undefined;
}
