import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ListExecutionsCommand, ListMapRunsCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { createS3Client, createSfnClient } from '@mc-vision/core';
import {
  allBatchItems,
  outbox,
  photoVariants,
  startTestCloud,
  waitForBatch,
  type TestCloud,
} from './support.ts';

// Batches on the local platform: the batch state machines (core's definition) in the Step Functions emulator,
// a Distributed Map whose children are the pipeline, the real classifier and the LLM emulators behind them.

async function putImages(
  s3: S3Client,
  bucket: string,
  prefix: string,
  images: Buffer[],
  name = (i: number) => `${String(i).padStart(4, '0')}.jpg`,
) {
  const keys = images.map((_image, index) => `${prefix}${name(index)}`);
  for (let offset = 0; offset < images.length; offset += 25) {
    await Promise.all(
      images.slice(offset, offset + 25).map((body, index) =>
        s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: keys[offset + index],
            Body: body,
            ContentType: 'image/jpeg',
          }),
        ),
      ),
    );
  }
  return keys;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the files' shapes are what the test checks
async function readJson(s3: S3Client, bucket: string, key: string): Promise<any> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return JSON.parse(await object.Body!.transformToString());
}

describe('a batch of 300 images', () => {
  let test: TestCloud;
  beforeAll(async () => {
    test = await startTestCloud({ env: { BATCH_MAX_CONCURRENCY: '10' } });
  }, 60_000);
  afterAll(() => test?.close(), 60_000);

  it('runs every image through the pipeline as one Distributed Map: 300 records, one summary, the results in S3', async () => {
    const { cloud, api } = test;
    const s3 = createS3Client(cloud.config);
    await putImages(s3, cloud.config.IMAGES_BUCKET, 'images/catalogue/', await photoVariants(300));

    const started = await api.post('/v1/batches', {
      prefix: 'images/catalogue/',
      requestId: 'catalogue-300',
    });
    expect(started).toEqual({
      status: 202,
      body: { batchId: 'catalogue-300', requestId: 'catalogue-300', status: 'RUNNING' },
    });
    // The same request again is the same batch.
    expect(
      (await api.post('/v1/batches', { prefix: 'images/catalogue/', requestId: 'catalogue-300' })).body
        .batchId,
    ).toBe('catalogue-300');

    const observed: { complete: number; running: number; total: number }[] = [];
    const done = await waitForBatch(api, 'catalogue-300', (body) => observed.push(body.counts));
    expect(done).toMatchObject({
      batchId: 'catalogue-300',
      status: 'SUCCEEDED',
      source: { prefix: 'images/catalogue/' },
      counts: { total: 300, complete: 300, partial: 0, failed: 0, running: 0 },
    });
    // The counts moved while it ran, and never went back.
    expect(observed.some((counts) => counts.complete > 0 && counts.complete < 300)).toBe(true);
    const completes = observed.map((counts) => counts.complete);
    expect(completes).toEqual([...completes].sort((a, b) => a - b));

    // 300 records, each an ordinary result record of its own image.
    const items = await allBatchItems(api, 'catalogue-300');
    expect(items).toHaveLength(300);
    expect(new Set(items.map((item) => item.key)).size).toBe(300);
    expect(new Set(items.map((item) => item.requestId)).size).toBe(300);
    expect(items.every((item) => item.status === 'complete' && item.labels.length > 0)).toBe(true);
    const record = await api.get(`/v1/results/${items[42].requestId}`);
    expect(record.status).toBe(200);
    expect(record.body).toMatchObject({
      imageKey: items[42].key,
      status: 'complete',
      batchId: 'catalogue-300',
      source: 'pipeline',
    });

    // One notification for the whole batch, none per image.
    const notifications = outbox(cloud);
    expect(notifications).toHaveLength(1);
    expect(notifications[0]!.subject).toBe('MC Vision: batch catalogue-300 succeeded, 300/300 done');
    expect(notifications[0]!.message).toContain('300 images: 300 complete, 0 partial, 0 failed.');

    // The ResultWriter's output: the manifest names the file of the 300 succeeded children.
    expect(done.results.bucket).toBe(cloud.config.IMAGES_BUCKET);
    const manifest = await readJson(s3, done.results.bucket, done.results.manifestKey);
    expect(manifest.DestinationBucket).toBe(cloud.config.IMAGES_BUCKET);
    expect(manifest.MapRunArn).toMatch(
      /^arn:aws:states:us-east-1:000000000000:mapRun:mc-vision-batch-prefix\/Images:/,
    );
    expect(manifest.ResultFiles.FAILED).toEqual([]);
    expect(manifest.ResultFiles.SUCCEEDED).toHaveLength(1);
    const succeeded = await readJson(s3, done.results.bucket, manifest.ResultFiles.SUCCEEDED[0].Key);
    expect(succeeded).toHaveLength(300);
    expect(JSON.parse(succeeded[0].Output)).toMatchObject({ status: 'complete' });
    expect(succeeded[0]).toMatchObject({ Status: 'SUCCEEDED', InputDetails: { Included: true } });

    // The map run ran at most MaxConcurrency children at once: its own record says 10, and its 300 children.
    const sfn = createSfnClient(cloud.config);
    const executionArn = `${cloud.config.BATCH_PREFIX_STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:catalogue-300`;
    const { mapRuns } = await sfn.send(new ListMapRunsCommand({ executionArn }));
    expect(mapRuns).toHaveLength(1);
    let children = 0;
    let token: string | undefined;
    do {
      const page = await sfn.send(
        new ListExecutionsCommand({ mapRunArn: mapRuns![0]!.mapRunArn, nextToken: token }),
      );
      children += page.executions!.filter((execution) => execution.status === 'SUCCEEDED').length;
      token = page.nextToken;
    } while (token);
    expect(children).toBe(300);
    sfn.destroy();
    s3.destroy();
  }, 600_000);
});

describe('a batch while Bedrock is down', () => {
  let test: TestCloud;
  beforeAll(async () => {
    // Nothing listens on port 9: every Bedrock call is refused, as a region outage would refuse it. Azure's
    // answers go through the Bedrock guardrail (ApplyGuardrail), so they fail with it; the classifier answers.
    test = await startTestCloud({
      env: { BEDROCK_RUNTIME_ENDPOINT: 'http://127.0.0.1:9' },
      retryIntervalOverrides: { DescribeWithBedrock: 0, DescribeWithAzure: 0 },
    });
  }, 60_000);
  afterAll(() => test?.close(), 60_000);

  it('records every item partial, and the summary says Bedrock (and the guardrail Azure needs) failed on each', async () => {
    const { cloud, api } = test;
    const keys: string[] = [];
    for (const image of await photoVariants(12)) {
      const uploaded = await api.post('/v1/images', image, 'image/jpeg');
      keys.push(uploaded.body.key);
    }
    const started = await api.post('/v1/batches', { keys, requestId: 'bedrock-down' });
    expect(started.status).toBe(202);
    const done = await waitForBatch(api, 'bedrock-down');
    expect(done).toMatchObject({
      status: 'SUCCEEDED',
      source: { keys: 12 },
      counts: { total: 12, complete: 0, partial: 12, failed: 0, running: 0 },
    });
    const items = await allBatchItems(api, 'bedrock-down');
    expect(items.map((item) => [item.status, item.errors])).toEqual(
      keys.map(() => ['partial', { bedrock: 'ProviderUnavailable', azure: 'ProviderUnavailable' }]),
    );
    const [summary] = outbox(cloud);
    expect(summary!.subject).toBe('MC Vision: batch bedrock-down succeeded, 12/12 done');
    expect(summary!.message).toContain('12 images: 0 complete, 12 partial, 0 failed.');
    expect(summary!.message).toContain('bedrock: error ProviderUnavailable on 12 items');
    expect(summary!.message).toContain('azure: error ProviderUnavailable on 12 items');
  }, 300_000);
});

describe('a batch with more failed items than it tolerates', () => {
  let test: TestCloud;
  beforeAll(async () => {
    // One child at a time: the items run in key order, so which fail and which never run is known.
    test = await startTestCloud({
      env: { BATCH_MAX_CONCURRENCY: '1', BATCH_TOLERATED_FAILURE_PERCENT: '10' },
    });
  }, 60_000);
  afterAll(() => test?.close(), 60_000);

  it('fails and says how many items failed; its failed images, fixed, run again as a batch of their own', async () => {
    const { cloud, api } = test;
    const s3 = createS3Client(cloud.config);
    const bucket = cloud.config.IMAGES_BUCKET;
    const photos = await photoVariants(10);
    // The last two are not images at all (their bytes were cut short): every provider fails on them.
    const broken = photos.slice(8).map((photo) => photo.subarray(0, 200));
    await putImages(s3, bucket, 'images/mixed/', [...photos.slice(0, 8), ...broken]);

    expect((await api.post('/v1/batches', { prefix: 'images/mixed/', requestId: 'mixed' })).status).toBe(202);
    const failed = await waitForBatch(api, 'mixed');
    // Item 9 is the second failure: 20% > 10%.
    expect(failed).toMatchObject({
      status: 'FAILED',
      counts: { total: 10, complete: 8, partial: 0, failed: 2, running: 0 },
      error: {
        code: 'States.ExceedToleratedFailureThreshold',
        message: '2 of 10 items failed, more than the 10% the batch tolerates.',
      },
      redrivable: false,
      redriveCount: 0,
    });
    const failedItems = await allBatchItems(api, 'mixed', '&status=failed');
    expect(failedItems.map((item) => item.key)).toEqual(['images/mixed/0008.jpg', 'images/mixed/0009.jpg']);
    const [summary] = outbox(cloud);
    expect(summary!.subject).toBe('MC Vision: batch mixed failed, 8/10 done');
    expect(summary!.message).toContain('2 of 10 items failed, more than the 10% the batch tolerates.');
    expect(summary!.message).toContain(
      'mixed-8: sagemaker ProviderModelError, bedrock InvalidImage, azure InvalidImage',
    );

    // Not redriven: a redrive would enter the BatchFailed Fail state again (the map run's failure was caught, to
    // send the summary), as Step Functions does. Their images run again as a batch of their own instead.
    const refused = await api.post('/v1/batches/mixed/redrive', {});
    expect(refused).toMatchObject({ status: 409, body: { error: { code: 'conflict' } } });
    expect(refused.body.error.message).toContain(
      'start a batch of its failed images (GET /v1/batches/mixed/items?status=failed)',
    );
    await putImages(
      s3,
      bucket,
      'images/mixed/',
      photos.slice(8),
      (i) => `${String(i + 8).padStart(4, '0')}.jpg`,
    );
    const retry = await api.post('/v1/batches', {
      keys: failedItems.map((item) => item.key),
      requestId: 'mixed-retry',
    });
    expect(retry.status).toBe(202);
    expect(await waitForBatch(api, 'mixed-retry')).toMatchObject({
      status: 'SUCCEEDED',
      counts: { total: 2, complete: 2, failed: 0 },
    });
    expect(outbox(cloud)).toHaveLength(2);
    s3.destroy();
  }, 300_000);

  it('redrives a stopped batch: the items that had not finished run, the finished ones do not run again', async () => {
    const { cloud, api } = test;
    const keys: string[] = [];
    for (const image of await photoVariants(6, 80))
      keys.push((await api.post('/v1/images', image, 'image/jpeg')).body.key);
    expect((await api.post('/v1/batches', { keys, requestId: 'stopped' })).status).toBe(202);
    await waitForBatch(
      api,
      'stopped',
      () => {},
      60_000,
      (body) => body.counts.complete >= 2,
    );
    const sfn = createSfnClient(cloud.config);
    const executionArn = `${cloud.config.BATCH_KEYS_STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:stopped`;
    await sfn.send(
      new StopExecutionCommand({ executionArn, error: 'Operator', cause: 'stopped by the test' }),
    );
    const stopped = await waitForBatch(api, 'stopped');
    expect(stopped).toMatchObject({ status: 'ABORTED', redrivable: true, error: { code: 'Operator' } });
    const finishedBefore = await allBatchItems(api, 'stopped');
    expect(finishedBefore.length).toBeGreaterThanOrEqual(2);
    expect(finishedBefore.length).toBeLessThan(6);
    const recordsBefore = await Promise.all(
      finishedBefore.map(async (item) => (await api.get(`/v1/results/${item.requestId}`)).body),
    );

    expect((await api.post('/v1/batches/stopped/redrive', {})).status).toBe(202);
    expect(await waitForBatch(api, 'stopped')).toMatchObject({
      status: 'SUCCEEDED',
      counts: { total: 6, complete: 6, failed: 0, running: 0 },
      redriveCount: 1,
    });
    // What had finished kept its record as it was (not made again); every image has one.
    for (const record of recordsBefore)
      expect((await api.get(`/v1/results/${record.requestId}`)).body).toEqual(record);
    expect((await allBatchItems(api, 'stopped')).map((item) => item.key).sort()).toEqual([...keys].sort());
    sfn.destroy();
  }, 300_000);
});
