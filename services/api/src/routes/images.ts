import { PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import {
  imageContentTypes,
  imageResponseSchema,
  uploadRequestSchema,
  uploadResponseSchema,
  type ImageContentType,
} from '@mc-vision/core';
import express, { Router } from 'express';
import { randomUUID } from 'node:crypto';
import type { RouteDependencies } from '../deps.ts';
import { ApiError } from '../errors.ts';
import { imageExtensions, inspectImage, storeImage } from '../images.ts';
import { jsonBody, parseInput, sendValidated } from '../validation.ts';

/** Headers a presigned PUT must send as given: S3 refuses the upload if either differs from what was signed. */
const signedUploadHeaders = new Set(['content-type', 'content-length']);

export function imageRoutes({ config, s3 }: RouteDependencies): Router {
  const router = Router();
  const limits = { maxBytes: config.MAX_IMAGE_BYTES, maxPixels: config.MAX_IMAGE_PIXELS };
  const tooLarge = () =>
    new ApiError(413, 'payload_too_large', `images are limited to ${config.MAX_IMAGE_BYTES} bytes`);

  router.post(
    '/v1/images',
    (req, _res, next) => {
      // The declared type is checked before a byte is read; the bytes must then agree with it.
      const declared = req.is([...imageContentTypes]);
      if (declared === null) throw new ApiError(400, 'invalid_request', 'the body must be the image bytes');
      if (!declared) {
        throw new ApiError(
          415,
          'unsupported_media_type',
          `content-type must be one of ${imageContentTypes.join(', ')}`,
        );
      }
      next();
    },
    // Compressed bodies are refused (415): the byte limit must hold for what is stored.
    express.raw({ type: () => true, limit: config.MAX_IMAGE_BYTES, inflate: false }),
    async (req, res) => {
      const bytes: unknown = req.body;
      if (!Buffer.isBuffer(bytes) || bytes.length === 0) {
        throw new ApiError(400, 'invalid_request', 'the body must be the image bytes');
      }
      const declared = req.is([...imageContentTypes]) as ImageContentType;
      const image = await inspectImage(bytes, limits, declared);
      const stored = await storeImage(s3, config.IMAGES_BUCKET, bytes, image);
      sendValidated(res, 201, imageResponseSchema, stored);
    },
  );

  router.post('/v1/uploads', ...jsonBody, async (req, res) => {
    const { contentType, contentLength } = parseInput(uploadRequestSchema, req.body, 'body');
    if (contentLength > config.MAX_IMAGE_BYTES) throw tooLarge();
    const key = `images/${randomUUID()}.${imageExtensions[contentType]}`;
    const signedAt = new Date();
    const expiresIn = config.UPLOAD_URL_TTL_SECONDS;
    const url = await getSignedUrl(
      s3,
      new PutObjectCommand({
        Bucket: config.IMAGES_BUCKET,
        Key: key,
        ContentType: contentType,
        ContentLength: contentLength,
      }),
      { expiresIn, signingDate: signedAt, signableHeaders: signedUploadHeaders },
    );
    sendValidated(res, 200, uploadResponseSchema, {
      key,
      url,
      headers: { 'content-type': contentType, 'content-length': String(contentLength) },
      expiresAt: new Date(signedAt.getTime() + expiresIn * 1000).toISOString(),
    });
  });

  return router;
}
