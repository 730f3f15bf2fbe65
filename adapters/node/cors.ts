/**
 * CORS for the HTTP routes, so a page on another origin can use the HTTP fallback and the gateway.
 * The session's own headers (X-Drpc-*, X-Meta) are allowed and exposed; preflights are cached.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface CorsOptions {
  /** Origins allowed (exact match), or '*' for any. Default: the endpoint's `origins`, else any. */
  origins?: string[] | '*';
  /** Allow cookies and Authorization to go cross-origin (the origin is echoed, never '*'). Default false. */
  credentials?: boolean;
  /** How long a browser may cache a preflight, in seconds. Default 600. */
  maxAge?: number;
}

const ALLOW_HEADERS = 'content-type, authorization, x-drpc-up, x-drpc-ack, x-meta, x-seq, last-event-id';
const EXPOSE_HEADERS = 'x-meta';

/** Sets the CORS headers of a request from an allowed origin; answers a preflight (returns true). */
export function applyCors(req: IncomingMessage, res: ServerResponse, o: CorsOptions): boolean {
  const origin = req.headers.origin;
  const allowed = origin !== undefined && (o.origins === undefined || o.origins === '*' || o.origins.includes(origin));
  if (allowed) {
    res.setHeader('access-control-allow-origin', o.credentials || o.origins !== '*' ? origin : '*');
    res.setHeader('vary', 'origin');
    res.setHeader('access-control-expose-headers', EXPOSE_HEADERS);
    if (o.credentials) res.setHeader('access-control-allow-credentials', 'true');
  }
  if (req.method !== 'OPTIONS') return false;
  if (allowed) {
    res.setHeader('access-control-allow-methods', 'GET, POST, DELETE, OPTIONS');
    res.setHeader('access-control-allow-headers', ALLOW_HEADERS);
    res.setHeader('access-control-max-age', String(o.maxAge ?? 600));
  }
  res.writeHead(allowed ? 204 : 403).end();
  return true;
}
