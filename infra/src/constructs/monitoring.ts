import { CloudwatchDashboard } from '@cdktf/provider-aws/lib/cloudwatch-dashboard';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import type { Config } from '@mc-vision/core/config/index';
import { Construct } from 'constructs';
import type { FunctionRole, ResourceNames } from '../names';
import { variantName } from './classifier';

export interface MonitoringProps {
  config: Config;
  names: ResourceNames;
  /** The alarms topic: never the pipeline's results topic. */
  topicArn: string;
  httpApiId: string;
}

interface AlarmSpec {
  id: string;
  description: string;
  namespace: string;
  metric: string;
  dimensions: Record<string, string>;
  /** `Sum` for counts; a percentile such as `p95` for durations. */
  statistic: 'Sum' | 'p95';
  threshold: number;
}

type MetricLine = (string | { stat?: string; label?: string })[];

/** The results table operations the API and the pipeline make. */
const tableOperations = ['GetItem', 'PutItem', 'Query'];

/**
 * CloudWatch alarms for every part that can fail on its own, each notifying the topic (on alarm and when it
 * clears), and one dashboard over the API, worker, ingest, Step Functions, SageMaker and DynamoDB. Every
 * threshold, the period and the evaluation periods come from the configuration.
 */
export class Monitoring extends Construct {
  readonly alarms: CloudwatchMetricAlarm[];
  readonly dashboard: CloudwatchDashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { config, names } = props;
    const fn = (role: FunctionRole) => ({ FunctionName: names.functionName(role) });
    const stateMachine = { StateMachineArn: names.stateMachineArn };
    const endpoint = { EndpointName: names.sagemakerEndpoint, VariantName: variantName };
    const httpApi = { ApiId: props.httpApiId, Stage: '$default' };

    const lambda = (role: FunctionRole, metric: string) => ['AWS/Lambda', metric, fn(role)] as const;
    const states = (metric: string) => ['AWS/States', metric, stateMachine] as const;
    const sagemaker = (metric: string) => ['AWS/SageMaker', metric, endpoint] as const;
    const specs: AlarmSpec[] = [
      alarm('api-errors', 'API function errors', lambda('api', 'Errors'), config.ALARM_API_ERRORS),
      alarm(
        'api-throttles',
        'API function throttled',
        lambda('api', 'Throttles'),
        config.ALARM_API_THROTTLES,
      ),
      alarm('api-p95-duration', 'API p95 duration (ms)', lambda('api', 'Duration'), config.ALARM_API_P95_MS),
      alarm('api-5xx', 'HTTP API 5xx responses', ['AWS/ApiGateway', '5xx', httpApi], config.ALARM_API_5XX),
      alarm(
        'worker-errors',
        'Worker function errors',
        lambda('worker', 'Errors'),
        config.ALARM_WORKER_ERRORS,
      ),
      alarm(
        'worker-p95-duration',
        'Worker p95 duration (ms)',
        lambda('worker', 'Duration'),
        config.ALARM_WORKER_P95_MS,
      ),
      alarm(
        'ingest-errors',
        'Ingest function errors',
        lambda('ingest', 'Errors'),
        config.ALARM_INGEST_ERRORS,
      ),
      alarm(
        'ingest-p95-duration',
        'Ingest p95 duration (ms)',
        lambda('ingest', 'Duration'),
        config.ALARM_INGEST_P95_MS,
      ),
      alarm(
        'pipeline-failed',
        'Pipeline executions failed',
        states('ExecutionsFailed'),
        config.ALARM_PIPELINE_FAILED,
      ),
      alarm(
        'pipeline-timed-out',
        'Pipeline executions timed out',
        states('ExecutionsTimedOut'),
        config.ALARM_PIPELINE_TIMED_OUT,
      ),
      alarm(
        'pipeline-throttled',
        'Pipeline executions throttled',
        states('ExecutionThrottled'),
        config.ALARM_PIPELINE_THROTTLED,
      ),
      alarm(
        'classifier-5xx',
        'Classifier endpoint 5xx errors',
        sagemaker('Invocation5XXErrors'),
        config.ALARM_SAGEMAKER_5XX,
      ),
      // A model error (the model server rejecting an image) is a 4xx too.
      alarm(
        'classifier-4xx',
        'Classifier endpoint 4xx errors',
        sagemaker('Invocation4XXErrors'),
        config.ALARM_SAGEMAKER_4XX,
      ),
    ];

    this.alarms = specs.map(
      (spec) =>
        new CloudwatchMetricAlarm(this, spec.id, {
          alarmName: names.alarm(spec.id),
          alarmDescription: spec.description,
          namespace: spec.namespace,
          metricName: spec.metric,
          dimensions: spec.dimensions,
          ...(spec.statistic === 'Sum' ? { statistic: 'Sum' } : { extendedStatistic: spec.statistic }),
          period: config.ALARM_PERIOD_SECONDS,
          evaluationPeriods: config.ALARM_EVALUATION_PERIODS,
          threshold: spec.threshold,
          comparisonOperator: 'GreaterThanThreshold',
          // No traffic is not an outage.
          treatMissingData: 'notBreaching',
          alarmActions: [props.topicArn],
          okActions: [props.topicArn],
        }),
    );

    const period = config.ALARM_PERIOD_SECONDS;
    const line = (namespace: string, metric: string, dimensions: Record<string, string>, stat: string) =>
      [
        namespace,
        metric,
        ...Object.entries(dimensions).flat(),
        { stat, label: [metric, dimensions.Operation, stat].filter(Boolean).join(' ') },
      ] as MetricLine;
    const fnLines = (role: FunctionRole) => [
      line('AWS/Lambda', 'Invocations', fn(role), 'Sum'),
      line('AWS/Lambda', 'Errors', fn(role), 'Sum'),
      line('AWS/Lambda', 'Throttles', fn(role), 'Sum'),
    ];
    const durationLines = (role: FunctionRole) =>
      ['p50', 'p95', 'p99'].map((stat) => line('AWS/Lambda', 'Duration', fn(role), stat));
    const table = { TableName: names.resultsTable };

    const widgets: [string, MetricLine[]][] = [
      ['API function: invocations, errors, throttles', fnLines('api')],
      ['API function: duration (ms)', durationLines('api')],
      [
        'HTTP API: requests and errors',
        ['Count', '4xx', '5xx'].map((metric) => line('AWS/ApiGateway', metric, httpApi, 'Sum')),
      ],
      [
        'HTTP API: latency p95 (ms)',
        ['Latency', 'IntegrationLatency'].map((metric) => line('AWS/ApiGateway', metric, httpApi, 'p95')),
      ],
      ['Worker function: invocations, errors, throttles', fnLines('worker')],
      ['Worker function: duration (ms)', durationLines('worker')],
      ['Ingest function: invocations, errors, throttles', fnLines('ingest')],
      ['Ingest function: duration (ms)', durationLines('ingest')],
      [
        'Pipeline: executions',
        [
          'ExecutionsStarted',
          'ExecutionsSucceeded',
          'ExecutionsFailed',
          'ExecutionsTimedOut',
          'ExecutionThrottled',
        ].map((metric) => line('AWS/States', metric, stateMachine, 'Sum')),
      ],
      [
        'Pipeline: execution time (ms)',
        ['p50', 'p95'].map((stat) => line('AWS/States', 'ExecutionTime', stateMachine, stat)),
      ],
      [
        'Classifier: invocations and errors',
        ['Invocations', 'Invocation4XXErrors', 'Invocation5XXErrors'].map((metric) =>
          line('AWS/SageMaker', metric, endpoint, 'Sum'),
        ),
      ],
      [
        'Classifier: latency p95 (µs)',
        ['ModelLatency', 'OverheadLatency', 'ModelSetupTime'].map((metric) =>
          line('AWS/SageMaker', metric, endpoint, 'p95'),
        ),
      ],
      [
        'Results table: capacity consumed',
        ['ConsumedReadCapacityUnits', 'ConsumedWriteCapacityUnits'].map((metric) =>
          line('AWS/DynamoDB', metric, table, 'Sum'),
        ),
      ],
      [
        'Results table: throttles and errors',
        [
          ...['ReadThrottleEvents', 'WriteThrottleEvents'].map((metric) =>
            line('AWS/DynamoDB', metric, table, 'Sum'),
          ),
          // DynamoDB publishes SystemErrors per operation only: the ones the API and the pipeline make.
          ...tableOperations.map((Operation) =>
            line('AWS/DynamoDB', 'SystemErrors', { ...table, Operation }, 'Sum'),
          ),
        ],
      ],
    ];

    const width = 12;
    const height = 6;
    const metricWidgets = widgets.map(([title, metrics], index) => ({
      type: 'metric',
      x: (index % 2) * width,
      y: Math.floor(index / 2) * height,
      width,
      height,
      properties: { title, region: names.region, view: 'timeSeries', stacked: false, period, metrics },
    }));
    const alarmWidget = {
      type: 'alarm',
      x: 0,
      y: Math.ceil(widgets.length / 2) * height,
      width: 24,
      height: 4,
      properties: { title: 'Alarms', alarms: this.alarms.map((alarm) => alarm.arn) },
    };
    this.dashboard = new CloudwatchDashboard(this, 'dashboard', {
      dashboardName: names.dashboard,
      dashboardBody: JSON.stringify({ widgets: [...metricWidgets, alarmWidget] }),
    });
  }
}

/** Durations alarm on their 95th percentile, counts on their sum. */
function alarm(
  id: string,
  description: string,
  [namespace, metric, dimensions]: readonly [string, string, Record<string, string>],
  threshold: number,
): AlarmSpec {
  const statistic = metric === 'Duration' ? 'p95' : 'Sum';
  return { id, description, namespace, metric, dimensions, statistic, threshold };
}
