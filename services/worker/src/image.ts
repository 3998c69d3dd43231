import { GetObjectCommand, type GetObjectCommandOutput, type S3Client } from '@aws-sdk/client-s3';
import {
  ImageChangedError,
  ImageNotFoundError,
  ImageUnavailableError,
  InvalidImageError,
  sniffImageType,
  type ImageInput,
} from '@mc-vision/core';
import { LRUCache } from 'lru-cache';

export interface ImageSource {
  s3: S3Client;
  bucket: string;
  /** Larger objects are refused before they are downloaded: SageMaker Serverless takes at most 4 MB. */
  maxBytes: number;
  /** Versions of images this worker has read (`recentImages`), by key and ETag. */
  recent: LRUCache<string, ImageInput>;
}

/**
 * Memory for the images a worker has read, at most `maxBytes` of them, least recently used first out. A
 * pipeline's three tasks read one version of one image (its `imageETag`): a worker (a Lambda container, or the
 * local cloud) that ran one of them answers the others without reading S3 again. A version never changes, so
 * what is kept is never stale.
 */
export function recentImages(maxBytes = 32 * 1024 * 1024): LRUCache<string, ImageInput> {
  return new LRUCache({ maxSize: maxBytes, sizeCalculation: (image) => Math.max(1, image.bytes.byteLength) });
}

/** Releases the connection without downloading the body. */
async function discard(object: GetObjectCommandOutput): Promise<void> {
  await object.Body?.transformToWebStream()
    .cancel()
    .catch(() => undefined);
}

/**
 * Reads an image from the images bucket: the version `eTag` names when it is given (the pipeline's
 * `imageETag`), from the worker's memory if it has read it already. A missing object is an `ImageNotFound`, one
 * overwritten since the pipeline started an `ImageChanged` and a non-image an `InvalidImage` (all final); a read
 * that failed on the way (throttled, 5xx, timeout, connection lost) is an `ImageUnavailable`, which the pipeline
 * retries.
 */
export async function readImage(source: ImageSource, key: string, eTag?: string): Promise<ImageInput> {
  const version = eTag === undefined ? undefined : `${eTag} ${key}`;
  const kept = version === undefined ? undefined : source.recent.get(version);
  if (kept) return kept;
  let object;
  try {
    object = await source.s3.send(new GetObjectCommand({ Bucket: source.bucket, Key: key }));
  } catch (error) {
    if (error instanceof Error && error.name === 'NoSuchKey') {
      throw new ImageNotFoundError(`no image at ${key}`, { cause: error });
    }
    throw s3ReadError(key, error);
  }
  // Compared here rather than sent as If-Match, so the message can say what happened.
  if (eTag !== undefined && object.ETag !== eTag) {
    await discard(object);
    throw new ImageChangedError(`${key} was replaced after the pipeline started`);
  }
  if (object.ContentLength !== undefined && object.ContentLength > source.maxBytes) {
    await discard(object);
    throw new InvalidImageError(`${key} is ${object.ContentLength} bytes, more than ${source.maxBytes}`);
  }
  let bytes: Uint8Array;
  try {
    bytes = (await object.Body?.transformToByteArray()) ?? new Uint8Array();
  } catch (error) {
    // The connection broke while the body was streaming.
    throw new ImageUnavailableError(`${key} could not be read from the images bucket (body)`, {
      cause: error,
    });
  }
  if (bytes.byteLength > source.maxBytes) {
    throw new InvalidImageError(`${key} is ${bytes.byteLength} bytes, more than ${source.maxBytes}`);
  }
  // The bytes decide, not the stored ContentType: an upload may label an image octet-stream, or a non-image
  // image/jpeg.
  const contentType = sniffImageType(bytes);
  if (!contentType) throw new InvalidImageError(`${key} is not a JPEG, PNG or WebP image`);
  const image = { bytes, contentType };
  if (version !== undefined) source.recent.set(version, image);
  return image;
}

interface S3ErrorShape {
  name?: unknown;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number };
}

/** S3 answers these with a 4xx, yet they pass: S3 asks us to slow down, or the connection was too slow. */
const transientClientCodes = ['SlowDown', 'RequestTimeout', 'ThrottlingException', 'TooManyRequests'];

/**
 * A failed GetObject, named for the pipeline with a message of ours (S3's own text can name the role and
 * account). Transient failures, and failures with no answer from S3 at all (timeouts, lost connections), are
 * an `ImageUnavailable`; any other answer (AccessDenied, a missing bucket) is a deployment problem that a
 * retry will not fix, so it keeps S3's error code as its name and is caught at once.
 */
function s3ReadError(key: string, error: unknown): Error {
  const s3 = (typeof error === 'object' && error !== null ? error : {}) as S3ErrorShape;
  const code =
    typeof s3.name === 'string' && /^[A-Za-z][A-Za-z0-9.]{0,63}$/.test(s3.name) ? s3.name : 'Error';
  const status = s3.$metadata?.httpStatusCode;
  const message = `${key} could not be read from the images bucket (${code})`;
  if (
    status === undefined ||
    status >= 500 ||
    s3.$fault === 'server' ||
    transientClientCodes.includes(code)
  ) {
    return new ImageUnavailableError(message, { cause: error });
  }
  const permanent = new Error(message, { cause: error });
  permanent.name = code;
  return permanent;
}
