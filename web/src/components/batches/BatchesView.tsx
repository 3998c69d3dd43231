import { useCallback, useState } from 'react';
import type { ApiClient } from '../../api.ts';
import { BatchListPanel } from './BatchListPanel.tsx';
import { BatchPanel } from './BatchPanel.tsx';
import { StartBatchPanel } from './StartBatchPanel.tsx';

interface Props {
  client: ApiClient;
  enabled: boolean;
  onError: (error: unknown) => void;
}

/** Batches: start one over a folder, pick one of the recent ones, follow it and page through its items. */
export function BatchesView({ client, enabled, onError }: Props) {
  const [selected, setSelected] = useState<string | null>(null);
  const [listVersion, setListVersion] = useState(0);
  const changed = useCallback(() => setListVersion((version) => version + 1), []);
  const started = useCallback(
    (batchId: string) => {
      setSelected(batchId);
      changed();
    },
    [changed],
  );

  return (
    <>
      <div className="workflow">
        <StartBatchPanel client={client} enabled={enabled} onStarted={started} onError={onError} />
        <BatchListPanel
          client={client}
          enabled={enabled}
          version={listVersion}
          selected={selected}
          onSelect={setSelected}
          onError={onError}
        />
      </div>
      {selected && (
        <BatchPanel
          key={selected}
          client={client}
          batchId={selected}
          onStarted={started}
          onChanged={changed}
          onError={onError}
        />
      )}
    </>
  );
}
