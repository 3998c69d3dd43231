// The API key: taken once from the URL fragment (`#key=...`, which never reaches a server or a log), or typed
// in; kept in localStorage so a reload keeps it.

const storageKey = 'mc-vision.apiKey';

/** Splits `#key=...` out of a location hash; returns the key (or null) and the hash to leave in the address bar. */
export function takeKeyFromHash(hash: string): { key: string | null; hash: string } {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const key = params.get('key')?.trim() || null;
  if (!params.has('key')) return { key: null, hash };
  params.delete('key');
  const rest = params.toString();
  return { key, hash: rest ? `#${rest}` : '' };
}

export function loadApiKey(storage: Pick<Storage, 'getItem'>): string {
  return storage.getItem(storageKey) ?? '';
}

export function saveApiKey(storage: Pick<Storage, 'setItem' | 'removeItem'>, key: string): void {
  const trimmed = key.trim();
  if (trimmed) storage.setItem(storageKey, trimmed);
  else storage.removeItem(storageKey);
}

/** Browser start-up: a key in the fragment wins and is stored, then removed from the address bar. */
export function initialApiKey(): string {
  const { key, hash } = takeKeyFromHash(window.location.hash);
  if (hash !== window.location.hash) {
    const { pathname, search } = window.location;
    window.history.replaceState(window.history.state, '', `${pathname}${search}${hash}`);
  }
  if (key === null) return loadApiKey(window.localStorage);
  saveApiKey(window.localStorage, key);
  return key;
}
