export { cloudWatchActions, cloudWatchProtocol } from './actions.ts';
export {
  evaluate,
  evaluationRange,
  type AlarmState,
  type ComparisonOperator,
  type EvaluatedAlarm,
  type Evaluation,
  type TreatMissingData,
} from './alarm-evaluation.ts';
export { alarmNotification, type AlarmNotification } from './alarm-notification.ts';
export { parseEmbeddedMetrics, type EmbeddedMetrics } from './emf.ts';
export {
  startCloudWatchServer,
  type AlarmActionCall,
  type CloudWatchServer,
  type CloudWatchServerOptions,
  type PublishedMetric,
} from './server.ts';
export { computeStatistic, type MetricDatum } from './statistics.ts';
