import { describe, expect, it } from '@jest/globals';
import {
  analysisRequestSchema,
  imageKeySchema,
  pipelineRequestSchema,
  requestIdSchema,
  resultRecordSchema,
  resultsQuerySchema,
  routeRequestSchema,
  uploadRequestSchema,
  type ResultRecord,
} from '../../src/index.ts';

// The API's request schemas and the result record: what callers may send, and what may be stored.

const messages = (result: { success: boolean; error?: { issues: { message: string }[] } }) =>
  result.error?.issues.map((issue) => issue.message) ?? [];

describe('image keys', () => {
  it('take keys under images/, nested or not', () => {
    for (const key of ['images/a.jpg', 'images/2026/06/01/pelican.jpeg', 'images/abc_DEF-1.2.webp']) {
      expect(imageKeySchema.safeParse(key).success).toBe(true);
    }
  });

  it('refuse keys outside images/ and every path trick', () => {
    for (const key of [
      '../secrets.txt',
      'images/../models/model.tar.gz',
      'images/./a.jpg',
      'images/a/../../b.jpg',
      '/images/a.jpg',
      'images//a.jpg',
      'images/',
      'images/.hidden',
      'images/a b.jpg',
      'images\\a.jpg',
      'models/resnet.tar.gz',
      `images/${'a'.repeat(600)}.jpg`,
    ]) {
      expect({ key, ok: imageKeySchema.safeParse(key).success }).toEqual({ key, ok: false });
    }
    expect(messages(imageKeySchema.safeParse('../x'))).toEqual(['must be a key under images/']);
  });
});

describe('request ids', () => {
  it("keep to the Step Functions execution name's alphabet and length", () => {
    for (const id of ['a', 'req-1', 'Req_2026_06_01', 'x'.repeat(64)]) {
      expect(requestIdSchema.safeParse(id).success).toBe(true);
    }
    for (const id of [
      '',
      '-leading',
      '_leading',
      'has space',
      'semi;colon',
      'slash/y',
      'ümlaut',
      'x'.repeat(65),
    ]) {
      expect({ id, ok: requestIdSchema.safeParse(id).success }).toEqual({ id, ok: false });
    }
  });
});

describe('API requests', () => {
  it('take an analysis of some providers, each at most once', () => {
    expect(analysisRequestSchema.parse({ key: 'images/a.jpg' })).toEqual({ key: 'images/a.jpg' });
    expect(
      analysisRequestSchema.parse({
        key: 'images/a.jpg',
        providers: ['azure', 'sagemaker'],
        requestId: 'r-1',
      }),
    ).toEqual({ key: 'images/a.jpg', providers: ['azure', 'sagemaker'], requestId: 'r-1' });
    const repeated = analysisRequestSchema.safeParse({ key: 'images/a.jpg', providers: ['azure', 'azure'] });
    expect(messages(repeated)).toEqual(['providers must not repeat']);
    expect(analysisRequestSchema.safeParse({ key: 'images/a.jpg', providers: [] }).success).toBe(false);
    expect(analysisRequestSchema.safeParse({ key: 'images/a.jpg', providers: ['openai'] }).success).toBe(
      false,
    );
  });

  it('take a route policy, a pipeline request and an upload of a supported type', () => {
    expect(routeRequestSchema.safeParse({ key: 'images/a.jpg', policy: 'cost' }).success).toBe(true);
    expect(routeRequestSchema.safeParse({ key: 'images/a.jpg', policy: 'cheapest' }).success).toBe(false);
    expect(pipelineRequestSchema.safeParse({ key: 'images/a.jpg', requestId: 'bad id' }).success).toBe(false);
    expect(uploadRequestSchema.safeParse({ contentType: 'image/png', contentLength: 10 }).success).toBe(true);
    expect(uploadRequestSchema.safeParse({ contentType: 'image/gif', contentLength: 10 }).success).toBe(
      false,
    );
    expect(uploadRequestSchema.safeParse({ contentType: 'image/png', contentLength: 0 }).success).toBe(false);
  });

  it('page results 1-100 at a time, 20 by default', () => {
    expect(resultsQuerySchema.parse({})).toEqual({ limit: 20 });
    expect(resultsQuerySchema.parse({ limit: '100', nextToken: 'abc' })).toEqual({
      limit: 100,
      nextToken: 'abc',
    });
    for (const limit of ['0', '101', '2.5', 'ten']) {
      expect(resultsQuerySchema.safeParse({ limit }).success).toBe(false);
    }
  });
});

describe('result records', () => {
  const record: ResultRecord = {
    requestId: 'req-1',
    imageKey: 'images/a.jpg',
    source: 'pipeline',
    status: 'partial',
    createdAt: '2026-06-01T12:00:00.000Z',
    expiresAt: 1_783_000_000,
    results: { sagemaker: { model: 'resnet18', labels: [{ label: 'pelican', score: 0.9 }], latencyMs: 12 } },
    errors: { bedrock: { code: 'ProviderThrottled', message: 'bedrock: throttled (ThrottlingException)' } },
  };

  it('accept a record as the contract describes it', () => {
    expect(resultRecordSchema.parse(record)).toEqual(record);
  });

  it.each([
    ['an unknown status', { status: 'done' }],
    ['an unknown source', { source: 'cron' }],
    ['a key outside images/', { imageKey: '../a.jpg' }],
    ['a createdAt that is not an ISO time', { createdAt: 'yesterday' }],
    ['a fractional expiresAt', { expiresAt: 1.5 }],
    [
      'a score above 1',
      { results: { sagemaker: { model: 'm', labels: [{ label: 'x', score: 1.2 }], latencyMs: 1 } } },
    ],
    ['an error for an unknown provider', { errors: { openai: { code: 'X', message: 'y' } } }],
    ['an error without a message', { errors: { azure: { code: 'X' } } }],
  ])('refuse %s', (_what, change) => {
    expect(resultRecordSchema.safeParse({ ...record, ...change }).success).toBe(false);
  });
});
