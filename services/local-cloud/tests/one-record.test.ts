import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { createS3Client, createSfnClient, resultRecordSchema } from '@mc-vision/core';
import {
  startTestCloud,
  uploadPelican,
  waitForNotification,
  waitForPipeline,
  type ApiResponse,
  type TestCloud,
} from './support.ts';

// One record per requestId, for real: an analysis and a pipeline started with one requestId at the same moment
// each claim the requestId first (one conditional PutItem in DynamoDB, core's results store), so exactly one of
// them goes ahead and the other is answered 409 before it has done anything; and the pipeline's SaveResult
// writes only over its own claim, so even a pipeline that skipped the claim never replaces an analysis.

describe('one record per requestId', () => {
  let local: TestCloud;
  let key: string;

  beforeAll(async () => {
    local = await startTestCloud();
    key = await uploadPelican(local.api);
  }, 60_000);

  afterAll(async () => {
    await local?.close();
  });

  /** GET /v1/results/{id} until it answers 200 (the pipeline writes its record last). */
  async function storedRecord(requestId: string): Promise<ApiResponse['body']> {
    for (let attempt = 0; attempt < 300; attempt += 1) {
      const { status, body } = await local.api.get(`/v1/results/${requestId}`);
      if (status === 200) return body;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`no record for ${requestId}`);
  }

  it('lets exactly one of an analysis and a pipeline started at once have the requestId; the other gets 409', async () => {
    for (const requestId of ['race-1', 'race-2', 'race-3', 'race-4']) {
      // While both run, GET /v1/results never shows anything but nothing (404) or a whole record.
      const seen: ApiResponse[] = [];
      let racing = true;
      const watching = (async () => {
        while (racing) seen.push(await local.api.get(`/v1/results/${requestId}`));
      })();
      const [analysis, pipeline] = await Promise.all([
        local.api.post('/v1/analyses', { key, requestId }),
        local.api.post('/v1/pipelines', { key, requestId }),
      ]);
      const answers = [
        { flow: 'analysis', ...analysis },
        { flow: 'pipeline', ...pipeline },
      ];
      const refused = answers.filter((answer) => answer.status === 409);
      const winner = answers.find((answer) => answer.status !== 409)!;
      expect(refused).toHaveLength(1);
      expect(refused[0]!.body.error).toMatchObject({ code: 'conflict' });
      expect(refused[0]!.body.error.message).toMatch(
        new RegExp(`^requestId ${requestId} already names an? `),
      );
      expect(winner.status).toBe(winner.flow === 'analysis' ? 200 : 202);

      const record = await storedRecord(requestId);
      racing = false;
      await watching;
      expect(record).toMatchObject({ requestId, source: winner.flow, status: 'complete' });
      // An execution exists only when the pipeline won, and then its output is the record.
      const execution = await local.api.get(`/v1/pipelines/${requestId}`);
      expect(execution.status).toBe(winner.flow === 'pipeline' ? 200 : 404);
      expect(seen.filter((answer) => answer.status !== 200 && answer.status !== 404)).toEqual([]);
      const shown = seen
        .filter((answer) => answer.status === 200)
        .map((answer) => resultRecordSchema.parse(answer.body));
      expect(shown.map((shownRecord) => shownRecord.source)).toEqual(shown.map(() => winner.flow));
    }
    // No claim ever shows in the list either: only whole records, one per requestId.
    const listed = (await local.api.get('/v1/results?limit=50')).body.items as { requestId: string }[];
    expect(listed.map((item) => item.requestId).sort()).toEqual(['race-1', 'race-2', 'race-3', 'race-4']);
  }, 240_000);

  it('refuses the second of the two in either order, with the 409 the API tells', async () => {
    const analysed = await local.api.post('/v1/analyses', { key, requestId: 'analysis-then-pipeline' });
    expect(analysed.status).toBe(200);
    const late = await local.api.post('/v1/pipelines', { key, requestId: 'analysis-then-pipeline' });
    expect(late.status).toBe(409);
    expect(late.body.error.message).toBe('requestId analysis-then-pipeline already names an analysis');

    const started = await local.api.post('/v1/pipelines', { key, requestId: 'pipeline-then-analysis' });
    expect(started.status).toBe(202);
    const refused = await local.api.post('/v1/analyses', { key, requestId: 'pipeline-then-analysis' });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toBe(
      'requestId pipeline-then-analysis already names a pipeline execution',
    );
    expect((await waitForPipeline(local.api, 'pipeline-then-analysis')).status).toBe('SUCCEEDED');
    expect((await local.api.get('/v1/results/pipeline-then-analysis')).body.source).toBe('pipeline');
  }, 120_000);

  it("never replaces an analysis's record, even from a pipeline started around the API", async () => {
    const analysed = await local.api.post('/v1/analyses', { key, requestId: 'around-the-api' });
    expect(analysed.status).toBe(200);
    // Straight to Step Functions, without the API's claim: only SaveResult's condition stands in the way.
    const s3 = createS3Client(local.cloud.config);
    const { ETag } = await s3.send(
      new HeadObjectCommand({ Bucket: local.cloud.config.IMAGES_BUCKET, Key: key }),
    );
    s3.destroy();
    const sfn = createSfnClient(local.cloud.config);
    await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: local.cloud.config.STATE_MACHINE_ARN,
        name: 'around-the-api',
        input: JSON.stringify({ requestId: 'around-the-api', imageKey: key, imageETag: ETag }),
      }),
    );
    sfn.destroy();

    const finished = await waitForPipeline(local.api, 'around-the-api');
    expect(finished.status).toBe('FAILED');
    expect(finished.error.code).toBe('RecordExists');
    expect(finished.output).toBeUndefined();
    const steps = Object.fromEntries(
      finished.steps.map((step: { name: string; status: string }) => [step.name, step.status]),
    );
    expect(steps).toMatchObject({ BuildRecord: 'succeeded', SaveResult: 'failed', Notify: 'pending' });
    expect((await local.api.get('/v1/results/around-the-api')).body).toEqual(analysed.body);
    const notice = await waitForNotification(local.cloud, 'around-the-api');
    expect(notice.subject).toBe('MC Vision: pipeline failed for around-the-api');
    expect(notice.message).toContain('no result was saved (error RecordExists)');
  }, 120_000);
});
