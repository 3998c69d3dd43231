import type { ProviderName, ResultRecord } from '../schemas.ts';

// The platform's own CloudWatch metrics (embedded metric format through Powertools Metrics), named once for the
// worker and API that emit them and the alarms and dashboard that watch them. Powertools adds the `service`
// dimension (SERVICE_NAME, the same in every function) to each.

export const customMetrics = {
  namespace: 'MCVision',
  serviceDimension: 'service',

  // The worker, per task invocation (dimension `task`: `classify`, `describe-bedrock`, ...).
  taskDimension: 'task',
  taskSucceeded: 'TaskSucceeded',
  taskFailed: 'TaskFailed',
  /** Milliseconds per task invocation. */
  taskLatency: 'TaskLatency',

  // The ingest handler, per S3 event: objects it logged, malformed records it skipped.
  imagesIngested: 'ImagesIngested',
  ingestRecordsSkipped: 'IngestRecordsSkipped',

  // The API, per request: by `route` and, for the whole API, by service alone.
  routeDimension: 'route',
  requestLatency: 'Latency',
  requestSucceeded: 'Success',
  requestClientError: 'ClientError',
  requestFailed: 'Failure',

  // Per result record (pipeline and synchronous analyses alike), 1 or 0, so that `Sum` counts and `Average`
  // is a rate. Dimension `provider` for the provider metrics.
  providerDimension: 'provider',
  /** The provider asked for this record ended throttled (after any retries). */
  providerThrottled: 'ProviderThrottled',
  /** The provider asked for this record was down, timed out or answered 5xx (after any retries). */
  providerUnavailable: 'ProviderUnavailable',
  /** A describer's guardrail masked or blocked something (or the provider's content filter refused). */
  guardrailInterventions: 'GuardrailInterventions',
  partialRecords: 'PartialRecords',
  failedRecords: 'FailedRecords',
} as const;

/** One value of a custom metric, with the dimensions it carries besides `service`. */
export interface CustomMetricValue {
  name: string;
  unit: 'Count' | 'Milliseconds';
  value: number;
  dimensions: Record<string, string>;
}

const describers = ['bedrock', 'azure'] as const satisfies readonly ProviderName[];

/**
 * What a freshly built record tells CloudWatch: for each provider it asked, whether it ended throttled or
 * unavailable; for each describer that answered, whether its guardrail intervened; and whether the record is
 * partial or failed. The worker (pipeline records) and the API (synchronous analyses) both emit exactly these.
 */
export function recordMetrics(record: ResultRecord): CustomMetricValue[] {
  const m = customMetrics;
  const count = (name: string, value: boolean, dimensions: Record<string, string> = {}) => ({
    name,
    unit: 'Count' as const,
    value: value ? 1 : 0,
    dimensions,
  });
  const asked = (['sagemaker', 'bedrock', 'azure'] as const).filter(
    (provider) => record.results[provider] !== undefined || record.errors?.[provider] !== undefined,
  );
  const perProvider = asked.flatMap((provider) => {
    const code = record.errors?.[provider]?.code;
    const dimensions = { [m.providerDimension]: provider };
    return [
      count(m.providerThrottled, code === 'ProviderThrottled', dimensions),
      count(m.providerUnavailable, code === 'ProviderUnavailable', dimensions),
    ];
  });
  const guardrails = describers
    .filter((provider) => asked.includes(provider))
    .map((provider) => {
      const action = record.results[provider]?.guardrail.action;
      const intervened =
        (action !== undefined && action !== 'NONE') ||
        record.errors?.[provider]?.code === 'GuardrailIntervened';
      return count(m.guardrailInterventions, intervened, { [m.providerDimension]: provider });
    });
  return [
    ...perProvider,
    ...guardrails,
    count(m.partialRecords, record.status === 'partial'),
    count(m.failedRecords, record.status === 'failed'),
  ];
}

/** What `publishCustomMetrics` needs of Powertools' `Metrics` (core does not depend on Powertools). */
export interface MetricsPublisher {
  addDimension(name: string, value: string): unknown;
  addMetric(name: string, unit: CustomMetricValue['unit'], value: number): unknown;
  publishStoredMetrics(): unknown;
}

/**
 * Emits the values through Powertools, one EMF line per set of dimensions, in one synchronous block: Powertools
 * keeps one buffer per instance, so concurrent handlers in one process (the local cloud) must never interleave.
 */
export function publishCustomMetrics(metrics: MetricsPublisher, values: readonly CustomMetricValue[]): void {
  const groups = new Map<string, CustomMetricValue[]>();
  for (const value of values) {
    const key = JSON.stringify(Object.entries(value.dimensions).sort());
    groups.set(key, [...(groups.get(key) ?? []), value]);
  }
  for (const group of groups.values()) {
    for (const [name, dimension] of Object.entries(group[0]!.dimensions))
      metrics.addDimension(name, dimension);
    for (const value of group) metrics.addMetric(value.name, value.unit, value.value);
    metrics.publishStoredMetrics();
  }
}
