import { useEffect, useState } from 'react';
import type { ApiClient } from '../../api.ts';

/**
 * A stored image's thumbnail, fetched with the API key (an <img src> cannot send it) and shown as a blob: URL,
 * which the API's Content-Security-Policy allows. An image that cannot be shown says so in words.
 */
export function Thumbnail({ client, imageKey }: { client: ApiClient; imageKey: string }) {
  const [url, setUrl] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    let objectUrl: string | undefined;
    let cancelled = false;
    client.thumbnail(imageKey).then(
      (blob) => {
        if (cancelled) return;
        objectUrl = URL.createObjectURL(blob);
        setUrl(objectUrl);
      },
      () => !cancelled && setFailed(true),
    );
    return () => {
      cancelled = true;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [client, imageKey]);

  if (failed) return <span className="thumbnail none">no preview</span>;
  if (!url) return <span className="thumbnail" aria-hidden="true" />;
  return <img className="thumbnail" src={url} alt={`Thumbnail of ${imageKey}`} />;
}
