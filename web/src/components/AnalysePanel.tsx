import {
  providerNames,
  type ProviderName,
  type ResultRecord,
  type RouteResponse,
} from '@mc-vision/core/schemas';
import { useState } from 'react';
import type { ApiClient } from '../api.ts';
import { providerLabels } from '../format.ts';
import { useAction } from '../use-action.ts';
import { ErrorMessage } from './ErrorMessage.tsx';

type Policy = 'cost' | 'quality';

interface Props {
  client: ApiClient;
  imageKey: string | null;
  onRecord: (record: ResultRecord) => void;
  onError: (error: unknown) => void;
}

export function AnalysePanel({ client, imageKey, onRecord, onError }: Props) {
  const analysis = useAction(onError);
  const routing = useAction(onError);
  const [providers, setProviders] = useState<ProviderName[]>([...providerNames]);
  const [policy, setPolicy] = useState<Policy>('cost');
  const [routed, setRouted] = useState<Pick<RouteResponse, 'chosen' | 'reason'> | null>(null);

  function toggle(provider: ProviderName, on: boolean) {
    // Keep the canonical order whatever the click order.
    setProviders((current) =>
      providerNames.filter((name) => (name === provider ? on : current.includes(name))),
    );
  }

  const analyse = (key: string) =>
    analysis.run(async () => {
      onRecord(await client.analyse(key, providers));
    });

  const route = (key: string) =>
    routing.run(async () => {
      setRouted(null);
      const { chosen, reason, result } = await client.route(key, policy);
      setRouted({ chosen, reason });
      onRecord(result);
    });

  return (
    <section aria-labelledby="analyse-heading" className="panel">
      <h2 id="analyse-heading">2. Analyse</h2>
      {!imageKey && <p className="hint">Upload an image first.</p>}
      <div className="row">
        <fieldset>
          <legend>Providers</legend>
          {providerNames.map((name) => (
            <label key={name} className="choice">
              <input
                type="checkbox"
                checked={providers.includes(name)}
                onChange={(event) => toggle(name, event.target.checked)}
              />
              {providerLabels[name]}
            </label>
          ))}
        </fieldset>
        <button
          type="button"
          disabled={!imageKey || providers.length === 0 || analysis.busy}
          onClick={() => imageKey && analyse(imageKey)}
        >
          {analysis.busy ? 'Analysing…' : 'Analyse'}
        </button>
      </div>
      <ErrorMessage error={analysis.error} action="Analysis" />

      <div className="row">
        <fieldset>
          <legend>Route policy</legend>
          {(['cost', 'quality'] as const).map((value) => (
            <label key={value} className="choice">
              <input
                type="radio"
                name="policy"
                value={value}
                checked={policy === value}
                onChange={() => setPolicy(value)}
              />
              {value === 'cost' ? 'Cost' : 'Quality'}
            </label>
          ))}
        </fieldset>
        <button
          type="button"
          disabled={!imageKey || routing.busy}
          onClick={() => imageKey && route(imageKey)}
        >
          {routing.busy ? 'Routing…' : 'Route'}
        </button>
      </div>
      {routed && (
        <p role="status" className="routed">
          Routed to <strong>{providerLabels[routed.chosen]}</strong>: {routed.reason}
        </p>
      )}
      <ErrorMessage error={routing.error} action="Routing" />
    </section>
  );
}
