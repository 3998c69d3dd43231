import { useCallback, useEffect, useState } from 'react';

// The UI's pages, by path: one list for the navigation and the router. The API serves index.html for every page
// path, so a page can be opened and reloaded directly.

export const pages = [
  { path: '/', label: 'Analyse' },
  { path: '/batches', label: 'Batches' },
  { path: '/monitoring', label: 'Monitoring' },
] as const;
export type PagePath = (typeof pages)[number]['path'];

const known = (path: string): PagePath => pages.find((page) => page.path === path)?.path ?? '/';

/** The current page and a way to go to another without reloading (history entries, so Back works). */
export function usePage(): [PagePath, (path: PagePath) => void] {
  const [page, setPage] = useState<PagePath>(() => known(window.location.pathname));
  useEffect(() => {
    const onPop = () => setPage(known(window.location.pathname));
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);
  const go = useCallback((path: PagePath) => {
    if (path !== window.location.pathname) window.history.pushState(null, '', path);
    setPage(path);
  }, []);
  return [page, go];
}
