import { DescribeMapRunCommand, ListMapRunsCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { BatchTally } from './batch-records.ts';
import { batchPrefixes, type BatchCounts } from './batches.ts';

// How far a batch has got: its Distributed Map run (Step Functions' ListMapRuns and DescribeMapRun) and its
// records (batch-records.ts), put together as the API's counts and the batch summary's.

export interface MapRunFacts {
  mapRunArn: string;
  /** The ResultWriter's folder under its prefix: the last part of the map run's ARN. */
  id: string;
  total: number;
  /**
   * Children that ended in failure (FAILED or TIMED_OUT). An ABORTED child (stopped with its batch, or because the
   * batch had failed more items than it tolerates) did not fail its item: the item did not finish, unless its
   * record was saved first.
   */
  failedChildren: number;
  toleratedFailurePercentage: number;
  finished: boolean;
}

/** The execution's latest map run, if it has one yet. */
export async function latestMapRun(sfn: SFNClient, executionArn: string): Promise<MapRunFacts | undefined> {
  const { mapRuns = [] } = await sfn.send(new ListMapRunsCommand({ executionArn }));
  const mapRunArn = mapRuns.at(0)?.mapRunArn;
  if (!mapRunArn) return undefined;
  const run = await sfn.send(new DescribeMapRunCommand({ mapRunArn }));
  const items = run.itemCounts;
  return {
    mapRunArn,
    id: mapRunArn.split(':').at(-1)!,
    total: items?.total ?? 0,
    failedChildren: (items?.failed ?? 0) + (items?.timedOut ?? 0),
    toleratedFailurePercentage: run.toleratedFailurePercentage ?? 0,
    finished: run.status !== 'RUNNING',
  };
}

/** Where a map run's ResultWriter puts its manifest: `<results prefix>/<map run id>/manifest.json`. */
export const resultsManifestKey = (mapRunId: string) => `${batchPrefixes.results}/${mapRunId}/manifest.json`;

/**
 * Item counts of a batch: `total` and the failures of children that saved no record come from the map run
 * (`failedChildren`), the others from the records. `running` is what is left: items not yet started, running,
 * stopped before they finished, or finished a moment ago and not counted by the map run yet.
 */
export function batchCounts(
  mapRun: Pick<MapRunFacts, 'total' | 'failedChildren'> | undefined,
  tally: Pick<BatchTally, 'complete' | 'partial' | 'failed'>,
): BatchCounts {
  const total = Math.max(mapRun?.total ?? 0, tally.complete + tally.partial + tally.failed);
  const failed = Math.max(tally.failed, mapRun?.failedChildren ?? 0);
  const running = Math.max(0, total - tally.complete - tally.partial - failed);
  return { total, complete: tally.complete, partial: tally.partial, failed, running };
}
