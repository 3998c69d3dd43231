import * as z from 'zod';

// The contracts of ARCHITECTURE.md as zod schemas: the API validates with them, the OpenAPI document is
// generated from them, the worker and the web UI share them.

export const providerNames = ['sagemaker', 'bedrock', 'azure'] as const;
export const providerNameSchema = z.enum(providerNames);
export type ProviderName = z.infer<typeof providerNameSchema>;

export const imageContentTypes = ['image/jpeg', 'image/png', 'image/webp'] as const;
export const imageContentTypeSchema = z.enum(imageContentTypes);
export type ImageContentType = z.infer<typeof imageContentTypeSchema>;

/** Object keys the platform reads images from: always under `images/`, no path tricks. */
export const imageKeySchema = z
  .string()
  .max(512)
  .regex(
    /^images\/[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/,
    'must be a key under images/',
  );

/** Also the Step Functions execution name, so it keeps to that name's alphabet and length. */
export const requestIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'must be 1-64 letters, digits, "-" or "_"');

// ---- provider results ----

export const labelScoreSchema = z.object({ label: z.string(), score: z.number().min(0).max(1) });
export type LabelScore = z.infer<typeof labelScoreSchema>;

export const classificationSchema = z.object({
  model: z.string(),
  labels: z.array(labelScoreSchema),
  latencyMs: z.number().nonnegative(),
});
export type Classification = z.infer<typeof classificationSchema>;

/** What the model server answers on `POST /invocations` (and so what the SageMaker endpoint returns). */
export const classifierResponseSchema = z.object({
  model: z.string(),
  labels: z.array(labelScoreSchema),
});
export type ClassifierResponse = z.infer<typeof classifierResponseSchema>;

export const guardrailActionSchema = z.enum(['NONE', 'ANONYMIZED', 'BLOCKED']);
export const guardrailFindingSchema = z.object({
  /** `pii`, `content` or `word`. */
  policy: z.enum(['pii', 'content', 'word']),
  /** PII entity type (`EMAIL`), content filter (`VIOLENCE`) or `PROFANITY`/`CUSTOM_WORD`. */
  type: z.string(),
  action: z.enum(['ANONYMIZED', 'BLOCKED']),
});
export const guardrailResultSchema = z.object({
  action: guardrailActionSchema,
  findings: z.array(guardrailFindingSchema),
});
export type GuardrailResult = z.infer<typeof guardrailResultSchema>;

export const tokenUsageSchema = z.object({
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
});
export type TokenUsage = z.infer<typeof tokenUsageSchema>;

export const descriptionSchema = z.object({
  model: z.string(),
  caption: z.string(),
  tags: z.array(z.string()),
  guardrail: guardrailResultSchema,
  usage: tokenUsageSchema,
  costUsd: z.number().nonnegative(),
  latencyMs: z.number().nonnegative(),
  /** True when a local emulator, not the real service, produced it. */
  emulated: z.boolean(),
});
export type Description = z.infer<typeof descriptionSchema>;

export const providerErrorSchema = z.object({ code: z.string(), message: z.string() });
export type ProviderErrorInfo = z.infer<typeof providerErrorSchema>;

// ---- the result record (one per requestId) ----

export const resultStatusSchema = z.enum(['complete', 'partial', 'failed']);
export type ResultStatus = z.infer<typeof resultStatusSchema>;

export const resultRecordSchema = z.object({
  requestId: requestIdSchema,
  imageKey: imageKeySchema,
  source: z.enum(['pipeline', 'analysis']),
  status: resultStatusSchema,
  createdAt: z.iso.datetime(),
  /** Epoch seconds: DynamoDB's TTL attribute. */
  expiresAt: z.number().int().positive(),
  results: z.object({
    sagemaker: classificationSchema.optional(),
    bedrock: descriptionSchema.optional(),
    azure: descriptionSchema.optional(),
  }),
  errors: z.partialRecord(providerNameSchema, providerErrorSchema).optional(),
  /** The batch this record is one item of (`POST /v1/batches`); absent for a single analysis or pipeline. */
  batchId: requestIdSchema.optional(),
});
export type ResultRecord = z.infer<typeof resultRecordSchema>;

// ---- HTTP API ----

export const errorCodes = [
  'invalid_request',
  'unauthorized',
  'forbidden',
  'not_found',
  'conflict',
  'payload_too_large',
  'unsupported_media_type',
  'undecodable_image',
  'rate_limited',
  'provider_failed',
  'not_ready',
  'internal',
] as const;
export const errorCodeSchema = z.enum(errorCodes);

/**
 * The laptop's sign-in (`POST /local/sign-in`): the one-time code of the link `pnpm start` prints, exchanged
 * once for the API key, so that the link in the browser's history holds no key.
 */
export const signInRequestSchema = z.strictObject({ code: z.string().min(16).max(128) });
export const signInResponseSchema = z.object({ apiKey: z.string().min(16) });
export type ErrorCode = z.infer<typeof errorCodeSchema>;

export const errorResponseSchema = z.object({
  error: z.object({ code: errorCodeSchema, message: z.string(), requestId: z.string() }),
});
export type ErrorResponse = z.infer<typeof errorResponseSchema>;

export const componentStatusSchema = z.object({
  status: z.enum(['up', 'down']),
  detail: z.string().optional(),
});
export const healthResponseSchema = z.object({
  status: z.enum(['ok', 'degraded']),
  mode: z.enum(['local', 'aws']),
  version: z.string(),
  components: z.record(z.string(), componentStatusSchema),
});
export type HealthResponse = z.infer<typeof healthResponseSchema>;

export const uploadRequestSchema = z.object({
  contentType: imageContentTypeSchema,
  contentLength: z.number().int().positive(),
});
export type UploadRequest = z.infer<typeof uploadRequestSchema>;

export const uploadResponseSchema = z.object({
  key: imageKeySchema,
  url: z.url(),
  /** Headers the PUT must send exactly as given: they are part of the signature. */
  headers: z.record(z.string(), z.string()),
  expiresAt: z.iso.datetime(),
});
export type UploadResponse = z.infer<typeof uploadResponseSchema>;

/** `GET /v1/thumbnails?key=images/…`: a small copy of a stored image. */
export const thumbnailQuerySchema = z.object({ key: imageKeySchema });

export const imageResponseSchema = z.object({
  key: imageKeySchema,
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  contentType: imageContentTypeSchema,
  bytes: z.number().int().positive(),
});
export type ImageResponse = z.infer<typeof imageResponseSchema>;

export const providerListSchema = z
  .array(providerNameSchema)
  .min(1)
  .refine((list) => new Set(list).size === list.length, 'providers must not repeat');

export const analysisRequestSchema = z.object({
  key: imageKeySchema,
  providers: providerListSchema.optional(),
  requestId: requestIdSchema.optional(),
});
export type AnalysisRequest = z.infer<typeof analysisRequestSchema>;

export const routePolicySchema = z.enum(['cost', 'quality']);
export const routeRequestSchema = z.object({
  key: imageKeySchema,
  policy: routePolicySchema,
  requestId: requestIdSchema.optional(),
});
export type RouteRequest = z.infer<typeof routeRequestSchema>;
export const routeResponseSchema = z.object({
  chosen: providerNameSchema,
  reason: z.string(),
  result: resultRecordSchema,
});
export type RouteResponse = z.infer<typeof routeResponseSchema>;

export const executionStatusSchema = z.enum(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']);
export type ExecutionStatus = z.infer<typeof executionStatusSchema>;

export const pipelineRequestSchema = z.object({
  key: imageKeySchema,
  requestId: requestIdSchema.optional(),
});
export type PipelineRequest = z.infer<typeof pipelineRequestSchema>;
export const pipelineStartResponseSchema = z.object({
  requestId: requestIdSchema,
  /** The execution's ARN; `GET /v1/pipelines/{executionId}` also accepts the bare execution name. */
  executionId: z.string(),
  status: executionStatusSchema,
});
export type PipelineStartResponse = z.infer<typeof pipelineStartResponseSchema>;

export const stepStatusSchema = z.enum(['pending', 'running', 'succeeded', 'failed', 'caught']);
export const pipelineStepSchema = z.object({
  name: z.string(),
  status: stepStatusSchema,
  attempts: z.number().int().nonnegative(),
  startedAt: z.iso.datetime().optional(),
  endedAt: z.iso.datetime().optional(),
  error: providerErrorSchema.optional(),
});
export type PipelineStep = z.infer<typeof pipelineStepSchema>;
export const pipelineStatusResponseSchema = z.object({
  executionId: z.string(),
  requestId: requestIdSchema,
  status: executionStatusSchema,
  startedAt: z.iso.datetime(),
  stoppedAt: z.iso.datetime().optional(),
  steps: z.array(pipelineStepSchema),
  /** The stored record once the execution has one. */
  output: resultRecordSchema.optional(),
  error: providerErrorSchema.optional(),
});
export type PipelineStatusResponse = z.infer<typeof pipelineStatusResponseSchema>;

export const resultsQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  nextToken: z.string().max(2048).optional(),
});
export type ResultsQuery = z.infer<typeof resultsQuerySchema>;
export const resultsListResponseSchema = z.object({
  items: z.array(resultRecordSchema),
  nextToken: z.string().optional(),
});
export type ResultsListResponse = z.infer<typeof resultsListResponseSchema>;

// ---- monitoring (`/v1/monitoring/*`): the dashboard's data and the alarms, read from CloudWatch ----

export const monitoringDashboardQuerySchema = z.object({
  /** How far back, in minutes (default 60, at most a day). */
  minutes: z.coerce.number().int().min(5).max(1440).default(60),
});

const metricIdSchema = z.object({
  namespace: z.string(),
  name: z.string(),
  dimensions: z.record(z.string(), z.string()),
});

export const monitoringSeriesSchema = metricIdSchema.extend({
  label: z.string(),
  statistic: z.string(),
  /** Oldest first; a period without data has no point. */
  points: z.array(z.object({ timestamp: z.iso.datetime(), value: z.number() })),
});

export const monitoringWidgetSchema = z.object({
  id: z.string(),
  title: z.string(),
  unit: z.enum(['count', 'ms', 'µs', 'ratio']),
  series: z.array(monitoringSeriesSchema),
});

export const monitoringDashboardResponseSchema = z.object({
  name: z.string(),
  /** Seconds per point. */
  period: z.number().int().positive(),
  start: z.iso.datetime(),
  end: z.iso.datetime(),
  widgets: z.array(monitoringWidgetSchema),
});
export type MonitoringDashboardResponse = z.infer<typeof monitoringDashboardResponseSchema>;
export type MonitoringWidget = z.infer<typeof monitoringWidgetSchema>;

export const alarmStateSchema = z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA']);
export type AlarmStateValue = z.infer<typeof alarmStateSchema>;

export const monitoringAlarmSchema = z.object({
  name: z.string(),
  description: z.string().optional(),
  state: alarmStateSchema,
  reason: z.string(),
  /** When the alarm last changed state. */
  since: z.iso.datetime(),
  metric: metricIdSchema,
  statistic: z.string(),
  comparison: z.string(),
  threshold: z.number(),
  period: z.number().int().positive(),
  evaluationPeriods: z.number().int().positive(),
  datapointsToAlarm: z.number().int().positive(),
  treatMissingData: z.string(),
});
export type MonitoringAlarm = z.infer<typeof monitoringAlarmSchema>;

export const monitoringAlarmsResponseSchema = z.object({ alarms: z.array(monitoringAlarmSchema) });
export type MonitoringAlarmsResponse = z.infer<typeof monitoringAlarmsResponseSchema>;

export const alarmNameSchema = z.string().regex(/^[A-Za-z0-9._-]{1,255}$/, 'must be an alarm name');

export const monitoringAlarmHistoryResponseSchema = z.object({
  name: z.string(),
  /** Newest first. */
  items: z.array(
    z.object({
      timestamp: z.iso.datetime(),
      type: z.enum(['ConfigurationUpdate', 'StateUpdate', 'Action']),
      summary: z.string(),
    }),
  ),
});
export type MonitoringAlarmHistoryResponse = z.infer<typeof monitoringAlarmHistoryResponseSchema>;
