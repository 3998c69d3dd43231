import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Logger } from '@aws-lambda-powertools/logger';
import {
  buildResultRecord,
  createSfnClient,
  loadConfig,
  ResultsStore,
  pipelineStartResponseSchema,
  pipelineStatusResponseSchema,
  type Config,
  type PipelineStatusResponse,
} from '@mc-vision/core';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { setTimeout as sleep } from 'node:timers/promises';
import { startApiServer, type ApiServer } from '../src/index.ts';
import { apiClient, expectError, type ApiClient } from './support/http.ts';
import { pelican } from './support/images.ts';
import { startLocalAws, type LocalAws } from './support/local-aws.ts';
import { namedError as named, startLocalPipeline, type LocalPipeline } from './support/pipeline.ts';
import { startLocalProviders, type LocalProviders } from './support/providers.ts';

// The pipeline routes against the project's Step Functions endpoint running the real pipeline definition with
// the worker's real task handler (see support/pipeline.ts), dynalite, s3rver, the real classifier and the
// Bedrock and Azure OpenAI emulators.

const apiKey = 'pipeline-test-key-0123456789';

let aws: LocalAws;
let pipeline: LocalPipeline;
let providers: LocalProviders;
let server: ApiServer;
let api: ApiClient;
let config: Config;
let imageKey: string;
let otherImageKey: string;

beforeAll(async () => {
  [aws, providers] = await Promise.all([startLocalAws(), startLocalProviders()]);
  const base = loadConfig({ ...aws.env, ...providers.env, DATA_DIR: aws.dataDir, API_KEY: apiKey });
  pipeline = await startLocalPipeline(base, aws.clients(base).dynamodb);
  config = loadConfig({
    ...aws.env,
    ...providers.env,
    DATA_DIR: aws.dataDir,
    API_KEY: apiKey,
    SFN_ENDPOINT: pipeline.stepFunctions.url,
  });
  server = await startApiServer({ config, port: 0, logger: new Logger({ logLevel: 'SILENT' }) });
  api = apiClient(server.url, apiKey);
  const upload = (bytes: Uint8Array) =>
    api
      .post('/v1/images', bytes, { headers: { 'content-type': 'image/jpeg' } })
      .then((r) => r.body.key as string);
  imageKey = await upload(pelican);
  otherImageKey = await upload(Buffer.concat([pelican, Buffer.from('trailing bytes make another hash')]));
}, 60_000);

afterAll(async () => {
  await server?.close();
  await pipeline?.close();
  await providers?.close();
  await aws?.close();
});

async function start(
  body: object,
): Promise<{ status: number; started: ReturnType<typeof pipelineStartResponseSchema.parse> }> {
  const response = await api.post('/v1/pipelines', body);
  expect([200, 202]).toContain(response.status);
  return { status: response.status, started: pipelineStartResponseSchema.parse(response.body) };
}

async function status(executionId: string): Promise<PipelineStatusResponse> {
  const response = await api.get(`/v1/pipelines/${encodeURIComponent(executionId)}`);
  expect(response.status).toBe(200);
  return pipelineStatusResponseSchema.parse(response.body);
}

async function finished(executionId: string): Promise<PipelineStatusResponse> {
  for (let i = 0; i < 200; i++) {
    const current = await status(executionId);
    if (current.status !== 'RUNNING') return current;
    await sleep(25);
  }
  throw new Error(`${executionId} still running`);
}

const stepsOf = (response: PipelineStatusResponse) =>
  Object.fromEntries(response.steps.map(({ name, status: s, attempts: a }) => [name, `${s}/${a}`]));

describe('POST /v1/pipelines and GET /v1/pipelines/{executionId}', () => {
  it('starts an execution named after the requestId and reports every step and the stored record', async () => {
    const { status: code, started } = await start({ key: imageKey, requestId: 'pipeline-ok-1' });
    expect(code).toBe(202);
    expect(started).toEqual({
      requestId: 'pipeline-ok-1',
      executionId: 'arn:aws:states:us-east-1:000000000000:execution:mc-vision-pipeline:pipeline-ok-1',
      status: 'RUNNING',
    });

    const done = await finished(started.executionId);
    expect(done).toMatchObject({
      executionId: started.executionId,
      requestId: 'pipeline-ok-1',
      status: 'SUCCEEDED',
    });
    expect(stepsOf(done)).toEqual({
      Classify: 'succeeded/1',
      DescribeWithBedrock: 'succeeded/1',
      DescribeWithAzure: 'succeeded/1',
      BuildRecord: 'succeeded/1',
      SaveResult: 'succeeded/1',
      Notify: 'succeeded/1',
    });
    for (const step of done.steps)
      expect(Date.parse(step.endedAt!)).toBeGreaterThanOrEqual(Date.parse(step.startedAt!));
    expect(Date.parse(done.stoppedAt!)).toBeGreaterThanOrEqual(Date.parse(done.startedAt));
    expect(done.output).toMatchObject({
      requestId: 'pipeline-ok-1',
      imageKey,
      source: 'pipeline',
      status: 'complete',
    });
    expect((await api.get('/v1/results/pipeline-ok-1')).body).toEqual(done.output);

    // The bare execution name works as well as the ARN.
    expect(await status('pipeline-ok-1')).toEqual(done);
  });

  it('starts the execution on the version of the image it found, so every step reads that one', async () => {
    const { started } = await start({ key: imageKey, requestId: 'pipeline-pinned-1' });
    const { s3 } = aws.clients(config);
    const head = await s3.send(new HeadObjectCommand({ Bucket: config.IMAGES_BUCKET, Key: imageKey }));
    const sfn = createSfnClient(config);
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn: started.executionId }));
    sfn.destroy();
    expect(JSON.parse(execution.input!)).toEqual({
      requestId: 'pipeline-pinned-1',
      imageKey,
      imageETag: head.ETag,
    });
    expect((await finished(started.executionId)).status).toBe('SUCCEEDED');
  });

  it('shows progress while running: a running step, the ones after it pending, no output yet', async () => {
    pipeline.scenarios.set('pipeline-slow-1', { hold: ['DescribeWithAzure'] });
    const { started } = await start({ key: imageKey, requestId: 'pipeline-slow-1' });
    let running: PipelineStatusResponse | undefined;
    const stepStatus = (name: string) => running?.steps.find((s) => s.name === name)?.status;
    for (
      let i = 0;
      i < 200 &&
      (stepStatus('DescribeWithAzure') !== 'running' || stepStatus('DescribeWithBedrock') !== 'succeeded');
      i++
    ) {
      running = await status(started.executionId);
      await sleep(20);
    }
    expect(running?.status).toBe('RUNNING');
    expect(stepsOf(running!)).toEqual({
      Classify: 'succeeded/1',
      DescribeWithBedrock: 'succeeded/1',
      DescribeWithAzure: 'running/1',
      BuildRecord: 'pending/0',
      SaveResult: 'pending/0',
      Notify: 'pending/0',
    });
    expect(running?.output).toBeUndefined();
    expect(running?.stoppedAt).toBeUndefined();
    pipeline.release();
    expect((await finished(started.executionId)).status).toBe('SUCCEEDED');
  });

  it('returns the same execution for the same requestId and key, running or finished', async () => {
    pipeline.scenarios.set('pipeline-again-1', { hold: ['Classify'] });
    const first = await start({ key: imageKey, requestId: 'pipeline-again-1' });
    const whileRunning = await start({ key: imageKey, requestId: 'pipeline-again-1' });
    expect(whileRunning).toEqual({ status: 202, started: first.started });
    pipeline.release();
    await finished(first.started.executionId);
    const afterwards = await start({ key: imageKey, requestId: 'pipeline-again-1' });
    expect(afterwards).toEqual({ status: 200, started: { ...first.started, status: 'SUCCEEDED' } });
    expect(pipeline.attempts.get('pipeline-again-1/Classify')).toBe(1);
  });

  it('refuses the same requestId with another image (409), running or finished', async () => {
    pipeline.scenarios.set('pipeline-clash-1', { hold: ['Classify'] });
    const { started } = await start({ key: imageKey, requestId: 'pipeline-clash-1' });
    const running = await api.post('/v1/pipelines', { key: otherImageKey, requestId: 'pipeline-clash-1' });
    expect(expectError(running, 409, 'conflict')).toMatch(
      /pipeline-clash-1 already names a pipeline for another image/,
    );
    pipeline.release();
    await finished(started.executionId);
    expectError(
      await api.post('/v1/pipelines', { key: otherImageKey, requestId: 'pipeline-clash-1' }),
      409,
      'conflict',
    );
  });

  it('refuses a requestId that already names an analysis (409) and starts nothing', async () => {
    const store = new ResultsStore(aws.clients(config).dynamodb, config.RESULTS_TABLE);
    const analysis = buildResultRecord({
      requestId: 'analysis-first-1',
      imageKey,
      source: 'analysis',
      results: {},
      ttlDays: 1,
    });
    await store.create(analysis);
    const response = await api.post('/v1/pipelines', { key: imageKey, requestId: 'analysis-first-1' });
    expect(expectError(response, 409, 'conflict')).toMatch(/analysis-first-1 already names an analysis/);
    expectError(await api.get('/v1/pipelines/analysis-first-1'), 404, 'not_found');
    expect(await store.get('analysis-first-1')).toEqual(analysis);
  });

  it('generates a requestId when none is given', async () => {
    const { started } = await start({ key: imageKey });
    expect(started.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(started.executionId.endsWith(`:${started.requestId}`)).toBe(true);
    expect((await finished(started.executionId)).output?.requestId).toBe(started.requestId);
  });

  it('counts retries as attempts and shows a caught provider failure with its error', async () => {
    pipeline.scenarios.set('pipeline-partial-1', {
      failures: {
        DescribeWithBedrock: { errors: [named('ProviderThrottled', 'bedrock is throttling requests')] },
        DescribeWithAzure: { errors: [named('ProviderModelError', 'azure refused the image')], always: true },
      },
    });
    const { started } = await start({ key: imageKey, requestId: 'pipeline-partial-1' });
    const done = await finished(started.executionId);
    expect(done.status).toBe('SUCCEEDED');
    expect(stepsOf(done)).toMatchObject({
      DescribeWithBedrock: 'succeeded/2',
      DescribeWithAzure: 'caught/1',
    });
    const azure = done.steps.find((s) => s.name === 'DescribeWithAzure');
    expect(azure?.error).toEqual({ code: 'ProviderModelError', message: 'azure refused the image' });
    expect(done.output).toMatchObject({
      status: 'partial',
      errors: { azure: { code: 'ProviderModelError' } },
    });
    expect(Object.keys(done.output!.results).sort()).toEqual(['bedrock', 'sagemaker']);
  });

  it("records Azure's content filter as the cloud would: the describer caught, GuardrailIntervened", async () => {
    await providers.fault('azure', { status: 400, type: 'content_filter' });
    const { started } = await start({ key: imageKey, requestId: 'pipeline-filtered-1' });
    const done = await finished(started.executionId);
    expect(done.status).toBe('SUCCEEDED');
    expect(stepsOf(done)).toMatchObject({
      DescribeWithAzure: 'caught/1',
      DescribeWithBedrock: 'succeeded/1',
    });
    expect(done.output).toMatchObject({
      status: 'partial',
      errors: {
        azure: {
          code: 'GuardrailIntervened',
          message: 'azure: the content filter blocked the request: hate high (400 content_filter)',
        },
      },
    });
  });

  it('reports a step that failed the execution, and the execution error, with no output', async () => {
    pipeline.scenarios.set('pipeline-failed-1', {
      failures: {
        SaveResult: {
          errors: [named('DynamoDB.ResourceNotFoundException', 'Requested resource not found')],
          always: true,
        },
      },
    });
    const { started } = await start({ key: imageKey, requestId: 'pipeline-failed-1' });
    const done = await finished(started.executionId);
    expect(done.status).toBe('FAILED');
    expect(stepsOf(done)).toEqual({
      Classify: 'succeeded/1',
      DescribeWithBedrock: 'succeeded/1',
      DescribeWithAzure: 'succeeded/1',
      BuildRecord: 'succeeded/1',
      SaveResult: 'failed/1',
      Notify: 'pending/0',
    });
    expect(done.steps.find((s) => s.name === 'SaveResult')?.error).toEqual({
      code: 'DynamoDB.ResourceNotFoundException',
      message: 'Requested resource not found',
    });
    expect(done.error?.code).toBe('DynamoDB.ResourceNotFoundException');
    expect(done.output).toBeUndefined();
    expectError(await api.get('/v1/results/pipeline-failed-1'), 404, 'not_found');
  });

  it('answers 404 for an image that is not stored, without starting anything', async () => {
    const response = await api.post('/v1/pipelines', {
      key: 'images/not-there.jpg',
      requestId: 'pipeline-no-image',
    });
    expectError(response, 404, 'not_found');
    expectError(await api.get('/v1/pipelines/pipeline-no-image'), 404, 'not_found');
  });

  it('answers 404 for unknown executions and other state machines’ ARNs, 400 for malformed ids', async () => {
    expectError(await api.get('/v1/pipelines/never-started'), 404, 'not_found');
    const foreign = 'arn:aws:states:us-east-1:000000000000:execution:another-machine:pipeline-ok-1';
    expectError(await api.get(`/v1/pipelines/${foreign}`), 404, 'not_found');
    expect(expectError(await api.get('/v1/pipelines/bad.name'), 400, 'invalid_request')).toMatch(
      /^path\.executionId: /,
    );
  });

  it('names invalid input (400) and refuses non-JSON (415)', async () => {
    expect(expectError(await api.post('/v1/pipelines', { requestId: 'x' }), 400, 'invalid_request')).toMatch(
      /^body\.key: /,
    );
    const badId = await api.post('/v1/pipelines', { key: imageKey, requestId: 'has spaces' });
    expect(expectError(badId, 400, 'invalid_request')).toMatch(/^body\.requestId: /);
    const form = await api.post('/v1/pipelines', `key=${imageKey}`, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expectError(form, 415, 'unsupported_media_type');
  });

  it('answers 503 when the state machine is not deployed or Step Functions is unreachable', async () => {
    const missingMachine = await startApiServer({
      config: loadConfig({
        ...aws.env,
        DATA_DIR: aws.dataDir,
        API_KEY: apiKey,
        SFN_ENDPOINT: pipeline.stepFunctions.url,
        STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:000000000000:stateMachine:not-deployed',
      }),
      port: 0,
      logger: new Logger({ logLevel: 'SILENT' }),
    });
    const closed = await startApiServer({
      config: loadConfig({
        ...aws.env,
        DATA_DIR: aws.dataDir,
        API_KEY: apiKey,
        SFN_ENDPOINT: 'http://127.0.0.1:9',
      }),
      port: 0,
      logger: new Logger({ logLevel: 'SILENT' }),
    });
    try {
      const body = { key: imageKey };
      expectError(await apiClient(missingMachine.url, apiKey).post('/v1/pipelines', body), 503, 'not_ready');
      expectError(await apiClient(closed.url, apiKey).post('/v1/pipelines', body), 503, 'not_ready');
      expectError(await apiClient(closed.url, apiKey).get('/v1/pipelines/pipeline-ok-1'), 503, 'not_ready');
    } finally {
      await Promise.all([missingMachine.close(), closed.close()]);
    }
  });
});

describe('GET /health with every dependency up', () => {
  it('answers 200 ok with each component up', async () => {
    const response = await api.get('/health', { apiKey: null });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      status: 'ok',
      mode: 'local',
      version: '0.1.0',
      components: {
        imagesBucket: { status: 'up' },
        resultsTable: { status: 'up' },
        stateMachine: { status: 'up' },
        classifier: { status: 'up', detail: 'model darknet-tiny' },
      },
    });
  });
});

describe('one record per requestId: analyses and pipelines never share one', () => {
  const analysis = (requestId: string) =>
    api.post('/v1/analyses', { key: imageKey, providers: ['sagemaker'], requestId });

  it('refuses an analysis or a routed request under the requestId of a running pipeline (409)', async () => {
    pipeline.scenarios.set('shared-running-1', { hold: ['Classify'] });
    const { started } = await start({ key: imageKey, requestId: 'shared-running-1' });
    try {
      expect(expectError(await analysis('shared-running-1'), 409, 'conflict')).toBe(
        'requestId shared-running-1 already names a pipeline execution',
      );
      const routed = await api.post('/v1/route', {
        key: imageKey,
        policy: 'cost',
        requestId: 'shared-running-1',
      });
      expectError(routed, 409, 'conflict');
    } finally {
      pipeline.release();
    }
    const done = await finished(started.executionId);
    // The pipeline's record is the one stored.
    expect(done.output).toMatchObject({ requestId: 'shared-running-1', source: 'pipeline' });
    expect((await api.get('/v1/results/shared-running-1')).body.source).toBe('pipeline');
  });

  it('refuses an analysis under the requestId of a pipeline that failed without a record (409)', async () => {
    pipeline.scenarios.set('shared-failed-1', {
      failures: { SaveResult: { errors: [named('DynamoDB.InternalServerError', 'down')], always: true } },
    });
    const { started } = await start({ key: imageKey, requestId: 'shared-failed-1' });
    expect((await finished(started.executionId)).status).toBe('FAILED');
    expectError(await analysis('shared-failed-1'), 409, 'conflict');
    expectError(await api.get('/v1/results/shared-failed-1'), 404, 'not_found');
  });

  it('runs an analysis under a requestId no execution has', async () => {
    const response = await analysis('analysis-only-1');
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ requestId: 'analysis-only-1', source: 'analysis' });
  });

  it("shows no output for an execution whose requestId's record is not the pipeline's", async () => {
    pipeline.scenarios.set('shared-record-1', {
      failures: { SaveResult: { errors: [named('DynamoDB.InternalServerError', 'down')], always: true } },
    });
    const { started } = await start({ key: imageKey, requestId: 'shared-record-1' });
    expect((await finished(started.executionId)).status).toBe('FAILED');
    // An analysis record under the same id (written before these checks existed, or by a race).
    const store = new ResultsStore(aws.clients(config).dynamodb, config.RESULTS_TABLE);
    await store.create(
      buildResultRecord({
        requestId: 'shared-record-1',
        imageKey,
        source: 'analysis',
        results: {},
        ttlDays: 1,
      }),
    );
    const shown = await status(started.executionId);
    expect(shown.status).toBe('FAILED');
    expect(shown.output).toBeUndefined();
  });
});
