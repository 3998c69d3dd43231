import { useEffect, useState } from 'react';

// The UI's views, one at a time, by the address's fragment (`#/batches`), so a view can be linked to and the
// browser's back button goes back to the previous one.

export const views = { images: 'Images', batches: 'Batches' } as const;
export type View = keyof typeof views;

const viewOf = (hash: string): View => (hash === '#/batches' ? 'batches' : 'images');
const hrefOf = (view: View) => (view === 'images' ? '#/' : `#/${view}`);

export function useView(): View {
  const [view, setView] = useState<View>(() => viewOf(window.location.hash));
  useEffect(() => {
    const follow = () => setView(viewOf(window.location.hash));
    window.addEventListener('hashchange', follow);
    return () => window.removeEventListener('hashchange', follow);
  }, []);
  return view;
}

export function ViewNav({ view }: { view: View }) {
  return (
    <nav aria-label="Views" className="views">
      <ul>
        {(Object.keys(views) as View[]).map((name) => (
          <li key={name}>
            <a href={hrefOf(name)} aria-current={name === view ? 'page' : undefined}>
              {views[name]}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}
