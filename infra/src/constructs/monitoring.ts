import { CloudwatchDashboard } from '@cdktf/provider-aws/lib/cloudwatch-dashboard';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import type { Config } from '@mc-vision/core/config/index';
import {
  buildMonitoringDefinition,
  type AlarmDefinition,
  type MonitoringDefinition,
  type Statistic,
  type WidgetMetric,
} from '@mc-vision/core/monitoring/index';
import { Construct } from 'constructs';
import type { ResourceNames } from '../names';

export interface MonitoringProps {
  config: Config;
  names: ResourceNames;
  /** The alarms topic: never the pipeline's results topic. */
  topicArn: string;
  httpApiId: string;
}

/** `p95`, `p99.9`: CloudWatch's extended statistics; the basic five are `statistic`. */
export function isPercentile(statistic: Statistic): statistic is `p${number}` {
  return statistic.startsWith('p');
}

/** One alarm as Terraform's `aws_cloudwatch_metric_alarm` takes it, notifying `topicArn` on ALARM and on OK. */
export function alarmResource(alarm: AlarmDefinition, topicArn: string) {
  return {
    alarmName: alarm.name,
    alarmDescription: alarm.description,
    namespace: alarm.metric.namespace,
    metricName: alarm.metric.name,
    dimensions: alarm.metric.dimensions,
    ...(isPercentile(alarm.statistic)
      ? { extendedStatistic: alarm.statistic }
      : { statistic: alarm.statistic }),
    period: alarm.period,
    evaluationPeriods: alarm.evaluationPeriods,
    datapointsToAlarm: alarm.datapointsToAlarm,
    threshold: alarm.threshold,
    comparisonOperator: alarm.comparison,
    treatMissingData: alarm.treatMissingData,
    alarmActions: [topicArn],
    okActions: [topicArn],
  };
}

/** A widget line in the dashboard body's array form: namespace, name, dimension pairs, then options. */
function metricLine(metric: WidgetMetric): (string | { stat: string; label: string })[] {
  return [
    metric.namespace,
    metric.name,
    ...Object.entries(metric.dimensions).flat(),
    { stat: metric.statistic, label: metric.label },
  ];
}

/** The dashboard body CloudWatch takes: the definition's widgets two to a row, then the alarms. */
export function dashboardBody(
  definition: MonitoringDefinition,
  region: string,
  alarmArns: readonly string[],
): string {
  const width = 12;
  const height = 6;
  const { widgets, period } = definition.dashboard;
  const metricWidgets = widgets.map((widget, index) => ({
    type: 'metric',
    x: (index % 2) * width,
    y: Math.floor(index / 2) * height,
    width,
    height,
    properties: {
      title: widget.title,
      region,
      view: 'timeSeries',
      stacked: false,
      period,
      metrics: widget.metrics.map(metricLine),
    },
  }));
  const alarmWidget = {
    type: 'alarm',
    x: 0,
    y: Math.ceil(widgets.length / 2) * height,
    width: 24,
    height: 4,
    properties: { title: 'Alarms', alarms: alarmArns },
  };
  return JSON.stringify({ widgets: [...metricWidgets, alarmWidget] });
}

/**
 * core's monitoring definition rendered into CloudWatch: every alarm, notifying the alarms topic when it goes
 * to ALARM and when it clears, and the dashboard with the same widgets the API draws.
 */
export class Monitoring extends Construct {
  readonly definition: MonitoringDefinition;
  readonly alarms: CloudwatchMetricAlarm[];
  readonly dashboard: CloudwatchDashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { config, names } = props;
    this.definition = buildMonitoringDefinition(
      {
        functionNames: {
          api: names.functionName('api'),
          worker: names.functionName('worker'),
          ingest: names.functionName('ingest'),
        },
        serviceName: config.SERVICE_NAME,
        stateMachineArn: names.stateMachineArn,
        classifierEndpoint: names.sagemakerEndpoint,
        httpApiId: props.httpApiId,
        resultsTable: names.resultsTable,
        alarmNamePrefix: names.alarmPrefix,
        dashboardName: names.dashboard,
      },
      config,
    );
    this.alarms = this.definition.alarms.map(
      (alarm) => new CloudwatchMetricAlarm(this, alarm.id, alarmResource(alarm, props.topicArn)),
    );
    this.dashboard = new CloudwatchDashboard(this, 'dashboard', {
      dashboardName: this.definition.dashboard.name,
      dashboardBody: dashboardBody(
        this.definition,
        names.region,
        this.alarms.map((alarm) => alarm.arn),
      ),
    });
  }
}
