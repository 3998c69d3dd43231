import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GetExecutionHistoryCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { createSfnClient } from '@mc-vision/core';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { repoRoot } from '../src/config.ts';
import type { OutboxEntry } from '../src/index.ts';
import { startTestCloud, walkthroughScript, type TestCloud } from './support.ts';

// The README's curl walkthrough, run as written (only the URL and the key swapped in) with bash and curl
// against the whole local cloud: real worker, real classifier, the LLM and guardrail emulators, Step Functions,
// DynamoDB, S3 with its ingest events and SNS with its outbox. Then the platform restarts on the same data.

const historyOf = async (sfn: SFNClient, executionArn: string) =>
  (await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }))).events ?? [];

describe('the local cloud, end to end', () => {
  let local: TestCloud;
  // What the walkthrough left behind, for the restart.
  let key: string;
  let requestId: string;
  let executionArn: string;
  let record: unknown;
  let pipelineStatus: { steps: unknown[] };
  let history: unknown[];

  beforeAll(async () => {
    local = await startTestCloud();
  }, 60_000);

  afterAll(async () => {
    await local?.close();
  });

  it('walks the README: upload, analyse with all three providers, route, run the pipeline, read the results', async () => {
    const { cloud, api, logs } = local;
    const script = walkthroughScript()
      .replace(/^API=http:\/\/127\.0\.0\.1:3000$/m, `API=${cloud.url}`)
      .replace(/^export API_KEY=.*$/m, `export API_KEY=${cloud.apiKey}`);
    expect(script).toContain(`API=${cloud.url}`);
    const { stdout } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', script], {
      cwd: repoRoot,
      timeout: 90_000,
    });

    const documents = stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line));
    const [health, analysis, routed, started, finished, result, recent] = documents;
    key = /^images\/[0-9a-f]{64}\.jpg$/m.exec(stdout)![0];

    // Every component is up.
    expect(health.status).toBe('ok');
    for (const name of [
      'imagesBucket',
      'resultsTable',
      'stateMachine',
      'notifications',
      'bedrock',
      'azure',
    ]) {
      expect(health.components[name]).toEqual({ status: 'up' });
    }
    expect(health.components.classifier).toEqual({ status: 'up', detail: 'model darknet-tiny' });

    // One analysis, three providers: the classifier sees a pelican, and both LLMs say so.
    expect(analysis).toMatchObject({ imageKey: key, source: 'analysis', status: 'complete' });
    expect(analysis.results.sagemaker.labels.map((l: { label: string }) => l.label)).toContain('pelican');
    for (const provider of ['bedrock', 'azure']) {
      expect(analysis.results[provider].caption).toMatch(/pelican/i);
      expect(analysis.results[provider]).toMatchObject({ emulated: true, guardrail: { action: 'NONE' } });
      expect(analysis.results[provider].usage.inputTokens).toBeGreaterThan(0);
    }
    expect(routed).toMatchObject({
      chosen: 'azure',
      result: { imageKey: key, results: { azure: { emulated: true } } },
    });

    // The pipeline: every step ran once and succeeded, and its output is the stored record.
    requestId = started.requestId;
    executionArn = started.executionId;
    expect(started).toMatchObject({
      requestId: expect.stringMatching(/^walkthrough-\d+$/),
      status: 'RUNNING',
    });
    expect(finished).toMatchObject({ requestId, status: 'SUCCEEDED' });
    expect(finished.steps.map((step: { name: string }) => step.name)).toEqual([
      'Classify',
      'DescribeWithBedrock',
      'DescribeWithAzure',
      'BuildRecord',
      'SaveResult',
      'Notify',
    ]);
    for (const step of finished.steps) expect(step).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(result).toMatchObject({ requestId, imageKey: key, source: 'pipeline', status: 'complete' });
    expect(Object.keys(result.results).sort()).toEqual(['azure', 'bedrock', 'sagemaker']);
    expect(result.results.sagemaker.labels[0].label).toBe('pelican');
    expect(result.errors ?? {}).toEqual({});
    expect(result).toEqual(finished.output);
    expect(recent.items.map((item: { requestId: string }) => item.requestId)).toContain(requestId);

    // S3 told the ingest handler about both uploads: the direct one and the presigned PUT.
    const presignedKey = stdout.trim().split('\n').at(-1)!;
    expect(presignedKey).toMatch(/^images\/[0-9a-f-]{36}\.jpg$/);
    const ingested = logs.filter(
      (entry) => entry.component === 'ingest' && entry.message === 'image uploaded',
    );
    expect(ingested).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          bucket: 'mc-vision-images',
          key,
          eventName: 'ObjectCreated:Put',
          size: 34_992,
        }),
        expect.objectContaining({ key: presignedKey, eventName: 'ObjectCreated:Put' }),
      ]),
    );

    // The pipeline's notification reached the outbox, readable.
    const outbox = (await readFile(cloud.outboxFile, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as OutboxEntry);
    const notice = outbox.find((entry) => entry.subject?.includes(requestId));
    expect(notice).toMatchObject({ topicArn: cloud.config.NOTIFY_TOPIC_ARN });
    expect(notice!.message).toContain('3 of 3 providers answered');
    expect(notice!.message).toContain(`The result: ${cloud.url}/v1/results/${requestId}`);
    expect(notice!.message).not.toMatch(/pelican/); // what the models said stays in the record
    expect(logs).toContainEqual(expect.objectContaining({ component: 'outbox', message: notice!.subject }));

    // Kept for the restart.
    record = (await api.get(`/v1/results/${requestId}`)).body;
    pipelineStatus = (await api.get(`/v1/pipelines/${requestId}`)).body;
    const sfn = createSfnClient(cloud.config);
    history = await historyOf(sfn, executionArn);
    sfn.destroy();
    expect(history.length).toBeGreaterThan(20);
  }, 120_000);

  it('finds the upload, the record, the execution and its history again after a restart', async () => {
    expect(record).toBeDefined(); // the walkthrough ran
    const before = local.cloud;
    await local.stop();
    const { dataDir } = local;
    local = await startTestCloud({ dataDir });
    const { cloud, api } = local;

    expect(cloud.apiKey).toBe(before.apiKey);
    expect(await api.get(`/v1/results/${requestId}`)).toEqual({ status: 200, body: record });
    expect(await api.get(`/v1/pipelines/${requestId}`)).toEqual({ status: 200, body: pipelineStatus });
    const sfn = createSfnClient(cloud.config);
    expect(await historyOf(sfn, executionArn)).toEqual(history);
    sfn.destroy();

    // The image is still in S3: the providers read it again.
    const again = await api.post('/v1/analyses', { key, providers: ['sagemaker'] });
    expect(again.status).toBe(200);
    expect(again.body.results.sagemaker.labels[0].label).toBe('pelican');
    // The same requestId is still taken by that execution.
    expect(await api.post('/v1/pipelines', { key, requestId })).toMatchObject({
      status: 200,
      body: { executionId: executionArn, status: 'SUCCEEDED' },
    });
  }, 60_000);
});
