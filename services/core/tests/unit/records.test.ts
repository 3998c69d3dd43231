import { describe, expect, it } from '@jest/globals';
import { buildResultRecord, resultRecordSchema, resultStatus, type Classification } from '../../src/index.ts';

const classification: Classification = {
  model: 'resnet18',
  labels: [{ label: 'pelican', score: 0.93 }],
  latencyMs: 40,
};
const now = new Date('2026-06-01T12:00:00.500Z');

describe('resultStatus', () => {
  it('is complete when every provider asked answered, failed when none did, partial in between', () => {
    expect(resultStatus(3, 0)).toBe('complete');
    expect(resultStatus(1, 0)).toBe('complete');
    expect(resultStatus(2, 1)).toBe('partial');
    expect(resultStatus(0, 2)).toBe('failed');
  });
});

describe('buildResultRecord', () => {
  const base = {
    requestId: 'req-1',
    imageKey: 'images/a.jpg',
    source: 'analysis' as const,
    ttlDays: 30,
    now,
  };

  it('builds a complete record without an errors field, expiring ttlDays later in epoch seconds', () => {
    const record = buildResultRecord({ ...base, results: { sagemaker: classification } });
    expect(record).toEqual({
      requestId: 'req-1',
      imageKey: 'images/a.jpg',
      source: 'analysis',
      status: 'complete',
      createdAt: '2026-06-01T12:00:00.500Z',
      expiresAt: Math.floor(now.getTime() / 1000) + 30 * 86_400,
      results: { sagemaker: classification },
    });
    expect(Number.isInteger(record.expiresAt)).toBe(true);
    expect(resultRecordSchema.parse(record)).toEqual(record);
  });

  it('keeps the errors of a partial or failed record', () => {
    const throttled = { code: 'ProviderThrottled', message: 'azure: throttled (429)' };
    const partial = buildResultRecord({
      ...base,
      results: { sagemaker: classification },
      errors: { azure: throttled },
    });
    expect(partial).toMatchObject({ status: 'partial', errors: { azure: throttled } });
    const failed = buildResultRecord({
      ...base,
      results: {},
      errors: { azure: throttled, bedrock: throttled },
    });
    expect(failed).toMatchObject({ status: 'failed', results: {} });
    expect(Object.keys(failed.errors ?? {}).sort()).toEqual(['azure', 'bedrock']);
  });

  it('counts neither an absent result nor an absent error', () => {
    const record = buildResultRecord({
      ...base,
      results: { sagemaker: classification, bedrock: undefined },
      errors: { azure: undefined },
    });
    expect(record.status).toBe('complete');
    expect(record.errors).toBeUndefined();
  });
});
