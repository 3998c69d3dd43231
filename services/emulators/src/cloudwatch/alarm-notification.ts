import { cloudWatchTime, type AlarmState } from './alarm-evaluation.ts';
import type { StoredAlarm } from './store.ts';

// The message CloudWatch publishes to an alarm's SNS actions when its state changes: the JSON document e-mail
// and queue subscribers receive (AlarmName, NewStateValue, NewStateReason, StateChangeTime, Trigger, ...),
// under the subject `ALARM: "<name>" in <region's name>`.

/** The names CloudWatch gives regions in alarm notifications. */
const regionNames: Record<string, string> = {
  'us-east-1': 'US East (N. Virginia)',
  'us-east-2': 'US East (Ohio)',
  'us-west-1': 'US West (N. California)',
  'us-west-2': 'US West (Oregon)',
  'eu-west-1': 'EU (Ireland)',
  'eu-west-2': 'EU (London)',
  'eu-west-3': 'EU (Paris)',
  'eu-central-1': 'EU (Frankfurt)',
  'eu-north-1': 'EU (Stockholm)',
  'ap-northeast-1': 'Asia Pacific (Tokyo)',
  'ap-southeast-1': 'Asia Pacific (Singapore)',
  'ap-southeast-2': 'Asia Pacific (Sydney)',
};

const statisticNames: Record<string, string> = {
  SampleCount: 'SAMPLE_COUNT',
  Average: 'AVERAGE',
  Sum: 'SUM',
  Minimum: 'MINIMUM',
  Maximum: 'MAXIMUM',
};

export interface AlarmNotification {
  /** SNS limits a subject to 100 characters. */
  subject: string;
  /** The JSON document, as text. */
  message: string;
}

export function alarmNotification(
  alarm: StoredAlarm,
  oldState: AlarmState,
  region: string,
  accountId: string,
): AlarmNotification {
  const { config } = alarm;
  const regionName = regionNames[region] ?? region;
  const statistic = config.ExtendedStatistic
    ? { StatisticType: 'ExtendedStatistic', ExtendedStatistic: config.ExtendedStatistic }
    : { StatisticType: 'Statistic', Statistic: statisticNames[config.Statistic ?? ''] ?? config.Statistic };
  const message = {
    AlarmName: config.AlarmName,
    AlarmDescription: config.AlarmDescription ?? null,
    AWSAccountId: accountId,
    AlarmConfigurationUpdatedTimestamp: cloudWatchTime(alarm.configUpdated),
    NewStateValue: alarm.state,
    NewStateReason: alarm.stateReason,
    StateChangeTime: cloudWatchTime(alarm.stateUpdated),
    Region: regionName,
    AlarmArn: alarm.arn,
    OldStateValue: oldState,
    OKActions: config.OKActions,
    AlarmActions: config.AlarmActions,
    InsufficientDataActions: config.InsufficientDataActions,
    Trigger: {
      MetricName: config.MetricName,
      Namespace: config.Namespace,
      ...statistic,
      Unit: config.Unit ?? null,
      Dimensions: config.Dimensions.map((d) => ({ value: d.Value, name: d.Name })),
      Period: config.Period,
      EvaluationPeriods: config.EvaluationPeriods,
      DatapointsToAlarm: config.DatapointsToAlarm ?? config.EvaluationPeriods,
      ComparisonOperator: config.ComparisonOperator,
      Threshold: config.Threshold,
      TreatMissingData: config.TreatMissingData ?? 'missing',
      EvaluateLowSampleCountPercentile: '',
    },
  };
  const subject = `${alarm.state}: "${config.AlarmName}" in ${regionName}`;
  return { subject: subject.slice(0, 100), message: JSON.stringify(message) };
}
