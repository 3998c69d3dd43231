import type { SFNClient } from '@aws-sdk/client-sfn';
import {
  batchCounts,
  latestMapRun,
  providerNames,
  resultsManifestKey,
  summarizeBatchOutputSchema,
  type BatchRecords,
  type BatchTally,
  type SummarizeBatchOutput,
  type SummarizeBatchTask,
} from '@mc-vision/core';
import { apiLink, errorCode } from './build-record.ts';

// The batch's SummarizeBatch step: one notification for the whole batch, from its map run's counts (Step
// Functions' DescribeMapRun) and its records (the results table's byBatch index). Like the pipeline's
// notification it says only what the platform itself says: counts, statuses, error codes, requestIds and where
// the results are; never model output, error messages or image keys.

export interface BatchSummaryDeps {
  sfn: SFNClient;
  records: BatchRecords;
  /** The bucket the ResultWriter writes to (the images bucket). */
  imagesBucket: string;
  /** Where callers reach the API (`API_BASE_URL`): the summary links to the batch's items there. */
  apiBaseUrl?: string;
}

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;

export async function summarizeBatch(
  task: SummarizeBatchTask,
  deps: BatchSummaryDeps,
): Promise<SummarizeBatchOutput> {
  const [mapRun, tally] = await Promise.all([
    latestMapRun(deps.sfn, task.executionArn),
    deps.records.tally(task.batchId),
  ]);
  const counts = batchCounts(mapRun, tally);
  const failure = task.outcome.failure;
  const results = mapRun
    ? { bucket: deps.imagesBucket, manifestKey: resultsManifestKey(mapRun.id) }
    : undefined;

  const outcome = failure ? 'FAILED' : 'SUCCEEDED';
  const cause = !failure
    ? `${counts.failed} of ${counts.total} items failed.`
    : failure.Error === 'States.ExceedToleratedFailureThreshold'
      ? `${counts.failed} of ${counts.total} items failed, more than the ` +
        `${mapRun?.toleratedFailurePercentage ?? 0}% the batch tolerates.`
      : `The batch failed (${errorCode(failure.Error)}): ${counts.failed} of ${counts.total} items failed.`;
  const lines = [
    `MC Vision batch ${task.batchId}: ${outcome}.`,
    `${counts.total} images: ${counts.complete} complete, ${counts.partial} partial, ${counts.failed} failed` +
      (counts.running > 0 ? `, ${counts.running} not run.` : '.'),
    ...(failure ? ['', cause] : []),
    ...providerErrorLines(tally),
    ...failedItemLines(tally, counts.failed),
    '',
    ...(results ? [`Results: s3://${results.bucket}/${results.manifestKey}`] : []),
    `Items: ${apiLink(`/v1/batches/${task.batchId}/items`, deps.apiBaseUrl)} (send your API key in x-api-key).`,
  ];
  // SNS subjects: at most 100 printable ASCII characters (a batch id is at most 59, of [A-Za-z0-9_-]).
  const done = counts.complete + counts.partial;
  const subject = `MC Vision: batch ${task.batchId} ${outcome.toLowerCase()}, ${done}/${counts.total} done`;
  return summarizeBatchOutputSchema.parse({
    notification: { subject: subject.slice(0, 100), message: lines.join('\n') },
    counts,
    ...(results ? { results } : {}),
    cause,
  });
}

/** Why items are partial or failed: each provider's error codes with how many records have them. */
function providerErrorLines(tally: BatchTally): string[] {
  const lines = providerNames.flatMap((provider) =>
    Object.entries(tally.providerErrors[provider] ?? {})
      .sort(([, a], [, b]) => b - a)
      .map(([error, count]) => `  ${provider}: error ${errorCode(error)} on ${plural(count, 'item')}`),
  );
  return lines.length > 0 ? ['', 'Provider errors:', ...lines] : [];
}

/** The first failed records by requestId with their providers' error codes; failed items without a record. */
function failedItemLines(tally: BatchTally, failed: number): string[] {
  if (failed === 0) return [];
  const listed = tally.failedItems.map((item) => {
    const errors = Object.entries(item.errors).map(([provider, error]) => `${provider} ${errorCode(error)}`);
    return `  ${item.requestId}: ${errors.join(', ')}`;
  });
  const withoutRecord = failed - tally.failed;
  return [
    '',
    `Failed items${listed.length < tally.failed ? ` (the first ${listed.length})` : ''}:`,
    ...listed,
    ...(withoutRecord > 0
      ? [`  ${plural(withoutRecord, 'item')} saved no record: see the results file.`]
      : []),
  ];
}
