/** Browser signals that a connection should be checked or retried now. */

/** Calls `wake` when a browser goes back online or its tab becomes visible; no-op elsewhere. */
export function watchEnvironment(wake: () => void): () => void {
  const g = globalThis as {
    addEventListener?: typeof addEventListener;
    removeEventListener?: typeof removeEventListener;
    document?: Document;
  };
  if (!g.addEventListener || !g.removeEventListener) return () => {};
  const onVisible = () => g.document?.visibilityState === 'visible' && wake();
  g.addEventListener('online', wake);
  g.document?.addEventListener('visibilitychange', onVisible);
  return () => {
    g.removeEventListener!('online', wake);
    g.document?.removeEventListener('visibilitychange', onVisible);
  };
}

/** The page's (or worker's) URL, which a relative `connect('/rpc')` is relative to; undefined outside a browser. */
export const pageUrl = (): string | undefined => (globalThis as { location?: { href: string } }).location?.href;
