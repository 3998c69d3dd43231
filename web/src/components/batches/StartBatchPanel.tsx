import { useState, type FormEvent } from 'react';
import type { ApiClient } from '../../api.ts';
import { useAction } from '../../use-action.ts';
import { ErrorMessage } from '../ErrorMessage.tsx';

interface Props {
  client: ApiClient;
  enabled: boolean;
  onStarted: (batchId: string) => void;
  onError: (error: unknown) => void;
}

/** Starts a batch over every image under a prefix (what `POST /v1/batches {prefix}` takes). */
export function StartBatchPanel({ client, enabled, onStarted, onError }: Props) {
  const [prefix, setPrefix] = useState('images/');
  const start = useAction(onError);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    void start.run(async () => {
      const started = await client.startBatch({ prefix: prefix.trim() });
      onStarted(started.batchId);
    });
  };

  return (
    <section aria-labelledby="start-batch-heading" className="panel">
      <h2 id="start-batch-heading">Start a batch</h2>
      <p className="hint">
        Every image under a folder of the images bucket, through the pipeline as one Step Functions
        Distributed Map, with one summary at the end.
      </p>
      <form className="row" onSubmit={submit}>
        <label htmlFor="batch-prefix">Folder</label>
        <input
          id="batch-prefix"
          type="text"
          value={prefix}
          onChange={(event) => setPrefix(event.target.value)}
          aria-describedby="batch-prefix-hint"
          spellCheck={false}
          autoComplete="off"
        />
        <button type="submit" disabled={!enabled || start.busy || prefix.trim() === ''}>
          {start.busy ? 'Starting…' : 'Start batch'}
        </button>
      </form>
      <p id="batch-prefix-hint" className="hint">
        <code>images/</code> or a folder under it, ending in <code>/</code>.
      </p>
      <ErrorMessage error={start.error} action="Starting the batch" />
    </section>
  );
}
