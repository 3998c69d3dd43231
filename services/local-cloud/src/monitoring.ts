import { Metrics } from '@aws-lambda-powertools/metrics';
import {
  DeleteAlarmsCommand,
  DescribeAlarmsCommand,
  PutMetricAlarmCommand,
  type PutMetricAlarmCommandInput,
} from '@aws-sdk/client-cloudwatch';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import {
  buildMonitoringDefinition,
  classifierVariant,
  createCloudWatchClient,
  customMetrics,
  httpApiStage,
  monitoredResources,
  withLocalPeriod,
  type AlarmDefinition,
  type Config,
  type MonitoringDefinition,
} from '@mc-vision/core';
import {
  parseEmbeddedMetrics,
  startCloudWatchServer,
  type CloudWatchServer,
  type ExecutionEvent,
  type PublishedMetric,
} from '@mc-vision/emulators';
import { Console } from 'node:console';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import type { Log } from './log.ts';

// Monitoring on the laptop: a local CloudWatch (the emulator) holding what each AWS service would publish for the
// component the local cloud stands in for, under CloudWatch's namespaces, metric names, dimensions and units, plus
// the platform's own metrics read from the embedded-metric-format lines its Powertools instances write. The alarms
// are core's definition, loaded through the real SDK and evaluated there; their notifications go to the alarms
// topic, and so to the outbox.

type Datum = PublishedMetric['datum'];
const count = (timestamp: number, value: number, unit = 'Count'): Datum => ({
  timestamp,
  values: [value],
  counts: [1],
  unit,
});
const metric = (name: string, dimensions: Record<string, string>, datum: Datum): PublishedMetric => ({
  name,
  dimensions,
  datum,
});

/** AWS/Lambda for one invocation: Invocations, Errors, Throttles (never, here), Duration. */
export function lambdaMetrics(
  functionName: string,
  at: number,
  failed: boolean,
  durationMs: number,
): PublishedMetric[] {
  const dimensions = { FunctionName: functionName };
  return [
    metric('Invocations', dimensions, count(at, 1)),
    metric('Errors', dimensions, count(at, failed ? 1 : 0)),
    metric('Throttles', dimensions, count(at, 0)),
    metric('Duration', dimensions, count(at, durationMs, 'Milliseconds')),
  ];
}

/** AWS/States for an execution's start or close (each close counts once in exactly one of the outcomes). */
export function statesMetrics(event: ExecutionEvent): PublishedMetric[] {
  const dimensions = { StateMachineArn: event.stateMachineArn };
  if (event.type === 'started') return [metric('ExecutionsStarted', dimensions, count(event.startDate, 1))];
  const at = event.stopDate;
  const outcome = (name: string, status: string) =>
    metric(name, dimensions, count(at, event.status === status ? 1 : 0));
  return [
    outcome('ExecutionsSucceeded', 'SUCCEEDED'),
    outcome('ExecutionsFailed', 'FAILED'),
    outcome('ExecutionsTimedOut', 'TIMED_OUT'),
    outcome('ExecutionsAborted', 'ABORTED'),
    // The local Step Functions never throttles.
    metric('ExecutionThrottled', dimensions, count(at, 0)),
    metric('ExecutionTime', dimensions, count(at, event.stopDate - event.startDate, 'Milliseconds')),
  ];
}

/** AWS/SageMaker for one InvokeEndpoint, from the container's status and the model's time. */
export function sageMakerMetrics(
  endpointName: string,
  at: number,
  status: number,
  modelMs: number,
): PublishedMetric[] {
  const dimensions = { EndpointName: endpointName, VariantName: classifierVariant };
  return [
    metric('Invocations', dimensions, count(at, 1)),
    metric('Invocation4XXErrors', dimensions, count(at, status >= 400 && status < 500 ? 1 : 0)),
    metric('Invocation5XXErrors', dimensions, count(at, status >= 500 ? 1 : 0)),
    metric('ModelLatency', dimensions, count(at, modelMs * 1000, 'Microseconds')),
  ];
}

/** AWS/ApiGateway (HTTP API) for one request: Count, 4xx, 5xx, Latency, IntegrationLatency. */
export function apiGatewayMetrics(
  apiId: string,
  at: number,
  status: number,
  latencyMs: number,
): PublishedMetric[] {
  const dimensions = { ApiId: apiId, Stage: httpApiStage };
  return [
    metric('Count', dimensions, count(at, 1)),
    metric('4xx', dimensions, count(at, status >= 400 && status < 500 ? 1 : 0)),
    metric('5xx', dimensions, count(at, status >= 500 ? 1 : 0)),
    metric('Latency', dimensions, count(at, latencyMs, 'Milliseconds')),
    metric('IntegrationLatency', dimensions, count(at, latencyMs, 'Milliseconds')),
  ];
}

/** The alarm as PutMetricAlarm takes it, with the local period when MONITORING_PERIOD_SECONDS is set. */
export function putMetricAlarmInput(
  definition: AlarmDefinition,
  topicArn: string,
  localPeriodSeconds: number | undefined,
): PutMetricAlarmCommandInput {
  const alarm = withLocalPeriod(definition, localPeriodSeconds);
  return {
    AlarmName: alarm.name,
    AlarmDescription: alarm.description,
    Namespace: alarm.metric.namespace,
    MetricName: alarm.metric.name,
    Dimensions: Object.entries(alarm.metric.dimensions).map(([Name, Value]) => ({ Name, Value })),
    ...(alarm.statistic.startsWith('p')
      ? { ExtendedStatistic: alarm.statistic }
      : { Statistic: alarm.statistic as PutMetricAlarmCommandInput['Statistic'] }),
    Period: alarm.period,
    EvaluationPeriods: alarm.evaluationPeriods,
    DatapointsToAlarm: alarm.datapointsToAlarm,
    Threshold: alarm.threshold,
    ComparisonOperator: alarm.comparison,
    TreatMissingData: alarm.treatMissingData,
    AlarmActions: [topicArn],
    OKActions: [topicArn],
  };
}

export interface LocalMonitoringOptions {
  /** The names and thresholds (core's config). */
  config: Config;
  dataDir: string;
  log: Log;
}

export interface LocalMonitoring {
  name: 'cloudwatch';
  description: string;
  url: string;
  definition: MonitoringDefinition;
  cloudwatch: CloudWatchServer;
  /**
   * Loads core's alarms through the real SDK (as infra puts them in the cloud), each notifying `topicArn`
   * through `sns`; alarms the definition no longer has are deleted. Alarm notifications wait for this.
   */
  loadAlarms(topicArn: string, sns: SNSClient): Promise<void>;
  /**
   * A Powertools Metrics instance for `serviceName` whose EMF lines reach the local CloudWatch as Lambda's stdout
   * reaches CloudWatch Logs. Powertools prints them with a `Console` of its own on process.stdout
   * (`POWERTOOLS_DEV` would swap in the global console); here that `Console` writes to a stream of ours.
   */
  metrics(serviceName: string): Metrics;
  /** Runs one invocation of the function as Lambda would count it (AWS/Lambda). */
  invoke<T>(functionName: string, call: () => Promise<T> | T): Promise<T>;
  /** The API behind the HTTP API: AWS/ApiGateway and AWS/Lambda for the API function, per request. */
  observeRequests(listener: RequestListener): RequestListener;
  /** The model server's `invocation` log events → AWS/SageMaker. */
  onModelInvocation(event: Record<string, unknown>): void;
  /** The Step Functions emulator's observer → AWS/States. */
  onExecution(event: ExecutionEvent): void;
  close(): Promise<void>;
}

export async function startLocalMonitoring(options: LocalMonitoringOptions): Promise<LocalMonitoring> {
  const { config, log } = options;
  const publisher = Promise.withResolvers<SNSClient>();
  const cloudwatch = await startCloudWatchServer({
    dataDir: options.dataDir,
    region: config.AWS_REGION,
    accountId: config.AWS_ACCOUNT_ID,
    alarmAction: async ({ arn, subject, message, alarmName, state, oldState }) => {
      const sns = await publisher.promise;
      await sns.send(new PublishCommand({ TopicArn: arn, Subject: subject, Message: message }));
      // Every alarm's first evaluation (INSUFFICIENT_DATA → OK) is notified, as in AWS, but not worth a line.
      if (oldState === 'INSUFFICIENT_DATA' && state === 'OK') return;
      log({
        component: 'cloudwatch',
        level: state === 'ALARM' ? 'warn' : 'info',
        message: `${alarmName} is ${state}`,
      });
    },
  });
  const resources = monitoredResources(config);
  const definition = buildMonitoringDefinition(resources, config);

  async function loadAlarms(topicArn: string, sns: SNSClient): Promise<void> {
    const client = createCloudWatchClient({ ...config, CLOUDWATCH_ENDPOINT: cloudwatch.url });
    try {
      for (const alarm of definition.alarms) {
        await client.send(
          new PutMetricAlarmCommand(putMetricAlarmInput(alarm, topicArn, config.MONITORING_PERIOD_SECONDS)),
        );
      }
      const names = new Set(definition.alarms.map((alarm) => alarm.name));
      const stale: string[] = [];
      let NextToken: string | undefined;
      do {
        const page = await client.send(
          new DescribeAlarmsCommand({ AlarmNamePrefix: resources.alarmNamePrefix, NextToken }),
        );
        stale.push(
          ...(page.MetricAlarms ?? []).map((alarm) => alarm.AlarmName!).filter((name) => !names.has(name)),
        );
        NextToken = page.NextToken;
      } while (NextToken);
      if (stale.length > 0) await client.send(new DeleteAlarmsCommand({ AlarmNames: stale }));
    } finally {
      client.destroy();
    }
    publisher.resolve(sns);
  }

  const publishLine = (line: string) => {
    for (const { namespace, metrics } of parseEmbeddedMetrics(line) ?? [])
      cloudwatch.publish(namespace, metrics);
  };

  async function invoke<T>(functionName: string, call: () => Promise<T> | T): Promise<T> {
    const at = Date.now();
    const started = performance.now();
    let failed = true;
    try {
      const result = await call();
      failed = false;
      return result;
    } finally {
      cloudwatch.publish('AWS/Lambda', lambdaMetrics(functionName, at, failed, performance.now() - started));
    }
  }

  return {
    name: 'cloudwatch',
    description: "emulator: metrics and core's alarms",
    url: cloudwatch.url,
    definition,
    cloudwatch,
    loadAlarms,
    metrics(serviceName) {
      const metrics = new Metrics({ namespace: customMetrics.namespace, serviceName });
      const sink = new Writable({
        write(chunk: Buffer, _encoding, done) {
          for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) publishLine(line);
          done();
        },
      });
      Object.assign(metrics, { console: new Console({ stdout: sink, stderr: sink }) });
      return metrics;
    },
    invoke,
    observeRequests(listener) {
      return (req: IncomingMessage, res: ServerResponse) => {
        const at = Date.now();
        const started = performance.now();
        res.once('close', () => {
          const ms = performance.now() - started;
          cloudwatch.publish(
            'AWS/ApiGateway',
            apiGatewayMetrics(resources.httpApiId, at, res.statusCode, ms),
          );
          // serverless-express answers every request, a 500 included: the function itself never fails.
          cloudwatch.publish('AWS/Lambda', lambdaMetrics(resources.functionNames.api, at, false, ms));
        });
        listener(req, res);
      };
    },
    onModelInvocation(event) {
      if (event.event !== 'invocation' || typeof event.status !== 'number') return;
      const ms = typeof event.ms === 'number' ? event.ms : 0;
      cloudwatch.publish(
        'AWS/SageMaker',
        sageMakerMetrics(resources.classifierEndpoint, Date.now(), event.status, ms),
      );
    },
    onExecution(event) {
      cloudwatch.publish('AWS/States', statesMetrics(event));
    },
    close: () => cloudwatch.close(),
  };
}
