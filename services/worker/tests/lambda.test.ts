import { afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Context } from 'aws-lambda';
import type * as LambdaEntries from '../src/lambda.ts';

// The Lambda entries' wiring: Powertools logs (JSON lines with the Lambda request id and the pipeline's
// requestId) and EMF metrics, around the same handlers the other tests exercise.

// Imported once the environment is set: the module loads its configuration when it is first imported.
let entries: typeof LambdaEntries;

beforeAll(async () => {
  process.env.SERVICE_NAME = 'mc-vision-worker-test';
  entries = await import('../src/lambda.ts');
});

afterEach(() => {
  jest.restoreAllMocks();
});

const context = {
  functionName: 'mc-vision-worker',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:mc-vision-worker',
  memoryLimitInMB: '1024',
  awsRequestId: 'lambda-req-1',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

/** Runs `work` and returns every JSON line it wrote (Powertools writes warnings and errors to stderr). */
async function jsonLines(work: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const written: string[] = [];
  for (const stream of [process.stdout, process.stderr]) {
    jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
  }
  try {
    await work();
  } finally {
    jest.restoreAllMocks();
  }
  return written
    .join('')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function metric(lines: Record<string, unknown>[], name: string) {
  return lines.find((line) => name in line && '_aws' in line);
}

describe('taskHandler', () => {
  it('logs and counts a failed task, and rethrows its named error', async () => {
    let thrown: unknown;
    const lines = await jsonLines(() =>
      entries
        .taskHandler({ task: 'classify', requestId: 'req-9' }, context)
        .catch((error) => (thrown = error)),
    );
    expect((thrown as Error).name).toBe('InvalidTaskInput');

    const logged = lines.find((line) => line.message === 'task failed');
    expect(logged).toMatchObject({
      level: 'ERROR',
      service: 'mc-vision-worker-test',
      function_request_id: 'lambda-req-1',
      task: 'classify',
      requestId: 'req-9',
      error: { name: 'InvalidTaskInput' },
    });
    const emf = metric(lines, 'TaskFailed');
    expect(emf).toMatchObject({ TaskFailed: 1, task: 'classify', service: 'mc-vision-worker-test' });
    expect(typeof emf?.TaskLatency).toBe('number');
    expect(JSON.stringify(emf?._aws)).toContain('"Namespace":"MCVision"');
  });
});

describe('ingestHandler', () => {
  it('logs each object and counts it', async () => {
    const event = {
      Records: [
        {
          eventName: 'ObjectCreated:Put',
          eventTime: '2025-06-01T12:00:00.000Z',
          s3: { bucket: { name: 'mc-vision-images' }, object: { key: 'images/a.jpeg', size: 10, eTag: 'e' } },
        },
        { broken: true },
      ],
    };
    let summary: unknown;
    const lines = await jsonLines(async () => (summary = await entries.ingestHandler(event, context)));
    expect(summary).toEqual({ records: 2, logged: 1, skipped: 1 });
    expect(lines.filter((line) => line.message === 'image uploaded')).toHaveLength(1);
    expect(metric(lines, 'ImagesIngested')).toMatchObject({ ImagesIngested: 1, IngestRecordsSkipped: 1 });
  });
});
