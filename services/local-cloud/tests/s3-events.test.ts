import { describe, expect, it } from '@jest/globals';
import { toIngestedObject } from '@mc-vision/worker';
import { encodeEventKey, toIngestEvent } from '../src/s3.ts';

// s3rver's in-process events become the records S3 delivers to Lambda: URL-encoded keys, only ObjectCreated
// under images/ (the cloud's notification filter).

const s3rverEvent = (eventName: string, key: string) => ({
  Records: [
    {
      eventVersion: '2.0',
      eventSource: 'aws:s3',
      eventTime: '2026-11-25T12:00:00.000Z',
      eventName,
      requestParameters: { sourceIPAddress: '127.0.0.1' },
      s3: {
        bucket: { name: 'mc-vision-images' },
        object: { key, size: 34_992, eTag: 'eb387ef2ec6eb7ba598eb070bf57eb38', sequencer: '19ABC' },
      },
    },
  ],
});

describe('S3 event records for the ingest handler', () => {
  it('encodes keys as S3 does, and the worker reads them back', () => {
    const key = 'images/a photo+1 (ü)&=?.jpg';
    expect(encodeEventKey(key)).toBe('images/a+photo%2B1+%28%C3%BC%29%26%3D%3F.jpg');
    const event = toIngestEvent(s3rverEvent('ObjectCreated:Put', key), 'eu-west-1')!;
    expect(event.Records).toHaveLength(1);
    const [record] = event.Records;
    expect(record).toMatchObject({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'eu-west-1',
      eventName: 'ObjectCreated:Put',
      s3: {
        bucket: { name: 'mc-vision-images', arn: 'arn:aws:s3:::mc-vision-images' },
        object: { key: encodeEventKey(key), size: 34_992, eTag: 'eb387ef2ec6eb7ba598eb070bf57eb38' },
      },
    });
    expect(toIngestedObject(record)).toEqual({
      bucket: 'mc-vision-images',
      key,
      size: 34_992,
      etag: 'eb387ef2ec6eb7ba598eb070bf57eb38',
      eventName: 'ObjectCreated:Put',
      eventTime: '2026-11-25T12:00:00.000Z',
    });
  });

  it('passes on only objects created under images/', () => {
    expect(toIngestEvent(s3rverEvent('ObjectRemoved:Delete', 'images/x.jpg'), 'us-east-1')).toBeUndefined();
    expect(
      toIngestEvent(s3rverEvent('ObjectCreated:Put', 'models/model.tar.gz'), 'us-east-1'),
    ).toBeUndefined();
    expect(
      toIngestEvent(s3rverEvent('ObjectCreated:Copy', 'images/x.jpg'), 'us-east-1')?.Records,
    ).toHaveLength(1);
    expect(toIngestEvent({ not: 'an event' }, 'us-east-1')).toBeUndefined();
  });
});
