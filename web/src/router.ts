/** The current hash route as a hook (the routes themselves: ./routes.ts). */
import { useEffect, useState } from 'preact/hooks';
import { parseRoute, type Route } from './routes';

export { href, PAGES, type Page, parseRoute, type Route } from './routes';

/** The current route; re-renders on every hash change. */
export function useRoute(): Route {
  const [hash, setHash] = useState(window.location.hash);
  useEffect(() => {
    const on = () => setHash(window.location.hash);
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return parseRoute(hash);
}
