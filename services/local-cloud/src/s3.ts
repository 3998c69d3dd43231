// s3rver and dynalite ship no types. Ours are referenced here, not only listed in tsconfig, so that packages
// that type-check this one (web's tests) see them too.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="../../../types/emulators.d.ts" />
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import S3rver from 's3rver';
import { z } from 'zod';
import { guardServer, notTheOwners, signatureProblem, xmlText } from './guard.ts';
import type { Component } from './server.ts';
import type { Credentials, SignatureProblem } from './sigv4.ts';

// S3 (s3rver) on loopback, objects kept as files under `dir`. In the cloud the images bucket notifies the
// ingest Lambda of every object created under `images/`; here s3rver's in-process events do, reshaped into
// the S3 event records Lambda receives (s3rver's keys are not URL-encoded; S3's are).

/** The bucket notification's filter in the cloud (infra's images bucket): objects under this prefix. */
export const ingestPrefix = 'images/';

/** The part of s3rver's event we read (it mimics S3's record, without the key encoding). */
const s3rverEventSchema = z.object({
  Records: z.array(
    z.object({
      eventName: z.string(),
      eventTime: z.string(),
      requestParameters: z.object({ sourceIPAddress: z.string().optional() }).optional(),
      s3: z.object({
        bucket: z.object({ name: z.string() }),
        object: z.object({
          key: z.string(),
          size: z.number().optional(),
          eTag: z.string().optional(),
          sequencer: z.string().optional(),
        }),
      }),
    }),
  ),
});

/** One record of an S3 event notification, as S3 delivers it to Lambda. */
export interface S3EventRecord {
  eventVersion: '2.1';
  eventSource: 'aws:s3';
  awsRegion: string;
  eventTime: string;
  eventName: string;
  userIdentity: { principalId: string };
  requestParameters: { sourceIPAddress: string };
  responseElements: { 'x-amz-request-id': string; 'x-amz-id-2': string };
  s3: {
    s3SchemaVersion: '1.0';
    configurationId: string;
    bucket: { name: string; ownerIdentity: { principalId: string }; arn: string };
    object: { key: string; size?: number; eTag?: string; sequencer: string };
  };
}

export interface S3Event {
  Records: S3EventRecord[];
}

/** S3 event keys are URL-encoded, `+` for a space, `(` as `%28`; the slashes between "folders" stay. */
export function encodeEventKey(key: string): string {
  return key
    .split('/')
    .map((part) =>
      encodeURIComponent(part)
        .replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`)
        .replace(/%20/g, '+'),
    )
    .join('/');
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex').toUpperCase();

/** s3rver's event → the ObjectCreated records under `images/` that the cloud's notification would deliver. */
export function toIngestEvent(raw: unknown, region: string): S3Event | undefined {
  const parsed = s3rverEventSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const records = parsed.data.Records.filter(
    (record) =>
      record.eventName.startsWith('ObjectCreated:') && record.s3.object.key.startsWith(ingestPrefix),
  ).map((record): S3EventRecord => ({
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: region,
    eventTime: record.eventTime,
    eventName: record.eventName,
    userIdentity: { principalId: 'AWS:LOCALCLOUD' },
    requestParameters: { sourceIPAddress: record.requestParameters?.sourceIPAddress ?? '127.0.0.1' },
    responseElements: { 'x-amz-request-id': hex(8), 'x-amz-id-2': randomBytes(32).toString('base64') },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'images-ingest',
      bucket: {
        name: record.s3.bucket.name,
        ownerIdentity: { principalId: 'LOCALCLOUD' },
        arn: `arn:aws:s3:::${record.s3.bucket.name}`,
      },
      object: {
        key: encodeEventKey(record.s3.object.key),
        ...(record.s3.object.size === undefined ? {} : { size: record.s3.object.size }),
        ...(record.s3.object.eTag === undefined ? {} : { eTag: record.s3.object.eTag }),
        sequencer: record.s3.object.sequencer ?? hex(8),
      },
    },
  }));
  return records.length > 0 ? { Records: records } : undefined;
}

export interface LocalS3Options {
  dir: string;
  bucket: string;
  region: string;
  /** Only requests signed with these (or URLs presigned with them) are served. */
  credentials: Credentials;
  /** Receives the ObjectCreated notifications for objects under `images/`. */
  onObjectCreated(event: S3Event): void;
}

/** S3's answers to a request it refuses. */
const refusals: Record<SignatureProblem, [string, string]> = {
  missing: ['AccessDenied', 'Access Denied'],
  malformed: ['AuthorizationQueryParametersError', 'The authorization of this request is malformed.'],
  unknownKey: ['InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.'],
  mismatch: [
    'SignatureDoesNotMatch',
    'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
  ],
  expired: ['AccessDenied', 'Request has expired'],
};

function refuse(res: ServerResponse, code: string, message: string): void {
  const body =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${code}</Code><Message>${xmlText(message)}</Message><RequestId>${hex(8)}</RequestId></Error>`;
  res.writeHead(403, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * S3 (s3rver) on loopback with the images bucket, serving only the owner's requests (loopback Host, no
 * foreign Origin) signed with `credentials`. S3 signs the body's hash as a header, so nothing is buffered.
 */
export async function startS3(options: LocalS3Options): Promise<Component> {
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: options.dir,
    configureBuckets: [{ name: options.bucket }],
  });
  server.on('event', (raw: unknown) => {
    const event = toIngestEvent(raw, options.region);
    if (event) options.onObjectCreated(event);
  });
  const { port } = await server.run();
  // Guarded before any request can arrive: `run` resolves as the server starts listening, and no request is
  // read until this function has returned to the event loop.
  guardServer(server.httpServer, async (req, res, pass) => {
    const foreign = notTheOwners(req);
    if (foreign) return refuse(res, 'AccessDenied', foreign);
    const problem = await signatureProblem(req, 's3', options.credentials);
    if (problem) return refuse(res, ...refusals[problem]);
    pass(req);
  });
  return {
    name: 's3',
    description: `s3rver, bucket ${options.bucket}`,
    url: `http://127.0.0.1:${port}`,
    close: () => server.close(),
  };
}
