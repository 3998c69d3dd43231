import type { ResultRecord } from '@mc-vision/core/schemas';
import { useCallback, useEffect, useState } from 'react';
import type { ApiClient } from '../api.ts';
import { formatScore, formatTimestamp } from '../format.ts';
import { useAction } from '../use-action.ts';
import { ErrorMessage } from './ErrorMessage.tsx';

interface Props {
  client: ApiClient;
  enabled: boolean;
  /** Bumped whenever a new record is stored, so the first page is fetched again. */
  version: number;
  selected: string | null;
  onSelect: (record: ResultRecord) => void;
  onError: (error: unknown) => void;
}

function summary(record: ResultRecord): string {
  const top = record.results.sagemaker?.labels[0];
  return top
    ? `${top.label} ${formatScore(top.score)}`
    : (record.results.bedrock?.caption ?? record.results.azure?.caption ?? record.imageKey);
}

export function HistoryPanel({ client, enabled, version, selected, onSelect, onError }: Props) {
  const { busy, error, run } = useAction(onError);
  const [items, setItems] = useState<ResultRecord[]>([]);
  const [nextToken, setNextToken] = useState<string | undefined>();
  const [loaded, setLoaded] = useState(false);

  const load = useCallback(
    (token?: string) =>
      run(async () => {
        const page = await client.listResults(token);
        setItems((current) => (token ? [...current, ...page.items] : page.items));
        setNextToken(page.nextToken);
        setLoaded(true);
      }),
    [client, run],
  );

  useEffect(() => {
    if (enabled) void load();
  }, [enabled, load, version]);

  return (
    <section aria-labelledby="history-heading" className="panel">
      <div className="row spread">
        <h2 id="history-heading">History</h2>
        <button type="button" className="secondary" disabled={!enabled || busy} onClick={() => load()}>
          Refresh
        </button>
      </div>
      <ErrorMessage error={error} action="Loading the history" />
      {loaded && items.length === 0 && <p className="hint">No results yet.</p>}
      <ol className="history" aria-label="Recent results">
        {items.map((record) => (
          <li key={record.requestId}>
            <button
              type="button"
              className={record.requestId === selected ? 'selected' : ''}
              aria-current={record.requestId === selected ? 'true' : undefined}
              onClick={() => onSelect(record)}
            >
              <span className={`badge status-${record.status}`}>{record.status}</span>
              <span className="badge">{record.source}</span>
              <span className="summary">{summary(record)}</span>
              <time dateTime={record.createdAt}>{formatTimestamp(record.createdAt)}</time>
              <code className="request-id">{record.requestId}</code>
            </button>
          </li>
        ))}
      </ol>
      {nextToken && (
        <button type="button" className="secondary" disabled={busy} onClick={() => load(nextToken)}>
          {busy ? 'Loading…' : 'Load more'}
        </button>
      )}
    </section>
  );
}
