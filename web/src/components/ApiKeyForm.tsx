import { useState, type FormEvent } from 'react';

interface Props {
  apiKey: string;
  rejected: boolean;
  onChange: (key: string) => void;
}

export function ApiKeyForm({ apiKey, rejected, onChange }: Props) {
  const [draft, setDraft] = useState(apiKey);

  function submit(event: FormEvent) {
    event.preventDefault();
    onChange(draft.trim());
  }

  return (
    <form className="api-key" onSubmit={submit}>
      <label htmlFor="api-key">API key</label>
      <input
        id="api-key"
        type="password"
        autoComplete="off"
        spellCheck={false}
        value={draft}
        onChange={(event) => setDraft(event.target.value)}
        placeholder="printed by pnpm start"
      />
      <button type="submit" disabled={draft.trim() === apiKey}>
        Save key
      </button>
      {rejected ? (
        <p role="alert" className="error">
          The API rejected this key (401 unauthorized). Enter the key printed by <code>pnpm start</code> or
          stored in the platform&apos;s secret, then save it.
        </p>
      ) : (
        <p className="hint">
          {apiKey
            ? 'Kept for this tab only: closing it forgets the key.'
            : 'Enter the API key to use the platform (kept for this tab only).'}
        </p>
      )}
    </form>
  );
}
