import { describeError } from '../format.ts';

export function ErrorMessage({ error, action }: { error: unknown; action: string }) {
  if (error === null || error === undefined) return null;
  const { message, code, status, requestId } = describeError(error);
  return (
    <div role="alert" className="error">
      <strong>{action} failed:</strong> {message}
      {code && (
        <span className="meta">
          {' '}
          ({code}
          {status ? `, HTTP ${status}` : ''})
        </span>
      )}
      {requestId && (
        <span className="meta">
          {' '}
          · request id <code>{requestId}</code>
        </span>
      )}
    </div>
  );
}
