import type { BatchStatusResponse } from '@mc-vision/core/batches';
import { useEffect, useState } from 'react';
import type { ApiClient } from '../../api.ts';
import { maxConsecutivePollErrors, pollExecution } from '../../execution-poll.ts';
import { formatTimestamp } from '../../format.ts';
import { useAction } from '../../use-action.ts';
import { ErrorMessage } from '../ErrorMessage.tsx';
import { BatchItems } from './BatchItems.tsx';

interface Props {
  client: ApiClient;
  batchId: string;
  /** A batch this panel started (its failed images, run again). */
  onStarted: (batchId: string) => void;
  /** The batch ended (or ran again): the list of batches is fetched again. */
  onChanged: () => void;
  onError: (error: unknown) => void;
}

/** Every failed item's image key, page by page. */
async function failedKeys(client: ApiClient, batchId: string): Promise<string[]> {
  const keys: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.listBatchItems(batchId, {
      status: 'failed',
      limit: 100,
      ...(nextToken ? { nextToken } : {}),
    });
    keys.push(...page.items.map((item) => item.key));
    nextToken = page.nextToken;
  } while (nextToken);
  return keys;
}

/** One batch: its progress while it runs (polled), its counts, what can be done next, and its items. */
export function BatchPanel({ client, batchId, onStarted, onChanged, onError }: Props) {
  const [batch, setBatch] = useState<BatchStatusResponse | null>(null);
  const [runs, setRuns] = useState(0);
  const [pollError, setPollError] = useState<unknown>(null);
  const [failedPolls, setFailedPolls] = useState(0);
  const action = useAction(onError);

  useEffect(() => {
    const controller = new AbortController();
    setPollError(null);
    pollExecution({
      get: (signal) => client.getBatch(batchId, signal),
      onUpdate: (status) => {
        setBatch(status);
        setFailedPolls(0);
      },
      onError: (_error, count) => setFailedPolls(count),
      signal: controller.signal,
    })
      .then((final) => final && onChanged())
      .catch((error: unknown) => {
        setPollError(error);
        onError(error);
      });
    return () => controller.abort();
  }, [client, batchId, runs, onChanged, onError]);

  const redrive = () =>
    action.run(async () => {
      await client.redriveBatch(batchId);
      onChanged();
      setRuns((count) => count + 1);
    });
  const retryFailed = () =>
    action.run(async () => {
      const started = await client.startBatch({ keys: await failedKeys(client, batchId) });
      onStarted(started.batchId);
    });

  const counts = batch?.counts;
  const done = counts ? counts.complete + counts.partial + counts.failed : 0;
  const running = batch?.status === 'RUNNING';
  // The items page follows the counts while the batch runs.
  const itemsVersion = `${done}:${runs}`;

  return (
    <section aria-labelledby="batch-heading" className="panel">
      <h2 id="batch-heading" className="batch-title">
        Batch <code>{batchId}</code>
        {batch && <span className={`badge execution-${batch.status.toLowerCase()}`}>{batch.status}</span>}
      </h2>
      <ErrorMessage error={pollError} action="Following the batch" />
      {failedPolls > 0 && !pollError && (
        <p className="hint warning">
          The API did not answer ({failedPolls} of {maxConsecutivePollErrors} tries); trying again…
        </p>
      )}
      {batch && counts && (
        <>
          <p className="meta">
            {'prefix' in batch.source ? (
              <>
                Images under <code>{batch.source.prefix}</code>
              </>
            ) : (
              `${batch.source.keys} images by key`
            )}{' '}
            · started <time dateTime={batch.startedAt}>{formatTimestamp(batch.startedAt)}</time>
            {batch.redriveCount > 0 && ` · redriven ${batch.redriveCount}×`}
          </p>
          <label htmlFor="batch-progress" className="progress-label">
            {done} of {counts.total} done
          </label>
          <progress id="batch-progress" max={Math.max(counts.total, 1)} value={done} />
          <dl className="batch-counts" aria-live="polite">
            <dt>Complete</dt>
            <dd className="status-complete">{counts.complete}</dd>
            <dt>Partial</dt>
            <dd className="status-partial">{counts.partial}</dd>
            <dt>Failed</dt>
            <dd className="status-failed">{counts.failed}</dd>
            <dt>{running ? 'Waiting or running' : 'Not finished'}</dt>
            <dd>{counts.running}</dd>
          </dl>
          {batch.error && (
            <p role="alert" className="error">
              <strong>{batch.error.code}:</strong> {batch.error.message}
            </p>
          )}
          {batch.results && (
            <p className="meta">
              Results: <code>{`s3://${batch.results.bucket}/${batch.results.manifestKey}`}</code>
            </p>
          )}
          {!running && (batch.redrivable || counts.failed > 0) && (
            <div className="row">
              {batch.redrivable && (
                <button type="button" disabled={action.busy} onClick={redrive}>
                  Redrive the batch
                </button>
              )}
              {counts.failed > 0 && (
                <button type="button" className="secondary" disabled={action.busy} onClick={retryFailed}>
                  Run the {counts.failed} failed {counts.failed === 1 ? 'image' : 'images'} again
                </button>
              )}
            </div>
          )}
          {batch.redrivable && !running && (
            <p className="hint">
              A redrive runs the items that had not finished; the others keep their records.
            </p>
          )}
          <ErrorMessage error={action.error} action="That" />
          <BatchItems client={client} batchId={batchId} version={itemsVersion} onError={onError} />
        </>
      )}
    </section>
  );
}
