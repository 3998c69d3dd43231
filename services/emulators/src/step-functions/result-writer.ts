import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { MapRunRecord } from './map-run-store.ts';
import type { ExecutionRecord } from './store.ts';

// A map run's ResultWriter output, as Step Functions writes it to `<Prefix>/<map run id>/`: SUCCEEDED_0.json,
// FAILED_0.json and PENDING_0.json (each written only when it has entries; one file per status here, where AWS
// splits at 5 GB), then manifest.json naming them. The Map state's result is `{MapRunArn, ResultWriterDetails}`.

/** An item's outcome: its child once it has finished, else the input it was (or would be) started with. */
export type ItemOutcome = { child: ExecutionRecord } | { input: string };

const statuses = ['FAILED', 'PENDING', 'SUCCEEDED'] as const;

export async function writeMapRunResults(
  s3: S3Client,
  parameters: unknown,
  run: MapRunRecord,
  outcomes: ItemOutcome[],
): Promise<{ output: unknown; resultsWritten: number }> {
  const { Bucket, Prefix } = parameters as { Bucket: string; Prefix?: string };
  const folder = `${Prefix ? `${Prefix.replace(/\/+$/, '')}/` : ''}${run.id}/`;
  const groups: Record<(typeof statuses)[number], unknown[]> = { FAILED: [], PENDING: [], SUCCEEDED: [] };
  for (const outcome of outcomes) {
    if ('input' in outcome) {
      groups.PENDING.push({ Input: outcome.input, InputDetails: { Included: true }, Status: 'PENDING' });
    } else {
      groups[outcome.child.status === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED'].push(resultEntry(outcome.child));
    }
  }
  const put = (Key: string, Body: string) =>
    s3.send(new PutObjectCommand({ Bucket, Key, Body, ContentType: 'application/json' }));
  const resultFiles: Record<string, { Key: string; Size: number }[]> = {
    FAILED: [],
    PENDING: [],
    SUCCEEDED: [],
  };
  for (const status of statuses) {
    if (groups[status].length === 0) continue;
    const key = `${folder}${status}_0.json`;
    const body = JSON.stringify(groups[status]);
    await put(key, body);
    resultFiles[status]!.push({ Key: key, Size: Buffer.byteLength(body) });
  }
  const manifestKey = `${folder}manifest.json`;
  await put(
    manifestKey,
    JSON.stringify({ DestinationBucket: Bucket, MapRunArn: run.mapRunArn, ResultFiles: resultFiles }),
  );
  return {
    output: { MapRunArn: run.mapRunArn, ResultWriterDetails: { Bucket, Key: manifestKey } },
    resultsWritten: groups.SUCCEEDED.length + groups.FAILED.length,
  };
}

/** A finished child as a line of a result file. */
function resultEntry(child: ExecutionRecord): Record<string, unknown> {
  const succeeded = child.status === 'SUCCEEDED';
  return {
    ExecutionArn: child.executionArn,
    Input: child.input,
    InputDetails: { Included: true },
    Name: child.name,
    ...(child.output === undefined ? {} : { Output: child.output, OutputDetails: { Included: true } }),
    RedriveCount: child.redriveCount ?? 0,
    RedriveStatus: succeeded ? 'NOT_REDRIVABLE' : 'REDRIVABLE_BY_MAP_RUN',
    ...(succeeded ? { RedriveStatusReason: 'Execution is SUCCEEDED and cannot be redriven' } : {}),
    StartDate: new Date(child.startDate).toISOString(),
    StateMachineArn: child.stateMachineArn,
    Status: child.status,
    StopDate: new Date(child.stopDate ?? Date.now()).toISOString(),
    ...(child.error === undefined ? {} : { Error: child.error }),
    ...(child.cause === undefined ? {} : { Cause: child.cause }),
  };
}
