import type { PipelineStatusResponse, ResultRecord } from '@mc-vision/core/schemas';
import { useEffect, useState } from 'react';
import type { ApiClient } from '../api.ts';
import { formatLatency } from '../format.ts';
import { maxConsecutivePollErrors, nextPollDelay, pollPipeline } from '../pipeline-poll.ts';
import { useAction } from '../use-action.ts';
import { ErrorMessage } from './ErrorMessage.tsx';

interface Props {
  client: ApiClient;
  imageKey: string | null;
  onRecord: (record: ResultRecord) => void;
  onError: (error: unknown) => void;
}

function stepDuration(startedAt?: string, endedAt?: string): string {
  if (!startedAt || !endedAt) return '';
  return formatLatency(Date.parse(endedAt) - Date.parse(startedAt));
}

const stepColumns = ['Step', 'Status', 'Attempts', 'Time', 'Error'];

export function PipelinePanel({ client, imageKey, onRecord, onError }: Props) {
  const start = useAction(onError);
  // A fresh object per start, so starting again (even the same execution) follows it again; it keeps the client
  // that started it, so a later key change does not restart a finished poll.
  const [tracked, setTracked] = useState<{ executionId: string; client: ApiClient } | null>(null);
  const [execution, setExecution] = useState<PipelineStatusResponse | null>(null);
  const [polling, setPolling] = useState(false);
  /** Polls failed in a row so far (the loop retries with back-off until its limit). */
  const [failedPolls, setFailedPolls] = useState(0);
  const [pollError, setPollError] = useState<unknown>(null);

  useEffect(() => {
    if (!tracked) return;
    const { executionId, client: startedWith } = tracked;
    const controller = new AbortController();
    setPolling(true);
    setPollError(null);
    pollPipeline({
      get: (signal) => startedWith.getPipeline(executionId, signal),
      onUpdate: (status) => {
        setExecution(status);
        setFailedPolls(0);
      },
      onError: (_error, count) => setFailedPolls(count),
      signal: controller.signal,
    })
      .then((final) => {
        if (final?.output) onRecord(final.output);
      })
      .catch((error: unknown) => {
        setPollError(error);
        onError(error);
      })
      .finally(() => {
        if (!controller.signal.aborted) setPolling(false);
      });
    return () => controller.abort();
  }, [tracked, onRecord, onError]);

  const startPipeline = (key: string) =>
    start.run(async () => {
      setExecution(null);
      setFailedPolls(0);
      const started = await client.startPipeline(key);
      setTracked({ executionId: started.executionId, client });
    });

  const busy = start.busy || polling;

  return (
    <section aria-labelledby="pipeline-heading" className="panel">
      <h2 id="pipeline-heading">3. Pipeline</h2>
      <p className="hint">
        Classify → describe with Bedrock and Azure in parallel → save → notify, on Step Functions.
      </p>
      <button type="button" disabled={!imageKey || busy} onClick={() => imageKey && startPipeline(imageKey)}>
        {busy ? 'Pipeline running…' : 'Start pipeline'}
      </button>
      <ErrorMessage error={start.error} action="Starting the pipeline" />
      {failedPolls > 0 && !pollError && (
        <p className="warning" role="status">
          Status check {failedPolls} of {maxConsecutivePollErrors} failed; retrying in{' '}
          {nextPollDelay(failedPolls) / 1000} s.
        </p>
      )}
      <ErrorMessage error={pollError} action="Following the pipeline" />
      {execution && (
        <div className="execution">
          <p role="status">
            Execution <code>{execution.requestId}</code>:{' '}
            <strong className={`badge execution-${execution.status.toLowerCase()}`}>
              {execution.status}
            </strong>
          </p>
          {/* On a phone each row is laid out as a small card (styles.css); the explicit roles keep it a table
              for assistive technology whatever its CSS display. */}
          <table className="steps" role="table">
            <caption>Pipeline steps</caption>
            <thead role="rowgroup">
              <tr role="row">
                {stepColumns.map((column) => (
                  <th key={column} scope="col" role="columnheader">
                    {column}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody role="rowgroup">
              {execution.steps.map((step) => (
                <tr key={step.name} role="row">
                  <th scope="row" role="rowheader">
                    {step.name}
                  </th>
                  <td role="cell">
                    <span className={`badge step-${step.status}`}>{step.status}</span>
                  </td>
                  <td role="cell" data-label="Attempts">
                    {step.attempts}
                  </td>
                  <td role="cell" data-label="Time">
                    {stepDuration(step.startedAt, step.endedAt)}
                  </td>
                  <td role="cell" className="step-error">
                    {step.error && `${step.error.code}: ${step.error.message}`}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {execution.error && (
            <p className="error">
              Execution error: {execution.error.code}: {execution.error.message}
            </p>
          )}
        </div>
      )}
    </section>
  );
}
