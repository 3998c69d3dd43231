import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Logger } from '@aws-lambda-powertools/logger';
import { PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import {
  buildMonitoringDefinition,
  createCloudWatchClient,
  loadConfig,
  monitoredResources,
} from '@mc-vision/core';
import { startCloudWatchServer, type CloudWatchServer } from '@mc-vision/emulators';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApiServer, type ApiServer } from '../src/index.ts';
import { apiClient, expectError, type ApiClient } from './support/http.ts';

// The monitoring routes against the CloudWatch emulator through the real SDK client: the definition's widgets
// with the data CloudWatch holds, and the definition's alarms with CloudWatch's state and history.

const apiKey = 'monitoring-key-0123456789';
let dataDir: string;
let cloudwatch: CloudWatchServer;
let server: ApiServer;
let api: ApiClient;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'api-monitoring-'));
  cloudwatch = await startCloudWatchServer({ dataDir: join(dataDir, 'cloudwatch'), tickMs: 0 });
  const config = loadConfig({ DATA_DIR: dataDir, API_KEY: apiKey, CLOUDWATCH_ENDPOINT: cloudwatch.url });
  const definition = buildMonitoringDefinition(monitoredResources(config), config);
  const client = createCloudWatchClient(config);
  const alarm = definition.alarms.find((each) => each.id === 'worker-errors')!;
  await client.send(
    new PutMetricAlarmCommand({
      AlarmName: alarm.name,
      AlarmDescription: alarm.description,
      Namespace: alarm.metric.namespace,
      MetricName: alarm.metric.name,
      Dimensions: Object.entries(alarm.metric.dimensions).map(([Name, Value]) => ({ Name, Value })),
      Statistic: 'Sum',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    }),
  );
  client.destroy();
  // Two worker errors a minute and a half ago, as Lambda publishes them.
  const at = Date.now() - 90_000;
  cloudwatch.publish('AWS/Lambda', [
    {
      name: 'Errors',
      dimensions: alarm.metric.dimensions,
      datum: { timestamp: at, values: [1, 1], counts: [1, 1] },
    },
  ]);
  await cloudwatch.evaluateAlarms();
  server = await startApiServer({ config, port: 0, logger: new Logger({ logLevel: 'SILENT' }) });
  api = apiClient(server.url, apiKey);
}, 30_000);

afterAll(async () => {
  await server?.close();
  await cloudwatch?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('GET /v1/monitoring/dashboard', () => {
  it("serves every widget of the definition with CloudWatch's data", async () => {
    const { status, body } = await api.get('/v1/monitoring/dashboard?minutes=30');
    expect(status).toBe(200);
    expect(body.name).toBe('mc-vision-dev-overview');
    expect(body.widgets).toHaveLength(19);
    const worker = body.widgets.find((widget: { id: string }) => widget.id === 'worker-function');
    const errors = worker.series.find((series: { name: string }) => series.name === 'Errors');
    expect(errors).toMatchObject({
      namespace: 'AWS/Lambda',
      statistic: 'Sum',
      dimensions: { FunctionName: 'mc-vision-dev-worker' },
    });
    expect(errors.points.map((point: { value: number }) => point.value)).toEqual([2]);
    expect(body.period).toBe(300);
  });

  it('refuses a range it does not serve', async () => {
    expectError(await api.get('/v1/monitoring/dashboard?minutes=1'), 400, 'invalid_request');
  });
});

describe('GET /v1/monitoring/alarms', () => {
  it("lists the definition's alarms CloudWatch has, with their state", async () => {
    const { status, body } = await api.get('/v1/monitoring/alarms');
    expect(status).toBe(200);
    expect(body.alarms).toEqual([
      expect.objectContaining({
        name: 'mc-vision-dev-worker-errors',
        state: 'ALARM',
        metric: {
          namespace: 'AWS/Lambda',
          name: 'Errors',
          dimensions: { FunctionName: 'mc-vision-dev-worker' },
        },
        statistic: 'Sum',
        threshold: 0,
      }),
    ]);
    expect(body.alarms[0].reason).toMatch(/^Threshold Crossed: 1 out of the last 1 datapoints \[2\.0/);
  });

  it("serves an alarm's history, newest first, and 404 for an alarm that is not the platform's", async () => {
    const { status, body } = await api.get('/v1/monitoring/alarms/mc-vision-dev-worker-errors/history');
    expect(status).toBe(200);
    expect(body.items.map((item: { type: string; summary: string }) => [item.type, item.summary])).toEqual([
      ['StateUpdate', 'Alarm updated from INSUFFICIENT_DATA to ALARM'],
      ['ConfigurationUpdate', 'Alarm "mc-vision-dev-worker-errors" created'],
    ]);
    expectError(await api.get('/v1/monitoring/alarms/someone-else/history'), 404, 'not_found');
    expectError(await api.get('/v1/monitoring/alarms/bad%20name/history'), 400, 'invalid_request');
  });
});
