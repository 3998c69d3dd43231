import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@aws-lambda-powertools/logger';
import { createIngestHandler, decodeKey, type IngestLogger } from '../src/index.ts';

function s3Record(key: string, overrides: Record<string, unknown> = {}) {
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    eventTime: '2025-06-01T12:00:00.000Z',
    eventName: 'ObjectCreated:Put',
    s3: {
      bucket: { name: 'mc-vision-images', arn: 'arn:aws:s3:::mc-vision-images' },
      object: { key, size: 34992, eTag: '0f343b0931126a20f133d67c2b018a3b', sequencer: '0A1B2C3D4E5F678901' },
    },
    ...overrides,
  };
}

function capturingLogger() {
  const lines: { level: 'info' | 'warn'; message: string; attributes: Record<string, unknown> }[] = [];
  const logger: IngestLogger = {
    info: (message, attributes) => lines.push({ level: 'info', message, attributes }),
    warn: (message, attributes) => lines.push({ level: 'warn', message, attributes }),
  };
  return { logger, lines };
}

describe('ingest handler', () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('logs one line per uploaded object with bucket, decoded key, size, etag and time', () => {
    const { logger, lines } = capturingLogger();
    const summary = createIngestHandler({ logger })({
      Records: [s3Record('images/pelican.jpeg'), s3Record('images/My+Holiday+%282025%29%2Bfinal.jpeg')],
    });

    expect(summary).toEqual({ records: 2, logged: 2, skipped: 0 });
    expect(lines).toEqual([
      {
        level: 'info',
        message: 'image uploaded',
        attributes: {
          bucket: 'mc-vision-images',
          key: 'images/pelican.jpeg',
          size: 34992,
          etag: '0f343b0931126a20f133d67c2b018a3b',
          eventName: 'ObjectCreated:Put',
          eventTime: '2025-06-01T12:00:00.000Z',
        },
      },
      expect.objectContaining({
        attributes: expect.objectContaining({ key: 'images/My Holiday (2025)+final.jpeg' }),
      }),
    ]);
  });

  it('skips a malformed record, logs why, and keeps the rest of the batch', () => {
    const { logger, lines } = capturingLogger();
    const summary = createIngestHandler({ logger })({
      Records: [
        s3Record('images/a.jpeg'),
        { eventName: 'ObjectCreated:Put', s3: { object: { key: 'images/b.jpeg' } } },
        s3Record('images/%E0%A4%A.jpeg'),
        null,
        s3Record('images/c.jpeg'),
      ],
    });

    expect(summary).toEqual({ records: 5, logged: 2, skipped: 3 });
    expect(lines.filter((line) => line.level === 'info').map((line) => line.attributes.key)).toEqual([
      'images/a.jpeg',
      'images/c.jpeg',
    ]);
    const warnings = lines.filter((line) => line.level === 'warn');
    expect(warnings.map((line) => line.attributes.index)).toEqual([1, 2, 3]);
    expect(warnings[0]!.attributes.reason).toContain('s3.bucket');
    expect(warnings[1]!.attributes.reason).toContain('URL-encoded');
  });

  it('never throws on an event that is not an S3 notification', () => {
    const { logger, lines } = capturingLogger();
    const handle = createIngestHandler({ logger });
    for (const event of [undefined, {}, { Records: 'nope' }, 'text']) {
      expect(handle(event)).toEqual({ records: 0, logged: 0, skipped: 0 });
    }
    expect(lines.every((line) => line.level === 'warn')).toBe(true);
  });

  it('writes each record as one JSON line through Powertools Logger', () => {
    const written: string[] = [];
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    const logger = new Logger({ serviceName: 'mc-vision-test' });
    createIngestHandler({ logger })({ Records: [s3Record('images/a+b.jpeg'), s3Record('images/c.jpeg')] });
    jest.restoreAllMocks();

    const lines = written.join('').trim().split('\n');
    expect(lines).toHaveLength(2);
    const first = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(first).toMatchObject({
      level: 'INFO',
      message: 'image uploaded',
      service: 'mc-vision-test',
      bucket: 'mc-vision-images',
      key: 'images/a b.jpeg',
      size: 34992,
      etag: '0f343b0931126a20f133d67c2b018a3b',
      eventTime: '2025-06-01T12:00:00.000Z',
    });
  });
});

describe('decodeKey', () => {
  it.each([
    ['images/a+b.jpeg', 'images/a b.jpeg'],
    ['images/a%2Bb.jpeg', 'images/a+b.jpeg'],
    ['images/caf%C3%A9.png', 'images/café.png'],
    ['images/plain.webp', 'images/plain.webp'],
  ])('decodes %s', (encoded, decoded) => {
    expect(decodeKey(encoded)).toBe(decoded);
  });

  it('gives up on broken percent-encoding', () => {
    expect(decodeKey('images/%E0%A4%A.jpeg')).toBeUndefined();
  });
});
