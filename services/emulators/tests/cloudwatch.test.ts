import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  CloudWatchClient,
  DeleteAlarmsCommand,
  DescribeAlarmHistoryCommand,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  InvalidParameterValueException,
  ListMetricsCommand,
  PutMetricAlarmCommand,
  PutMetricDataCommand,
} from '@aws-sdk/client-cloudwatch';
import {
  parseEmbeddedMetrics,
  startCloudWatchServer,
  type AlarmActionCall,
  type CloudWatchServer,
} from '../src/cloudwatch/index.ts';
import { tempDir } from './support.ts';

// The CloudWatch emulator through the real SDK client (AWS JSON 1.0), with the clock in the test's hands:
// metrics in, statistics out, an alarm that goes to ALARM and back with CloudWatch's notification, and
// everything still there after a restart.

const minute = 60_000;
const start = Date.UTC(2025, 5, 1, 10, 0, 0);

describe('the CloudWatch emulator', () => {
  let clock = start;
  let dataDir: string;
  let server: CloudWatchServer;
  let client: CloudWatchClient;
  const actions: AlarmActionCall[] = [];

  const open = async () => {
    server = await startCloudWatchServer({
      dataDir,
      tickMs: 0,
      now: () => clock,
      alarmAction: async (call) => void actions.push(call),
    });
    client = new CloudWatchClient({
      region: 'us-east-1',
      endpoint: server.url,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
  };

  beforeAll(async () => {
    dataDir = await tempDir();
    await open();
  });
  afterAll(async () => {
    client?.destroy();
    await server?.close();
  });

  const seconds = (ms: number) => new Date(ms);
  const dimensions = [{ Name: 'FunctionName', Value: 'fn' }];

  it('keeps PutMetricData and answers GetMetricData with every statistic, per period', async () => {
    await client.send(
      new PutMetricDataCommand({
        Namespace: 'Test',
        MetricData: [
          {
            MetricName: 'Latency',
            Dimensions: dimensions,
            Timestamp: seconds(start + 1_000),
            Values: [10, 20, 30, 40],
            Counts: [1, 1, 1, 7],
          },
          {
            MetricName: 'Latency',
            Dimensions: dimensions,
            Timestamp: seconds(start + minute + 1_000),
            Value: 5,
          },
          {
            MetricName: 'Latency',
            Dimensions: [{ Name: 'FunctionName', Value: 'other' }],
            Timestamp: seconds(start),
            Value: 99,
          },
        ],
      }),
    );
    const query = (Id: string, Stat: string) => ({
      Id,
      MetricStat: {
        Metric: { Namespace: 'Test', MetricName: 'Latency', Dimensions: dimensions },
        Period: 60,
        Stat,
      },
    });
    const { MetricDataResults } = await client.send(
      new GetMetricDataCommand({
        StartTime: seconds(start),
        EndTime: seconds(start + 2 * minute),
        ScanBy: 'TimestampAscending',
        MetricDataQueries: [
          query('sum', 'Sum'),
          query('avg', 'Average'),
          query('min', 'Minimum'),
          query('max', 'Maximum'),
          query('n', 'SampleCount'),
          query('p50', 'p50'),
          query('p90', 'p90'),
        ],
      }),
    );
    const values = Object.fromEntries(MetricDataResults!.map((result) => [result.Id, result.Values]));
    expect(values).toEqual({
      sum: [340, 5],
      avg: [34, 5],
      min: [10, 5],
      max: [40, 5],
      n: [10, 1],
      p50: [40, 5],
      p90: [40, 5],
    });
    expect(MetricDataResults![0]!.Timestamps).toEqual([seconds(start), seconds(start + minute)]);
    expect(MetricDataResults![0]!.Label).toBe('Latency');
  });

  it('takes a gzip-compressed PutMetricData, as the SDK sends a large one', async () => {
    const many = Array.from({ length: 400 }, (_, i) => ({
      MetricName: 'Many',
      Dimensions: [{ Name: 'Index', Value: String(i % 4) }],
      Timestamp: seconds(start + 1_000),
      Value: 1,
    }));
    await client.send(new PutMetricDataCommand({ Namespace: 'Test', MetricData: many }));
    const { Metrics } = await client.send(new ListMetricsCommand({ Namespace: 'Test', MetricName: 'Many' }));
    expect(Metrics!.map((metric) => metric.Dimensions![0]!.Value).sort()).toEqual(['0', '1', '2', '3']);
  });

  it('lists metrics by namespace, name and dimension', async () => {
    const { Metrics } = await client.send(
      new ListMetricsCommand({ Namespace: 'Test', Dimensions: [{ Name: 'FunctionName', Value: 'other' }] }),
    );
    expect(Metrics).toEqual([
      { Namespace: 'Test', MetricName: 'Latency', Dimensions: [{ Name: 'FunctionName', Value: 'other' }] },
    ]);
  });

  it('refuses AWS/ namespaces to PutMetricData (AWS services publish there), and metric math', async () => {
    const put = client.send(
      new PutMetricDataCommand({ Namespace: 'AWS/Lambda', MetricData: [{ MetricName: 'Errors', Value: 1 }] }),
    );
    await expect(put).rejects.toBeInstanceOf(InvalidParameterValueException);
    const math = client.send(
      new GetMetricDataCommand({
        StartTime: seconds(start),
        EndTime: seconds(start + minute),
        MetricDataQueries: [{ Id: 'e', Expression: 'SUM(METRICS())' }],
      }),
    );
    await expect(math).rejects.toMatchObject({ name: 'InvalidParameterValueException' });
  });

  it('evaluates an alarm as CloudWatch does and hands each state change to its actions with the notification', async () => {
    const topic = 'arn:aws:sns:us-east-1:000000000000:alarms';
    await client.send(
      new PutMetricAlarmCommand({
        AlarmName: 'errors',
        AlarmDescription: 'Function errors',
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: dimensions,
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [topic],
        OKActions: [topic],
      }),
    );
    const state = async () =>
      (await client.send(new DescribeAlarmsCommand({ AlarmNames: ['errors'] }))).MetricAlarms![0]!;
    expect((await state()).StateValue).toBe('INSUFFICIENT_DATA');

    // No data at all: not breaching → OK, and the OK action runs.
    clock = start + 3 * minute + 5_000;
    await server.evaluateAlarms();
    expect((await state()).StateValue).toBe('OK');

    // Three errors in one minute, published as Lambda would: ALARM once that minute is complete.
    server.publish('AWS/Lambda', [
      {
        name: 'Errors',
        dimensions: { FunctionName: 'fn' },
        datum: { timestamp: clock, values: [1, 1, 1], counts: [1, 1, 1] },
      },
    ]);
    clock += minute;
    await server.evaluateAlarms();
    const alarmed = await state();
    expect(alarmed).toMatchObject({
      StateValue: 'ALARM',
      Statistic: 'Sum',
      Period: 60,
      DatapointsToAlarm: 1,
    });
    expect(alarmed.StateReason).toMatch(
      /^Threshold Crossed: 1 out of the last 1 datapoints \[3\.0 \(01\/06\/25 10:03:00\)\] was greater than the threshold \(1\.0\)/,
    );

    expect(actions.map((call) => [call.arn, call.oldState, call.state, call.subject])).toEqual([
      [topic, 'INSUFFICIENT_DATA', 'OK', 'OK: "errors" in US East (N. Virginia)'],
      [topic, 'OK', 'ALARM', 'ALARM: "errors" in US East (N. Virginia)'],
    ]);
    const notification = JSON.parse(actions[1]!.message);
    expect(notification).toEqual({
      AlarmName: 'errors',
      AlarmDescription: 'Function errors',
      AWSAccountId: '000000000000',
      AlarmConfigurationUpdatedTimestamp: '2025-06-01T10:00:00.000+0000',
      NewStateValue: 'ALARM',
      NewStateReason: alarmed.StateReason,
      StateChangeTime: '2025-06-01T10:04:05.000+0000',
      Region: 'US East (N. Virginia)',
      AlarmArn: 'arn:aws:cloudwatch:us-east-1:000000000000:alarm:errors',
      OldStateValue: 'OK',
      OKActions: [topic],
      AlarmActions: [topic],
      InsufficientDataActions: [],
      Trigger: {
        MetricName: 'Errors',
        Namespace: 'AWS/Lambda',
        StatisticType: 'Statistic',
        Statistic: 'SUM',
        Unit: null,
        Dimensions: [{ value: 'fn', name: 'FunctionName' }],
        Period: 60,
        EvaluationPeriods: 1,
        DatapointsToAlarm: 1,
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 1,
        TreatMissingData: 'notBreaching',
        EvaluateLowSampleCountPercentile: '',
      },
    });

    // Its history, newest first: the action, the change, the first OK and its action, the creation.
    const { AlarmHistoryItems } = await client.send(new DescribeAlarmHistoryCommand({ AlarmName: 'errors' }));
    expect(AlarmHistoryItems!.map((item) => [item.HistoryItemType, item.HistorySummary])).toEqual([
      ['Action', `Successfully executed action ${topic}`],
      ['StateUpdate', 'Alarm updated from OK to ALARM'],
      ['Action', `Successfully executed action ${topic}`],
      ['StateUpdate', 'Alarm updated from INSUFFICIENT_DATA to OK'],
      ['ConfigurationUpdate', 'Alarm "errors" created'],
    ]);
  });

  it('keeps metrics, alarms, their state and history across a restart', async () => {
    const before = (await client.send(new DescribeAlarmsCommand({}))).MetricAlarms;
    client.destroy();
    await server.close();
    await open();
    expect((await client.send(new DescribeAlarmsCommand({}))).MetricAlarms).toEqual(before);
    const { MetricDataResults } = await client.send(
      new GetMetricDataCommand({
        StartTime: seconds(start),
        EndTime: seconds(start + 10 * minute),
        MetricDataQueries: [
          {
            Id: 'errors',
            MetricStat: {
              Metric: { Namespace: 'AWS/Lambda', MetricName: 'Errors', Dimensions: dimensions },
              Period: 600,
              Stat: 'Sum',
            },
          },
        ],
      }),
    );
    expect(MetricDataResults![0]!.Values).toEqual([3]);
    await client.send(new DeleteAlarmsCommand({ AlarmNames: ['errors'] }));
    expect((await client.send(new DescribeAlarmsCommand({}))).MetricAlarms).toEqual([]);
  });
});

describe('embedded metric format', () => {
  it('reads every dimension set and metric of a Powertools line, as CloudWatch Logs does', () => {
    const line = JSON.stringify({
      _aws: {
        Timestamp: 1_700_000_000_000,
        CloudWatchMetrics: [
          {
            Namespace: 'MCVision',
            Dimensions: [['service', 'route'], ['service'], ['service', 'missing']],
            Metrics: [{ Name: 'Latency', Unit: 'Milliseconds' }, { Name: 'Samples' }, { Name: 'NotThere' }],
          },
        ],
      },
      service: 'mc-vision',
      route: 'GET /health',
      Latency: 12.5,
      Samples: [1, 2],
    });
    expect(parseEmbeddedMetrics(line)).toEqual([
      {
        namespace: 'MCVision',
        metrics: [
          {
            name: 'Latency',
            dimensions: { service: 'mc-vision', route: 'GET /health' },
            datum: { timestamp: 1_700_000_000_000, values: [12.5], counts: [1], unit: 'Milliseconds' },
          },
          {
            name: 'Latency',
            dimensions: { service: 'mc-vision' },
            datum: { timestamp: 1_700_000_000_000, values: [12.5], counts: [1], unit: 'Milliseconds' },
          },
          {
            name: 'Samples',
            dimensions: { service: 'mc-vision', route: 'GET /health' },
            datum: { timestamp: 1_700_000_000_000, values: [1, 2], counts: [1, 1] },
          },
          {
            name: 'Samples',
            dimensions: { service: 'mc-vision' },
            datum: { timestamp: 1_700_000_000_000, values: [1, 2], counts: [1, 1] },
          },
        ],
      },
    ]);
  });

  it('leaves other log lines alone', () => {
    expect(parseEmbeddedMetrics('{"level":"INFO","message":"request"}')).toBeUndefined();
    expect(parseEmbeddedMetrics('not json')).toBeUndefined();
  });
});
