import {
  customMetrics as m,
  publishCustomMetrics,
  recordMetrics,
  type CustomMetricValue,
  type MetricsPublisher,
} from '@mc-vision/core/monitoring/metrics';
import type { BuildRecordOutput, TaskName } from '@mc-vision/core/pipeline/index';
import type { IngestSummary } from './ingest-handler.ts';
import type { TaskHandler, TaskOutput } from './task-handler.ts';

// The worker's own CloudWatch metrics, the same wherever it runs: the Lambda entry (lambda.ts) emits them through
// Powertools to stdout, the local cloud through a Powertools instance whose output it reads.

/** Per task invocation: succeeded or failed, and how long it took; for a built record, what it says. */
export function taskMetrics(
  task: TaskName | 'invalid',
  outcome: { ok: true; output: TaskOutput } | { ok: false },
  latencyMs: number,
): CustomMetricValue[] {
  const dimensions = { [m.taskDimension]: task };
  const values: CustomMetricValue[] = [
    { name: outcome.ok ? m.taskSucceeded : m.taskFailed, unit: 'Count', value: 1, dimensions },
    { name: m.taskLatency, unit: 'Milliseconds', value: latencyMs, dimensions },
  ];
  if (outcome.ok && task === 'build-record')
    values.push(...recordMetrics((outcome.output as BuildRecordOutput).record));
  return values;
}

/** Per S3 event: the objects logged and the malformed records skipped (0 included, so the alarm has data). */
export function ingestMetrics(summary: IngestSummary): CustomMetricValue[] {
  return [
    { name: m.imagesIngested, unit: 'Count', value: summary.logged, dimensions: {} },
    { name: m.ingestRecordsSkipped, unit: 'Count', value: summary.skipped, dimensions: {} },
  ];
}

export function taskNameOf(event: unknown, names: readonly TaskName[]): TaskName | 'invalid' {
  const task = event && typeof event === 'object' && 'task' in event ? event.task : undefined;
  return names.find((name) => name === task) ?? 'invalid';
}

/** The task handler, emitting `taskMetrics` for every invocation. */
export function withTaskMetrics(
  handler: TaskHandler,
  metrics: MetricsPublisher,
  names: readonly TaskName[],
): TaskHandler {
  return async (event) => {
    const task = taskNameOf(event, names);
    const started = performance.now();
    try {
      const output = await handler(event);
      publishCustomMetrics(metrics, taskMetrics(task, { ok: true, output }, performance.now() - started));
      return output;
    } catch (error) {
      publishCustomMetrics(metrics, taskMetrics(task, { ok: false }, performance.now() - started));
      throw error;
    }
  };
}

/** The ingest handler, emitting `ingestMetrics` for every event. */
export function withIngestMetrics<Event>(
  handler: (event: Event) => IngestSummary,
  metrics: MetricsPublisher,
): (event: Event) => IngestSummary {
  return (event) => {
    const summary = handler(event);
    publishCustomMetrics(metrics, ingestMetrics(summary));
    return summary;
  };
}
