import * as z from 'zod';

// Monitoring settings: the alarms' period, how many periods must breach, and one threshold per alarm (counts
// per period, durations in milliseconds, rates in percent). infra renders the alarms with them and the local
// cloud evaluates the same alarms with them, so `infra/env/<env>.env` and a laptop's environment set them alike.

const int = (min: number, max: number = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
const positive = z.coerce.number().positive();
const percent = z.coerce.number().min(0).max(100);

export const monitoringConfigShape = {
  // The alarms watch standard-resolution metrics (Lambda, API Gateway, Step Functions, SageMaker publish
  // one datapoint a minute): a 10 s or 30 s period would only ever see missing data.
  ALARM_PERIOD_SECONDS: z.coerce
    .number()
    .refine((s) => s >= 60 && s % 60 === 0, {
      message: 'must be a multiple of 60 (standard-resolution metrics)',
    })
    .default(300),
  ALARM_EVALUATION_PERIODS: int(1, 100).default(1),
  ALARM_API_ERRORS: int(0).default(5),
  ALARM_API_THROTTLES: int(0).default(1),
  ALARM_API_P95_MS: positive.default(10_000),
  ALARM_API_5XX: int(0).default(5),
  /** The API's own p95 latency over every route (its `Latency` metric), in milliseconds. */
  ALARM_API_LATENCY_P95_MS: positive.default(5_000),
  ALARM_WORKER_ERRORS: int(0).default(5),
  ALARM_WORKER_P95_MS: positive.default(60_000),
  ALARM_INGEST_ERRORS: int(0).default(1),
  ALARM_INGEST_P95_MS: positive.default(5_000),
  /** Malformed S3 event records the ingest handler skipped. */
  ALARM_INGEST_SKIPPED_RECORDS: int(0).default(0),
  ALARM_PIPELINE_FAILED: int(0).default(1),
  ALARM_PIPELINE_TIMED_OUT: int(0).default(1),
  ALARM_PIPELINE_THROTTLED: int(0).default(1),
  ALARM_SAGEMAKER_5XX: int(0).default(1),
  ALARM_SAGEMAKER_4XX: int(0).default(5),
  /** Share of records (pipeline and analyses) in which a provider ended throttled, per provider. */
  ALARM_PROVIDER_THROTTLED_PERCENT: percent.default(20),
  /** Share of records in which a provider ended unavailable (down, timed out, 5xx), per provider. */
  ALARM_PROVIDER_UNAVAILABLE_PERCENT: percent.default(20),
  /** Descriptions a describer's guardrail masked or blocked, per describer. */
  ALARM_GUARDRAIL_INTERVENTIONS: int(0).default(10),
  ALARM_PARTIAL_RECORDS: int(0).default(5),
  ALARM_FAILED_RECORDS: int(0).default(0),

  /**
   * Laptop only: the local cloud evaluates every alarm with this period (seconds) in place of its own, so an
   * outage shows within seconds; nothing else about an alarm changes. Unset: each alarm's own period.
   */
  MONITORING_PERIOD_SECONDS: int(1, 86_400).optional(),
};
