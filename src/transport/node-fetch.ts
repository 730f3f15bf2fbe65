/**
 * The slice of `fetch` the HTTP transport uses, and `nodeFetch()`, a version of it over node:http that
 * a Node client passes as the `fetch` option (exported by drpc/node): Node's own fetch (undici) costs
 * about 4× the CPU per request and leaves garbage that lengthens GC pauses (`bench/RESULTS.md`, HTTP
 * section). Browsers, Deno and Bun use their native fetch. An opt-in, so that browser bundles of the
 * HTTP fallback do not carry it; node:http is reached at runtime (runtime.ts) all the same.
 */
import type { IncomingMessage, RequestOptions, ClientRequest, Agent } from 'node:http';
import { nodeBuiltin } from '../runtime.ts';
import { Code, DrpcError, type Status } from '../status.ts';

/** What the transport reads from a response (a `Response` is one). */
export interface FetchResponse {
  readonly ok: boolean;
  readonly status: number;
  readonly body: { getReader(): { read(): Promise<{ done?: boolean; value?: Uint8Array }> } } | null;
  text(): Promise<string>;
}

export interface FetchInit {
  method?: string;
  headers?: Record<string, string>;
  body?: BodyInit;
  signal?: AbortSignal;
  keepalive?: boolean;
}

/** `fetch` as the HTTP transport calls it (the global fetch is one). */
export type FetchLike = (url: string | URL, init: FetchInit) => Promise<FetchResponse>;

interface HttpModule {
  request(url: URL, options: RequestOptions, cb: (res: IncomingMessage) => void): ClientRequest;
  Agent: new (o: { keepAlive: boolean }) => Agent;
}

let cached: FetchLike | null | undefined;

/** fetch over node:http(s) with keep-alive, in Node only (undefined in browsers, Deno and Bun). */
export function nodeFetch(): FetchLike | undefined {
  if (cached !== undefined) return cached ?? undefined;
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  const http = g.Bun || g.Deno ? undefined : nodeBuiltin<HttpModule>('http');
  const https = http && nodeBuiltin<HttpModule>('https');
  cached = http && https ? overNodeHttp(http, https) : null;
  return cached ?? undefined;
}

function overNodeHttp(http: HttpModule, https: HttpModule): FetchLike {
  // Idle keep-alive sockets are unref'd by the agent: they never keep a process alive.
  const agents = new Map([
    ['http:', new http.Agent({ keepAlive: true })],
    ['https:', new https.Agent({ keepAlive: true })],
  ]);
  return (url, init) =>
    new Promise((resolve, reject) => {
      const u = typeof url === 'string' ? new URL(url) : url;
      const agent = agents.get(u.protocol);
      if (!agent) return reject(new TypeError(`fetch: unsupported protocol ${u.protocol}`));
      const mod = u.protocol === 'https:' ? https : http;
      // Not the `signal` option: node:http would destroy the socket after it went back to the pool.
      const signal = init.signal;
      let response: IncomingMessage | undefined;
      const abort = () => (response ?? req).destroy(new Error('aborted'));
      const req = mod.request(u, { method: init.method ?? 'GET', headers: init.headers, agent }, (res) => {
        response = res;
        const status = res.statusCode ?? 0;
        const ok = status >= 200 && status < 300;
        if (init.method !== 'GET') {
          // Not a stream: read it whole now, which also frees the socket for the next request.
          return void readAll(res).then((text) => resolve({ ok, status, body: null, text: () => Promise.resolve(text) }), reject);
        }
        res.on('error', ignore); // an abort or a broken stream reaches the reader as a rejected read()
        const chunks = res[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
        resolve({ ok, status, body: { getReader: () => ({ read: () => chunks.next() }) }, text: () => readAll(res) });
      });
      req.on('error', reject);
      // Once the request is over (answered, aborted, or failed before any response): the signal outlives it.
      req.on('close', () => signal?.removeEventListener('abort', abort));
      if (signal?.aborted) return abort();
      signal?.addEventListener('abort', abort, { once: true });
      req.end(init.body as string | Uint8Array | undefined); // the transport sends only these
    });
}

const ignore = () => {};

function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (s: string) => (text += s));
    res.on('end', () => resolve(text));
    res.on('error', reject);
  });
}

/** A refused request as a DrpcError: the endpoint's status body when it sent one. */
export async function refused(res: FetchResponse, what: string): Promise<DrpcError> {
  const text = await res.text().catch(() => '');
  try {
    const s = JSON.parse(text) as Status;
    if (typeof s.code === 'number') return new DrpcError(s.code, s.msg, `${what}: HTTP ${res.status}: ${s.cause || s.msg}`);
  } catch {
    // not a status body
  }
  const code = res.status === 404 ? Code.NotFound : Code.DialFailed;
  return new DrpcError(code, `${what}: HTTP ${res.status}`, text.slice(0, 200));
}
