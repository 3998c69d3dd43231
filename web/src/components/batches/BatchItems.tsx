import type { BatchItem } from '@mc-vision/core/batches';
import type { ProviderName } from '@mc-vision/core/schemas';
import { useCallback, useEffect, useState } from 'react';
import type { ApiClient } from '../../api.ts';
import { formatScore, providerLabels } from '../../format.ts';
import { useAction } from '../../use-action.ts';
import { ErrorMessage } from '../ErrorMessage.tsx';
import { Thumbnail } from './Thumbnail.tsx';

interface Props {
  client: ApiClient;
  batchId: string;
  /** Changes when the batch's counts move: the page shown is fetched again. */
  version: string;
  onError: (error: unknown) => void;
}

type Filter = 'all' | 'failed';
const pageSize = 12;

/** The batch's items a page at a time (by image key), all of them or the failed ones only. */
export function BatchItems({ client, batchId, version, onError }: Props) {
  const { busy, error, run } = useAction(onError);
  const [filter, setFilter] = useState<Filter>('all');
  /** The tokens of the pages before this one (the first page has none), and this page's. */
  const [tokens, setTokens] = useState<(string | undefined)[]>([undefined]);
  const [page, setPage] = useState<{ items: BatchItem[]; nextToken?: string } | null>(null);
  const current = tokens.at(-1);

  const load = useCallback(
    () =>
      run(async () => {
        const options = {
          limit: pageSize,
          ...(filter === 'failed' ? { status: 'failed' as const } : {}),
          ...(current ? { nextToken: current } : {}),
        };
        setPage(await client.listBatchItems(batchId, options));
      }),
    [client, batchId, filter, current, run],
  );

  useEffect(() => {
    void load();
  }, [load, version]);

  const choose = (next: Filter) => {
    // The other filter's items must not show under this one's name while its first page loads.
    setPage(null);
    setFilter(next);
    setTokens([undefined]);
  };
  const pageNumber = tokens.length;

  return (
    <section aria-labelledby="batch-items-heading" className="batch-items-panel">
      <div className="row spread">
        <h3 id="batch-items-heading">Items</h3>
        <fieldset className="row">
          <legend>Show</legend>
          {(['all', 'failed'] as const).map((value) => (
            <label key={value} className="choice">
              <input
                type="radio"
                name="batch-filter"
                checked={filter === value}
                onChange={() => choose(value)}
              />{' '}
              {value === 'all' ? 'All' : 'Failed'}
            </label>
          ))}
        </fieldset>
      </div>
      <ErrorMessage error={error} action="Loading the items" />
      {page?.items.length === 0 && (
        <p className="hint">{filter === 'failed' ? 'No failed items.' : 'No items have a result yet.'}</p>
      )}
      <ul className="batch-items" aria-label={filter === 'failed' ? 'Failed items' : 'Items'}>
        {(page?.items ?? []).map((item) => (
          <li key={item.requestId} className="card">
            <Thumbnail client={client} imageKey={item.key} />
            <div className="item-text">
              <span className={`badge status-${item.status}`}>{item.status}</span> <code>{item.key}</code>
              {item.labels.length > 0 && (
                <ul className="item-labels" aria-label={`Top labels of ${item.key}`}>
                  {item.labels.map((label) => (
                    <li key={label.label}>
                      {label.label} <span className="score">{formatScore(label.score)}</span>
                    </li>
                  ))}
                </ul>
              )}
              {item.errors && (
                <ul className="item-errors meta" aria-label={`Errors of ${item.key}`}>
                  {Object.entries(item.errors).map(([provider, code]) => (
                    <li key={provider}>
                      {providerLabels[provider as ProviderName]}: {code}
                    </li>
                  ))}
                </ul>
              )}
            </div>
          </li>
        ))}
      </ul>
      <nav className="row" aria-label="Item pages">
        <button
          type="button"
          className="secondary"
          disabled={busy || pageNumber === 1}
          onClick={() => setTokens((list) => list.slice(0, -1))}
        >
          Previous page
        </button>
        <span className="meta">Page {pageNumber}</span>
        <button
          type="button"
          className="secondary"
          disabled={busy || !page?.nextToken}
          onClick={() => setTokens((list) => [...list, page?.nextToken])}
        >
          Next page
        </button>
      </nav>
    </section>
  );
}
