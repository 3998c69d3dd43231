// s3rver and dynalite ship no types. Ours are referenced here, not only listed in tsconfig, so that packages
// that type-check this one (web's tests) see them too.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="../../../types/emulators.d.ts" />
import { randomBytes } from 'node:crypto';
import S3rver from 's3rver';
import { z } from 'zod';
import type { Component } from './server.ts';

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
  /** Receives the ObjectCreated notifications for objects under `images/`. */
  onObjectCreated(event: S3Event): void;
}

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
  return {
    name: 's3',
    description: `s3rver, bucket ${options.bucket}`,
    url: `http://127.0.0.1:${port}`,
    close: () => server.close(),
  };
}
