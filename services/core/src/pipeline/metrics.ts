/**
 * The worker's CloudWatch metrics (embedded metric format), named once for the worker that emits them and the
 * alarms and dashboard that watch them. Powertools adds a `service` dimension (SERVICE_NAME) to each.
 */
export const workerMetrics = {
  namespace: 'MCVision',
  /** Count per task, with dimension `task` (`classify`, `describe-bedrock`, …). */
  taskSucceeded: 'TaskSucceeded',
  taskFailed: 'TaskFailed',
  /** Milliseconds per task invocation, with dimension `task`. */
  taskLatency: 'TaskLatency',
  taskDimension: 'task',
  /** Count of uploaded objects the ingest handler logged, and of malformed records it skipped. */
  imagesIngested: 'ImagesIngested',
  ingestRecordsSkipped: 'IngestRecordsSkipped',
} as const;
