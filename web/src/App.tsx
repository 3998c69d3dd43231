import type { ResultRecord } from '@mc-vision/core/schemas';
import { lazy, Suspense, useCallback, useEffect, useMemo, useState } from 'react';
import { ApiError, createApiClient } from './api.ts';
import { saveApiKey } from './api-key.ts';
import { AnalysePanel } from './components/AnalysePanel.tsx';
import { ApiKeyForm } from './components/ApiKeyForm.tsx';
import { ErrorMessage } from './components/ErrorMessage.tsx';
import { HistoryPanel } from './components/HistoryPanel.tsx';
import { PipelinePanel } from './components/PipelinePanel.tsx';
import { PlatformStatus } from './components/PlatformStatus.tsx';
import { RecordView } from './components/RecordView.tsx';
import { UploadPanel, type UploadedImage } from './components/UploadPanel.tsx';
import { BatchesView } from './components/batches/BatchesView.tsx';
import { pages, usePage } from './navigation.ts';

// Loaded when first shown: the chart library stays out of the analysis page's bundle.
const MonitoringView = lazy(() => import('./components/MonitoringView.tsx'));

interface Props {
  /** This session's key, if it has one. */
  initialKey: string;
  /** The exchange of the sign-in link's code for the key, when the page was opened from that link. */
  signingIn?: Promise<string> | undefined;
}

export function App({ initialKey, signingIn }: Props) {
  const [apiKey, setApiKey] = useState(initialKey);
  const [keyRejected, setKeyRejected] = useState(false);
  const [signInFailure, setSignInFailure] = useState<unknown>(null);
  const [image, setImage] = useState<UploadedImage | null>(null);
  const [record, setRecord] = useState<ResultRecord | null>(null);
  const [historyVersion, setHistoryVersion] = useState(0);
  const [page, go] = usePage();

  const client = useMemo(() => createApiClient({ apiKey }), [apiKey]);

  const changeKey = useCallback((key: string) => {
    saveApiKey(window.sessionStorage, key);
    setApiKey(key);
    setKeyRejected(false);
    setSignInFailure(null);
  }, []);

  useEffect(() => {
    signingIn?.then(changeKey, setSignInFailure);
  }, [signingIn, changeKey]);

  // Every panel reports its failures here, so a rejected key is explained once, next to the key field.
  const noteError = useCallback((error: unknown) => {
    if (error instanceof ApiError && error.status === 401) setKeyRejected(true);
  }, []);

  const showNewRecord = useCallback((fresh: ResultRecord) => {
    setRecord(fresh);
    setHistoryVersion((version) => version + 1);
  }, []);

  useEffect(() => {
    if (!image) return;
    return () => URL.revokeObjectURL(image.previewUrl);
  }, [image]);

  const imageKey = image?.info.key ?? null;

  return (
    <>
      <header className="top">
        <h1>MC Vision</h1>
        <p className="tagline">One image, three AI services: SageMaker, Bedrock and Azure OpenAI.</p>
        <PlatformStatus client={client} />
        <ApiKeyForm key={apiKey} apiKey={apiKey} rejected={keyRejected} onChange={changeKey} />
        <ErrorMessage error={signInFailure} action="Signing in with the link" />
      </header>
      <nav aria-label="Pages" className="pages">
        <ul>
          {pages.map((each) => (
            <li key={each.path}>
              <a
                href={each.path}
                aria-current={page === each.path ? 'page' : undefined}
                onClick={(event) => {
                  if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
                  event.preventDefault();
                  go(each.path);
                }}
              >
                {each.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main>
        {page === '/batches' ? (
          <BatchesView client={client} enabled={apiKey !== ''} onError={noteError} />
        ) : page === '/monitoring' ? (
          <Suspense fallback={<p className="hint">Loading the Monitoring view…</p>}>
            {apiKey ? (
              <MonitoringView client={client} onError={noteError} />
            ) : (
              <p className="hint">Enter the API key to read the monitoring data.</p>
            )}
          </Suspense>
        ) : (
          <>
            <div className="workflow">
              <UploadPanel
                client={client}
                disabled={!apiKey}
                image={image}
                onUploaded={setImage}
                onError={noteError}
              />
              <AnalysePanel
                client={client}
                imageKey={imageKey}
                onRecord={showNewRecord}
                onError={noteError}
              />
            </div>
            <PipelinePanel client={client} imageKey={imageKey} onRecord={showNewRecord} onError={noteError} />
            {record && <RecordView record={record} />}
            <HistoryPanel
              client={client}
              enabled={apiKey !== ''}
              version={historyVersion}
              selected={record?.requestId ?? null}
              onSelect={setRecord}
              onError={noteError}
            />
          </>
        )}
      </main>
    </>
  );
}
