/**
 * Small hooks the pages share: loading an API view (and polling it while the page is open), and a
 * ticking clock for "expires in …" and for hiding keys when they lapse.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { SignedOutError } from './api';

export interface Loaded<T> {
  data?: T;
  error?: unknown;
  loading: boolean;
  /** Loads again now (after an action). */
  reload(): Promise<void>;
}

/**
 * Loads `fetcher()` when the page opens and, with `pollMs`, again every `pollMs` while it stays
 * open and the tab is visible: how status changes made by others show up without a reload.
 */
export function useLoad<T>(fetcher: () => Promise<T>, deps: unknown[], pollMs?: number): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const latest = useRef(fetcher);
  latest.current = fetcher;
  const alive = useRef(true);
  // Only the latest load may set the state: an answer to an older query (other filters, an earlier
  // poll) that arrives late is dropped.
  const generation = useRef(0);
  const reload = useCallback(async () => {
    const mine = ++generation.current;
    const current = () => alive.current && mine === generation.current;
    try {
      const data = await latest.current();
      if (current()) setState({ data, loading: false });
    } catch (error) {
      if (error instanceof SignedOutError) return;
      if (current()) setState((s) => ({ data: s.data, error, loading: false }));
    }
  }, []);
  useEffect(() => {
    alive.current = true;
    setState({ loading: true });
    void reload();
    let timer: number | undefined;
    if (pollMs) {
      timer = window.setInterval(() => {
        if (document.visibilityState === 'visible') void reload();
      }, pollMs);
    }
    return () => {
      alive.current = false;
      if (timer !== undefined) window.clearInterval(timer);
    };
    // The caller names what reloads the view (`deps`).
  }, deps);
  return { ...state, reload };
}

/** `Date.now()`, refreshed every `ms`. */
export function useNow(ms = 15_000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = window.setInterval(() => setNow(Date.now()), ms);
    return () => window.clearInterval(t);
  }, [ms]);
  return now;
}
