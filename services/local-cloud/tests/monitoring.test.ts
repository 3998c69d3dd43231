import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GetMetricDataCommand, ListMetricsCommand } from '@aws-sdk/client-cloudwatch';
import { createCloudWatchClient } from '@mc-vision/core';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { repoRoot } from '../src/config.ts';
import type { OutboxEntry } from '../src/index.ts';
import {
  startTestCloud,
  uploadPelican,
  waitForBatch,
  waitForPipeline,
  walkthroughScript,
  type TestCloud,
} from './support.ts';

// Monitoring, run on the laptop: the README walkthrough, then Bedrock hard down for 20 pipelines (the Bedrock
// failure alarm goes ALARM and CloudWatch's notification reaches the outbox), then healthy again (OK, and a
// second notification). A batch of each kind (over a folder, by keys) runs. Then every alarm of the definition
// must have data for its exact metric, and
// GetMetricData (the real SDK client) counts the executions that succeeded. Alarms run on 10-second periods.

const period = 10;
const bedrockAlarm = 'mc-vision-dev-bedrock-unavailable';

describe('monitoring on the local cloud', () => {
  let local: TestCloud;
  const started: string[] = [];

  beforeAll(async () => {
    local = await startTestCloud({ env: { MONITORING_PERIOD_SECONDS: String(period) } });
  }, 60_000);
  afterAll(async () => {
    await local?.close();
  });

  const alarmState = async (name: string) =>
    (await local.api.get('/v1/monitoring/alarms')).body.alarms.find(
      (alarm: { name: string }) => alarm.name === name,
    );

  async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await check();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  const outbox = async () =>
    (await readFile(local.cloud.outboxFile, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as OutboxEntry);

  const alarmMessages = async (name: string) =>
    (await outbox())
      .filter((entry) => entry.topicArn.endsWith(':mc-vision-dev-alarms'))
      .map((entry) => ({ subject: entry.subject, message: JSON.parse(entry.message) }))
      .filter((entry) => entry.message.AlarmName === name);

  async function runPipelines(key: string, count: number, prefix: string) {
    const ids = await Promise.all(
      Array.from({ length: count }, async (_, index) => {
        const requestId = `${prefix}-${index}-${Date.now()}`;
        const { status, body } = await local.api.post('/v1/pipelines', { key, requestId });
        expect(status).toBe(202);
        return body.executionId as string;
      }),
    );
    started.push(...ids);
    return Promise.all(ids.map((id) => waitForPipeline(local.api, id, 120_000)));
  }

  it('runs the README walkthrough', async () => {
    const script = walkthroughScript()
      .replace(/^API=http:\/\/127\.0\.0\.1:3000$/m, `API=${local.cloud.url}`)
      .replace(/^export API_KEY=.*$/m, `export API_KEY=${local.cloud.apiKey}`);
    const { stdout } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', script], {
      cwd: repoRoot,
      timeout: 90_000,
    });
    const pipelineId = /"executionId":"([^"]+)"/.exec(stdout)?.[1];
    expect(pipelineId).toMatch(/:execution:mc-vision-pipeline:walkthrough-\d+$/);
    started.push(pipelineId!);
  }, 120_000);

  it('Bedrock hard down: 20 pipelines put the Bedrock alarm in ALARM, and CloudWatch says so in the outbox', async () => {
    const key = await uploadPelican(local.api);
    const bedrock = local.cloud.components.find((part) => part.name === 'bedrock')!.url;
    const admin = { authorization: `Bearer ${local.cloud.adminToken}` };
    const fault = await fetch(`${bedrock}/_emulator/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...admin },
      body: JSON.stringify({ status: 503, times: 1000 }),
    });
    expect(fault.status).toBe(201);

    const finished = await runPipelines(key, 20, 'bedrock-down');
    // Every execution still succeeds, with a partial record: no Step Functions alarm would see this.
    for (const execution of finished)
      expect(execution).toMatchObject({ status: 'SUCCEEDED', output: { status: 'partial' } });

    const alarm = await until('the Bedrock alarm in ALARM', async () => {
      const state = await alarmState(bedrockAlarm);
      return state?.state === 'ALARM' ? state : undefined;
    });
    expect(alarm).toMatchObject({
      metric: {
        namespace: 'MCVision',
        name: 'ProviderUnavailable',
        dimensions: { service: 'mc-vision', provider: 'bedrock' },
      },
      statistic: 'Average',
      period,
      threshold: 0.2,
    });
    const [message] = await until('the ALARM notification', async () => {
      const found = (await alarmMessages(bedrockAlarm)).filter(
        (entry) => entry.message.NewStateValue === 'ALARM',
      );
      return found.length > 0 ? found : undefined;
    });
    expect(message!.subject).toBe(`ALARM: "${bedrockAlarm}" in US East (N. Virginia)`);
    expect(message!.message).toMatchObject({
      AlarmName: bedrockAlarm,
      AWSAccountId: '000000000000',
      NewStateValue: 'ALARM',
      OldStateValue: 'OK',
      Region: 'US East (N. Virginia)',
      AlarmArn: `arn:aws:cloudwatch:us-east-1:000000000000:alarm:${bedrockAlarm}`,
      Trigger: {
        MetricName: 'ProviderUnavailable',
        Namespace: 'MCVision',
        StatisticType: 'Statistic',
        Statistic: 'AVERAGE',
        Dimensions: [
          { value: 'bedrock', name: 'provider' },
          { value: 'mc-vision', name: 'service' },
        ],
        Period: period,
        EvaluationPeriods: 1,
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 0.2,
        TreatMissingData: 'notBreaching',
      },
    });
    expect(message!.message.NewStateReason).toMatch(
      /^Threshold Crossed: 1 out of the last 1 datapoints \[[\d.]+ \([^)]+\)\] was greater than the threshold \(0\.2\)/,
    );
    expect(Date.parse(message!.message.StateChangeTime.replace('+0000', 'Z'))).toBeGreaterThan(0);

    // Faults cleared, traffic healthy: OK again, and a second notification.
    expect((await fetch(`${bedrock}/_emulator/faults`, { method: 'DELETE', headers: admin })).status).toBe(
      200,
    );
    const healthy = await runPipelines(key, 3, 'bedrock-back');
    for (const execution of healthy) expect(execution).toMatchObject({ output: { status: 'complete' } });
    await until('the Bedrock alarm OK again', async () =>
      (await alarmState(bedrockAlarm))?.state === 'OK' ? true : undefined,
    );
    const ok = await until('the OK notification', async () =>
      (await alarmMessages(bedrockAlarm)).find(
        (entry) => entry.message.NewStateValue === 'OK' && entry.message.OldStateValue === 'ALARM',
      ),
    );
    expect(ok.subject).toBe(`OK: "${bedrockAlarm}" in US East (N. Virginia)`);
  }, 300_000);

  it('runs a batch over a folder and one by keys, each an execution of its own state machine', async () => {
    const key = await uploadPelican(local.api);
    for (const [requestId, source] of [
      ['monitored-folder', { prefix: 'images/' }],
      ['monitored-keys', { keys: [key] }],
    ] as const) {
      const { status } = await local.api.post('/v1/batches', { ...source, requestId });
      expect(status).toBe(202);
      expect(await waitForBatch(local.api, requestId, () => {}, 120_000)).toMatchObject({
        status: 'SUCCEEDED',
      });
    }
  }, 300_000);

  it('has data for every alarm of the definition, under its exact namespace, metric and dimensions', async () => {
    const client = createCloudWatchClient(local.cloud.config);
    try {
      const { alarms } = (await local.api.get('/v1/monitoring/alarms')).body as {
        alarms: {
          name: string;
          metric: { namespace: string; name: string; dimensions: Record<string, string> };
        }[];
      };
      expect(alarms).toHaveLength(29);
      const missing: string[] = [];
      for (const { name, metric } of alarms) {
        const dimensions = Object.entries(metric.dimensions).map(([Name, Value]) => ({ Name, Value }));
        const { Metrics = [] } = await client.send(
          new ListMetricsCommand({
            Namespace: metric.namespace,
            MetricName: metric.name,
            Dimensions: dimensions,
          }),
        );
        const exact = Metrics.some((listed) => (listed.Dimensions ?? []).length === dimensions.length);
        if (!exact)
          missing.push(`${name}: ${metric.namespace} ${metric.name} ${JSON.stringify(metric.dimensions)}`);
      }
      expect(missing).toEqual([]);
    } finally {
      client.destroy();
    }
  }, 60_000);

  it('counts every pipeline it ran in AWS/States ExecutionsSucceeded, through GetMetricData', async () => {
    const client = createCloudWatchClient(local.cloud.config);
    try {
      const now = Date.now();
      const { MetricDataResults } = await client.send(
        new GetMetricDataCommand({
          StartTime: new Date(now - 3_600_000),
          EndTime: new Date(now + 60_000),
          MetricDataQueries: [
            {
              Id: 'succeeded',
              MetricStat: {
                Metric: {
                  Namespace: 'AWS/States',
                  MetricName: 'ExecutionsSucceeded',
                  Dimensions: [{ Name: 'StateMachineArn', Value: local.cloud.config.STATE_MACHINE_ARN }],
                },
                Period: 60,
                Stat: 'Sum',
              },
            },
          ],
        }),
      );
      const total = (MetricDataResults![0]!.Values ?? []).reduce((sum, value) => sum + value, 0);
      expect(started).toHaveLength(24);
      expect(total).toBe(started.length);
    } finally {
      client.destroy();
    }
  });
});
