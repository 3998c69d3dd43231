import * as z from 'zod';
import type { Config } from '../config/index.ts';
import { classifierVariant, httpApiStage, platformNames, type FunctionRole } from '../names.ts';
import type { ProviderName } from '../schemas.ts';
import { customMetrics as m } from './metrics.ts';

// Monitoring, defined once as data, like the pipeline: every alarm and every dashboard widget, built from the
// monitored resources' names and the configuration. infra renders them into `aws_cloudwatch_metric_alarm` and the
// dashboard body; the local cloud loads the same alarms into its CloudWatch and evaluates them; the API draws
// the same widgets. Each alarm says everything an evaluator needs: statistic, period, M out of N, comparison,
// threshold and how missing data counts.

export type BasicStatistic = 'SampleCount' | 'Average' | 'Sum' | 'Minimum' | 'Maximum';
/** A basic statistic, or a percentile such as `p95` or `p99.9`. */
export type Statistic = BasicStatistic | `p${number}`;
export type ComparisonOperator =
  | 'GreaterThanThreshold'
  | 'GreaterThanOrEqualToThreshold'
  | 'LessThanThreshold'
  | 'LessThanOrEqualToThreshold';
export type TreatMissingData = 'breaching' | 'notBreaching' | 'ignore' | 'missing';

/** One CloudWatch metric: its exact namespace, name and dimensions. */
export interface MetricId {
  namespace: string;
  name: string;
  dimensions: Record<string, string>;
}

export interface AlarmDefinition {
  /** Short and stable (`bedrock-unavailable`); the alarm's name is the environment's prefix plus this. */
  id: string;
  name: string;
  description: string;
  metric: MetricId;
  statistic: Statistic;
  /** Seconds per datapoint. */
  period: number;
  /** N: how many of the most recent datapoints are evaluated. */
  evaluationPeriods: number;
  /** M: how many of those must breach for ALARM. */
  datapointsToAlarm: number;
  comparison: ComparisonOperator;
  threshold: number;
  treatMissingData: TreatMissingData;
}

export interface WidgetMetric extends MetricId {
  statistic: Statistic;
  label: string;
}

export interface MetricWidget {
  /** Stable within the dashboard (`api-function`), for links and tests. */
  id: string;
  title: string;
  /** What the values are in, for the axis (`count`, `ms`, `µs`, `ratio`). */
  unit: 'count' | 'ms' | 'µs' | 'ratio';
  metrics: WidgetMetric[];
}

export interface DashboardDefinition {
  name: string;
  /** Seconds per datapoint in every widget. */
  period: number;
  widgets: MetricWidget[];
  /** The alarms widget: every alarm's name. */
  alarms: string[];
}

export interface MonitoringDefinition {
  alarms: AlarmDefinition[];
  dashboard: DashboardDefinition;
}

/** What is monitored, by the names CloudWatch knows it by. */
export interface MonitoredResources {
  functionNames: Record<FunctionRole, string>;
  /** The `service` dimension of the platform's own metrics (SERVICE_NAME). */
  serviceName: string;
  stateMachineArn: string;
  classifierEndpoint: string;
  /** The HTTP API's id: infra passes a Terraform reference, which becomes the id at apply time. */
  httpApiId: string;
  resultsTable: string;
  /** Every alarm's name starts with this. */
  alarmNamePrefix: string;
  dashboardName: string;
}

const name = z.string().min(1);
const resourcesSchema = z.object({
  functionNames: z.object({ api: name, worker: name, ingest: name }),
  serviceName: name,
  stateMachineArn: name,
  classifierEndpoint: name,
  httpApiId: name,
  resultsTable: name,
  alarmNamePrefix: name,
  dashboardName: name,
});

/** The configuration monitoring reads: period, evaluation periods and every threshold. */
export type MonitoringSettings = Pick<
  Config,
  Extract<keyof Config, `ALARM_${string}`> | 'MONITORING_PERIOD_SECONDS'
>;

/**
 * The resources as a process configured by `config` sees them (the API and the local cloud): the same names
 * infra gives them (`platformNames`), and the state machine, endpoint, table and HTTP API its settings name.
 */
export function monitoredResources(
  config: Pick<
    Config,
    | 'NAME_PREFIX'
    | 'DEPLOY_ENV'
    | 'AWS_REGION'
    | 'AWS_ACCOUNT_ID'
    | 'SERVICE_NAME'
    | 'STATE_MACHINE_ARN'
    | 'SAGEMAKER_ENDPOINT_NAME'
    | 'HTTP_API_ID'
    | 'RESULTS_TABLE'
  >,
): MonitoredResources {
  const names = platformNames(config);
  return {
    functionNames: {
      api: names.functionName('api'),
      worker: names.functionName('worker'),
      ingest: names.functionName('ingest'),
    },
    serviceName: config.SERVICE_NAME,
    stateMachineArn: config.STATE_MACHINE_ARN,
    classifierEndpoint: config.SAGEMAKER_ENDPOINT_NAME,
    httpApiId: config.HTTP_API_ID,
    resultsTable: config.RESULTS_TABLE,
    alarmNamePrefix: names.alarmPrefix,
    dashboardName: names.dashboard,
  };
}

const providers: { name: ProviderName; title: string }[] = [
  { name: 'sagemaker', title: 'SageMaker' },
  { name: 'bedrock', title: 'Bedrock' },
  { name: 'azure', title: 'Azure OpenAI' },
];
const describers = providers.filter((provider) => provider.name !== 'sagemaker');

/** The results table operations the API and the pipeline make. */
const tableOperations = ['GetItem', 'PutItem', 'Query'];

const roleTitles: Record<FunctionRole, string> = { api: 'API', worker: 'Worker', ingest: 'Ingest' };

/** Every alarm and every widget for `resources`, with the thresholds and periods `settings` give. */
export function buildMonitoringDefinition(
  resources: MonitoredResources,
  settings: MonitoringSettings,
): MonitoringDefinition {
  const r = resourcesSchema.parse(resources);
  const fn = (role: FunctionRole) => ({ FunctionName: r.functionNames[role] });
  const lambda = (role: FunctionRole, metric: string): MetricId => ({
    namespace: 'AWS/Lambda',
    name: metric,
    dimensions: fn(role),
  });
  const states = (metric: string): MetricId => ({
    namespace: 'AWS/States',
    name: metric,
    dimensions: { StateMachineArn: r.stateMachineArn },
  });
  const endpoint = { EndpointName: r.classifierEndpoint, VariantName: classifierVariant };
  const sagemaker = (metric: string): MetricId => ({
    namespace: 'AWS/SageMaker',
    name: metric,
    dimensions: endpoint,
  });
  const httpApi = { ApiId: r.httpApiId, Stage: httpApiStage };
  const gateway = (metric: string): MetricId => ({
    namespace: 'AWS/ApiGateway',
    name: metric,
    dimensions: httpApi,
  });
  const service = { [m.serviceDimension]: r.serviceName };
  const custom = (metric: string, dimensions: Record<string, string> = {}): MetricId => ({
    namespace: m.namespace,
    name: metric,
    dimensions: { ...service, ...dimensions },
  });
  const byProvider = (metric: string, provider: ProviderName) =>
    custom(metric, { [m.providerDimension]: provider });

  const alarm = (
    id: string,
    description: string,
    metric: MetricId,
    statistic: Statistic,
    threshold: number,
  ): AlarmDefinition => ({
    id,
    name: `${r.alarmNamePrefix}${id}`,
    description,
    metric,
    statistic,
    period: settings.ALARM_PERIOD_SECONDS,
    evaluationPeriods: settings.ALARM_EVALUATION_PERIODS,
    datapointsToAlarm: settings.ALARM_EVALUATION_PERIODS,
    comparison: 'GreaterThanThreshold',
    threshold,
    // No traffic is not an outage: every metric here has data whenever there is traffic.
    treatMissingData: 'notBreaching',
  });
  const s = settings;
  // Provider and record metrics are 1 or 0 per record: their Average is the share of records.
  const share = (percent: number) => percent / 100;

  const alarms: AlarmDefinition[] = [
    alarm('api-errors', 'API function errors', lambda('api', 'Errors'), 'Sum', s.ALARM_API_ERRORS),
    alarm(
      'api-throttles',
      'API function throttled',
      lambda('api', 'Throttles'),
      'Sum',
      s.ALARM_API_THROTTLES,
    ),
    alarm(
      'api-p95-duration',
      'API function p95 duration (ms)',
      lambda('api', 'Duration'),
      'p95',
      s.ALARM_API_P95_MS,
    ),
    alarm('api-5xx', 'HTTP API 5xx responses', gateway('5xx'), 'Sum', s.ALARM_API_5XX),
    alarm(
      'api-p95-latency',
      "The API's own p95 latency over every route (ms)",
      custom(m.requestLatency),
      'p95',
      s.ALARM_API_LATENCY_P95_MS,
    ),
    alarm(
      'worker-errors',
      'Worker function errors',
      lambda('worker', 'Errors'),
      'Sum',
      s.ALARM_WORKER_ERRORS,
    ),
    alarm(
      'worker-p95-duration',
      'Worker function p95 duration (ms)',
      lambda('worker', 'Duration'),
      'p95',
      s.ALARM_WORKER_P95_MS,
    ),
    alarm(
      'ingest-errors',
      'Ingest function errors',
      lambda('ingest', 'Errors'),
      'Sum',
      s.ALARM_INGEST_ERRORS,
    ),
    alarm(
      'ingest-p95-duration',
      'Ingest function p95 duration (ms)',
      lambda('ingest', 'Duration'),
      'p95',
      s.ALARM_INGEST_P95_MS,
    ),
    alarm(
      'ingest-skipped-records',
      'Malformed S3 event records the ingest handler skipped',
      custom(m.ingestRecordsSkipped),
      'Sum',
      s.ALARM_INGEST_SKIPPED_RECORDS,
    ),
    alarm(
      'pipeline-failed',
      'Pipeline executions failed',
      states('ExecutionsFailed'),
      'Sum',
      s.ALARM_PIPELINE_FAILED,
    ),
    alarm(
      'pipeline-timed-out',
      'Pipeline executions timed out',
      states('ExecutionsTimedOut'),
      'Sum',
      s.ALARM_PIPELINE_TIMED_OUT,
    ),
    alarm(
      'pipeline-throttled',
      'Pipeline executions throttled',
      states('ExecutionThrottled'),
      'Sum',
      s.ALARM_PIPELINE_THROTTLED,
    ),
    alarm(
      'classifier-5xx',
      'Classifier endpoint 5xx errors',
      sagemaker('Invocation5XXErrors'),
      'Sum',
      s.ALARM_SAGEMAKER_5XX,
    ),
    // A model error (the model server rejecting an image) is a 4xx too.
    alarm(
      'classifier-4xx',
      'Classifier endpoint 4xx errors',
      sagemaker('Invocation4XXErrors'),
      'Sum',
      s.ALARM_SAGEMAKER_4XX,
    ),
    ...providers.flatMap(({ name: provider, title }) => [
      alarm(
        `${provider}-throttled`,
        `${title} throttled: share of records in which it ended throttled (0-1)`,
        byProvider(m.providerThrottled, provider),
        'Average',
        share(s.ALARM_PROVIDER_THROTTLED_PERCENT),
      ),
      alarm(
        `${provider}-unavailable`,
        `${title} unavailable: share of records in which it was down, timed out or answered 5xx (0-1)`,
        byProvider(m.providerUnavailable, provider),
        'Average',
        share(s.ALARM_PROVIDER_UNAVAILABLE_PERCENT),
      ),
    ]),
    ...describers.map(({ name: provider, title }) =>
      alarm(
        `${provider}-guardrail-interventions`,
        `${title} descriptions the guardrail masked or blocked`,
        byProvider(m.guardrailInterventions, provider),
        'Sum',
        s.ALARM_GUARDRAIL_INTERVENTIONS,
      ),
    ),
    alarm(
      'partial-records',
      'Records in which some provider failed',
      custom(m.partialRecords),
      'Sum',
      s.ALARM_PARTIAL_RECORDS,
    ),
    alarm(
      'failed-records',
      'Records in which every provider failed',
      custom(m.failedRecords),
      'Sum',
      s.ALARM_FAILED_RECORDS,
    ),
  ];

  const line = (metric: MetricId, statistic: Statistic, label: string): WidgetMetric => ({
    ...metric,
    statistic,
    label,
  });
  const sums = (ids: MetricId[]) => ids.map((id) => line(id, 'Sum', id.name));
  const percentiles = (id: MetricId, stats: Statistic[]) =>
    stats.map((stat) => line(id, stat, `${id.name} ${stat}`));
  const functionWidgets = (role: FunctionRole): MetricWidget[] => [
    {
      id: `${role}-function`,
      title: `${roleTitles[role]} function: invocations, errors, throttles`,
      unit: 'count',
      metrics: sums(['Invocations', 'Errors', 'Throttles'].map((metric) => lambda(role, metric))),
    },
    {
      id: `${role}-duration`,
      title: `${roleTitles[role]} function: duration (ms)`,
      unit: 'ms',
      metrics: percentiles(lambda(role, 'Duration'), ['p50', 'p95', 'p99']),
    },
  ];
  const table = { TableName: r.resultsTable };
  const dynamo = (metric: string, dimensions: Record<string, string> = {}): MetricId => ({
    namespace: 'AWS/DynamoDB',
    name: metric,
    dimensions: { ...table, ...dimensions },
  });

  const widgets: MetricWidget[] = [
    ...functionWidgets('api'),
    {
      id: 'http-api-requests',
      title: 'HTTP API: requests and errors',
      unit: 'count',
      metrics: sums(['Count', '4xx', '5xx'].map(gateway)),
    },
    {
      id: 'http-api-latency',
      title: 'HTTP API: latency p95 (ms)',
      unit: 'ms',
      metrics: ['Latency', 'IntegrationLatency'].map((metric) =>
        line(gateway(metric), 'p95', `${metric} p95`),
      ),
    },
    {
      id: 'api-latency',
      title: "API: the app's own latency (ms)",
      unit: 'ms',
      metrics: percentiles(custom(m.requestLatency), ['p50', 'p95', 'p99']),
    },
    ...functionWidgets('worker'),
    ...functionWidgets('ingest'),
    {
      id: 'ingest-records',
      title: 'Ingest: images logged and records skipped',
      unit: 'count',
      metrics: sums([custom(m.imagesIngested), custom(m.ingestRecordsSkipped)]),
    },
    {
      id: 'pipeline-executions',
      title: 'Pipeline: executions',
      unit: 'count',
      metrics: sums(
        [
          'ExecutionsStarted',
          'ExecutionsSucceeded',
          'ExecutionsFailed',
          'ExecutionsTimedOut',
          'ExecutionThrottled',
        ].map(states),
      ),
    },
    {
      id: 'pipeline-time',
      title: 'Pipeline: execution time (ms)',
      unit: 'ms',
      metrics: percentiles(states('ExecutionTime'), ['p50', 'p95']),
    },
    {
      id: 'providers-failing',
      title: 'Providers: share of records throttled or unavailable',
      unit: 'ratio',
      metrics: providers.flatMap(({ name: provider, title }) => [
        line(byProvider(m.providerThrottled, provider), 'Average', `${title} throttled`),
        line(byProvider(m.providerUnavailable, provider), 'Average', `${title} unavailable`),
      ]),
    },
    {
      id: 'records',
      title: 'Records: partial and failed, guardrail interventions',
      unit: 'count',
      metrics: [
        line(custom(m.partialRecords), 'Sum', 'Partial records'),
        line(custom(m.failedRecords), 'Sum', 'Failed records'),
        ...describers.map(({ name: provider, title }) =>
          line(byProvider(m.guardrailInterventions, provider), 'Sum', `${title} guardrail interventions`),
        ),
      ],
    },
    {
      id: 'classifier-invocations',
      title: 'Classifier: invocations and errors',
      unit: 'count',
      metrics: sums(['Invocations', 'Invocation4XXErrors', 'Invocation5XXErrors'].map(sagemaker)),
    },
    {
      id: 'classifier-latency',
      title: 'Classifier: latency p95 (µs)',
      unit: 'µs',
      metrics: ['ModelLatency', 'OverheadLatency', 'ModelSetupTime'].map((metric) =>
        line(sagemaker(metric), 'p95', `${metric} p95`),
      ),
    },
    {
      id: 'results-capacity',
      title: 'Results table: capacity consumed',
      unit: 'count',
      metrics: sums(
        ['ConsumedReadCapacityUnits', 'ConsumedWriteCapacityUnits'].map((metric) => dynamo(metric)),
      ),
    },
    {
      id: 'results-errors',
      title: 'Results table: throttles and errors',
      unit: 'count',
      metrics: [
        ...sums(['ReadThrottleEvents', 'WriteThrottleEvents'].map((metric) => dynamo(metric))),
        // DynamoDB publishes SystemErrors per operation only: the ones the API and the pipeline make.
        ...tableOperations.map((Operation) =>
          line(dynamo('SystemErrors', { Operation }), 'Sum', `SystemErrors ${Operation}`),
        ),
      ],
    },
  ];

  return {
    alarms,
    dashboard: {
      name: r.dashboardName,
      period: s.ALARM_PERIOD_SECONDS,
      widgets,
      alarms: alarms.map((each) => each.name),
    },
  };
}

/** The alarm as the local cloud evaluates it: with `MONITORING_PERIOD_SECONDS` in place of its own period. */
export function withLocalPeriod(alarm: AlarmDefinition, periodSeconds: number | undefined): AlarmDefinition {
  return periodSeconds === undefined ? alarm : { ...alarm, period: periodSeconds };
}
