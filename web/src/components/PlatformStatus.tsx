import type { HealthResponse } from '@mc-vision/core/schemas';
import { useEffect, useState } from 'react';
import type { ApiClient } from '../api.ts';

/** One line under the title: where the platform runs and which classifier model answers (from `/health`). */
export function PlatformStatus({ client }: { client: ApiClient }) {
  const [health, setHealth] = useState<HealthResponse | null>(null);
  const [unreachable, setUnreachable] = useState(false);

  useEffect(() => {
    let current = true;
    client.getHealth().then(
      (answer) => current && setHealth(answer),
      () => current && setUnreachable(true),
    );
    return () => {
      current = false;
    };
  }, [client]);

  if (unreachable) return <p className="platform-status">The platform's health could not be read.</p>;
  if (!health) return null;
  const classifier = health.components.classifier;
  const model = classifier?.status === 'up' ? classifier.detail?.replace(/^model /, '') : undefined;
  return (
    <p className="platform-status">
      {health.mode === 'local' ? 'Local cloud' : 'AWS'} · classifier{' '}
      {model ? (
        <strong>{model}</strong>
      ) : (
        <span className="bad">down{classifier?.detail ? `: ${classifier.detail}` : ''}</span>
      )}
    </p>
  );
}
