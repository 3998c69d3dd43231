import { describe, expect, it } from '@jest/globals';
import { fromResultItem, parseTaskInput, type BuildRecordTask } from '@mc-vision/core';
import { buildPipelineRecord, errorInfoFromCaught } from '../src/index.ts';
import { description, pelicanLabels } from './support/fakes.ts';

const now = new Date('2025-06-01T12:00:00.000Z');

function task(outcomes: Record<string, unknown>): BuildRecordTask {
  return parseTaskInput({
    task: 'build-record',
    requestId: 'req-1',
    imageKey: 'images/pelican.jpeg',
    outcomes,
  }) as BuildRecordTask;
}

describe('errorInfoFromCaught', () => {
  it("keeps only the message of a Lambda runtime's JSON cause", () => {
    const cause = JSON.stringify({
      errorType: 'ProviderThrottled',
      errorMessage: 'azure: rate limited',
      trace: ['ProviderThrottled: azure: rate limited', '    at describe (/var/task/index.mjs:1:1)'],
    });
    expect(errorInfoFromCaught({ Error: 'ProviderThrottled', Cause: cause })).toEqual({
      code: 'ProviderThrottled',
      message: 'azure: rate limited',
    });
  });

  it('takes a plain cause as the message, and the error name when there is no cause', () => {
    expect(
      errorInfoFromCaught({ Error: 'States.Timeout', Cause: 'Task timed out after 90 seconds' }),
    ).toEqual({
      code: 'States.Timeout',
      message: 'Task timed out after 90 seconds',
    });
    expect(errorInfoFromCaught({ Error: 'States.Timeout' })).toEqual({
      code: 'States.Timeout',
      message: 'States.Timeout',
    });
  });

  it('shortens a long cause', () => {
    const message = errorInfoFromCaught({ Error: 'X', Cause: 'y'.repeat(5000) }).message;
    expect(message).toHaveLength(1000);
    expect(message.endsWith('…')).toBe(true);
  });
});

describe('buildPipelineRecord', () => {
  it('builds the record, its DynamoDB item and the notification from the three outcomes', () => {
    const output = buildPipelineRecord(
      task({
        sagemaker: { result: pelicanLabels },
        bedrock: { result: description('claude-3-haiku', 'A pelican.') },
        azure: { Error: 'ProviderThrottled', Cause: 'azure: rate limited' },
      }),
      { ttlDays: 7, now },
    );

    expect(output.record).toMatchObject({
      requestId: 'req-1',
      source: 'pipeline',
      status: 'partial',
      createdAt: now.toISOString(),
      expiresAt: now.getTime() / 1000 + 7 * 86_400,
      errors: { azure: { code: 'ProviderThrottled', message: 'azure: rate limited' } },
    });
    expect(fromResultItem(output.item as never)).toEqual(output.record);
    expect(output.notification.subject).toBe('MC Vision: partial result for req-1');
    expect(output.notification.message.split('\n').slice(0, 5)).toEqual([
      'MC Vision analysed images/pelican.jpeg (request req-1): partial, 2 of 3 providers answered.',
      '',
      'sagemaker (darknet-tiny): pelican 99%, spoonbill 0%',
      'bedrock (claude-3-haiku): A pelican. [pelican, bird]',
      'azure: FAILED (ProviderThrottled) azure: rate limited',
    ]);
  });

  it('keeps a subject within SNS limits for the longest requestId', () => {
    const longId = 'r'.repeat(64);
    const output = buildPipelineRecord(
      parseTaskInput({
        task: 'build-record',
        requestId: longId,
        imageKey: 'images/pelican.jpeg',
        outcomes: {
          sagemaker: { Error: 'A' },
          bedrock: { Error: 'B' },
          azure: { Error: 'C' },
        },
      }) as BuildRecordTask,
      { ttlDays: 1, now },
    );
    expect(output.record.status).toBe('failed');
    expect(output.notification.subject.length).toBeLessThanOrEqual(100);
    expect(output.notification.subject).toMatch(/^[\x20-\x7e]+$/);
  });
});
