/** Browser signals that a connection should be checked or retried now. */

/**
 * Calls `wake` when a browser goes back online, its tab becomes visible or its page comes back from
 * the back/forward cache; `suspend` when the page goes into that cache (its connection should close:
 * the endpoint lets the session go at once instead of holding it for a frozen page). No-op elsewhere.
 */
export function watchEnvironment(wake: () => void, suspend: () => void): () => void {
  const g = globalThis as {
    addEventListener?: typeof addEventListener;
    removeEventListener?: typeof removeEventListener;
    document?: Document;
  };
  if (!g.addEventListener || !g.removeEventListener) return () => {};
  const onVisible = () => g.document?.visibilityState === 'visible' && wake();
  const onHide = (e: PageTransitionEvent) => e.persisted && suspend();
  const onShow = (e: PageTransitionEvent) => e.persisted && wake();
  g.addEventListener('online', wake);
  g.addEventListener('pagehide', onHide);
  g.addEventListener('pageshow', onShow);
  g.document?.addEventListener('visibilitychange', onVisible);
  return () => {
    g.removeEventListener!('online', wake);
    g.removeEventListener!('pagehide', onHide);
    g.removeEventListener!('pageshow', onShow);
    g.document?.removeEventListener('visibilitychange', onVisible);
  };
}

/** The page's (or worker's) URL, which a relative `connect('/rpc')` is relative to; undefined outside a browser. */
export const pageUrl = (): string | undefined => (globalThis as { location?: { href: string } }).location?.href;
