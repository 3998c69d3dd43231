import type { BatchListResponse } from '@mc-vision/core/batches';
import { useCallback, useEffect, useState } from 'react';
import type { ApiClient } from '../../api.ts';
import { formatTimestamp } from '../../format.ts';
import { useAction } from '../../use-action.ts';
import { ErrorMessage } from '../ErrorMessage.tsx';

interface Props {
  client: ApiClient;
  enabled: boolean;
  /** Bumped when a batch starts or ends, so the list is fetched again. */
  version: number;
  selected: string | null;
  onSelect: (batchId: string) => void;
  onError: (error: unknown) => void;
}

export function BatchListPanel({ client, enabled, version, selected, onSelect, onError }: Props) {
  const { busy, error, run } = useAction(onError);
  const [batches, setBatches] = useState<BatchListResponse['items'] | null>(null);

  const load = useCallback(
    () => run(async () => setBatches((await client.listBatches()).items)),
    [client, run],
  );

  useEffect(() => {
    if (enabled) void load();
  }, [enabled, load, version]);

  return (
    <section aria-labelledby="batches-heading" className="panel">
      <div className="row spread">
        <h2 id="batches-heading">Recent batches</h2>
        <button type="button" className="secondary" disabled={!enabled || busy} onClick={() => load()}>
          Refresh
        </button>
      </div>
      <ErrorMessage error={error} action="Loading the batches" />
      {batches?.length === 0 && <p className="hint">No batches yet.</p>}
      <ol className="history batch-list" aria-label="Recent batches">
        {(batches ?? []).map((batch) => (
          <li key={batch.batchId}>
            <button
              type="button"
              className={batch.batchId === selected ? 'selected' : ''}
              aria-current={batch.batchId === selected ? 'true' : undefined}
              onClick={() => onSelect(batch.batchId)}
            >
              <span className={`badge execution-${batch.status.toLowerCase()}`}>{batch.status}</span>
              <code className="summary">{batch.batchId}</code>
              <time dateTime={batch.startedAt}>{formatTimestamp(batch.startedAt)}</time>
            </button>
          </li>
        ))}
      </ol>
    </section>
  );
}
