// The API key, for this browser session only: kept in sessionStorage (gone with the tab), never in
// localStorage. It comes from the sign-in link `pnpm start` prints, or is typed in. The link carries no key but
// a one-time code (`#code=…`) that the API exchanges for the key once: a browser keeps every address it visits in
// its history, the fragment included even after the page has replaced it, so that address must hold nothing
// that still works.

const storageKey = 'mc-vision.apiKey';

/** Splits `#code=...` out of a location hash; returns the code (or null) and the hash to leave in the address bar. */
export function takeCodeFromHash(hash: string): { code: string | null; hash: string } {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  if (!params.has('code')) return { code: null, hash };
  const code = params.get('code')?.trim() || null;
  params.delete('code');
  const rest = params.toString();
  return { code, hash: rest ? `#${rest}` : '' };
}

export function loadApiKey(storage: Pick<Storage, 'getItem'>): string {
  return storage.getItem(storageKey) ?? '';
}

export function saveApiKey(storage: Pick<Storage, 'setItem' | 'removeItem'>, key: string): void {
  const trimmed = key.trim();
  if (trimmed) storage.setItem(storageKey, trimmed);
  else storage.removeItem(storageKey);
}

export interface StartUp {
  /** This session's key ('' when there is none yet). */
  key: string;
  /** The sign-in code the address carried, now removed from the address bar. */
  code: string | null;
}

/** Browser start-up: this session's key and the link's code. A key an older version kept forever is forgotten. */
export function startUp(): StartUp {
  window.localStorage.removeItem(storageKey);
  const { code, hash } = takeCodeFromHash(window.location.hash);
  if (hash !== window.location.hash) {
    const { pathname, search } = window.location;
    window.history.replaceState(window.history.state, '', `${pathname}${search}${hash}`);
  }
  return { key: loadApiKey(window.sessionStorage), code };
}
