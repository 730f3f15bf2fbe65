/**
 * The endpoint's HTTP routes beside the WebSocket upgrade, on the same path:
 *   GET    <path>  (Accept: text/event-stream)  opens an HTTP session, or resumes its stream (?_drpc_s)
 *   POST   <path>?_drpc_s=<sid>                  frames up (X-Drpc-Up: first frame's number, X-Drpc-Ack)
 *   DELETE <path>?_drpc_s=<sid>                  ends the session
 *   POST   <path>/<service/method>               a one-shot call through the gateway (curl)
 *   OPTIONS                                      CORS preflight
 * Sessions live in this store (memory) by id, not on a socket: any request reaches them; with a
 * broker, a request for a session another node holds is relayed there (http-remote.ts).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../src/clock.ts';
import { clientIdOf, HELLO_QUERY } from '../../src/extensions.ts';
import type { Frame } from '../../src/proto/proto.ts';
import type { Session } from '../../src/session.ts';
import { Code, type DrpcError } from '../../src/status.ts';
import { DEFAULT_MAX_FRAME } from '../../src/proto/proto.ts';
import type { Router } from '../../src/router.ts';
import type { AnyContract } from '../../src/contract.ts';
import type { EndpointOptions } from './endpoint-options.ts';
import type { Broker } from './broker.ts';
import { RemoteHttp } from './http-remote.ts';
import { applyCors, type CorsOptions } from './cors.ts';
import { gatewayCall, type GatewayContext } from './gateway.ts';
import { NodeHttpTransport, type HttpStreamOptions } from './http-transport.ts';
import { fail, httpError, readBody } from './http-body.ts';

export const SESSION_QUERY = '_drpc_s';
export const ACK_QUERY = '_drpc_ack';
export const RAW_TYPE = 'application/vnd.drpc.raw';
export const JSON_TYPE = 'application/vnd.drpc.json';

/** What the routes need of their endpoint. */
export interface HttpHost {
  readonly clock: Clock;
  readonly maxBody: number;
  readonly stream: HttpStreamOptions;
  readonly cors: CorsOptions | false;
  /** Origin, connection limit and verifyUpgrade checks; throws a refusal. */
  admit(req: IncomingMessage, url: URL): Promise<void>;
  /** With `http.verifyEachRequest`: origin and verifyUpgrade for a request of an open session; throws a refusal. */
  verify?(req: IncomingMessage, url: URL): Promise<void>;
  serve(transport: NodeHttpTransport, options: { hello?: boolean; clientId?: string }): Promise<Session | undefined>;
  readonly gateway: GatewayContext;
  /** With a broker: requests for sessions other nodes hold are relayed there (no sticky sessions). */
  readonly remote?: RemoteHttp;
}

/** What an endpoint lends its HTTP routes, beside its options. */
export interface HttpRoutesDeps extends Pick<HttpHost, 'clock' | 'admit' | 'serve' | 'verify'> {
  readonly broker?: Broker;
  readonly router: Router;
  readonly onError: (err: DrpcError, session?: Session) => void;
}

/** The routes as an endpoint's options configure them (defaults applied: see HttpOptions). */
export function httpRoutesFor(o: EndpointOptions<AnyContract>, deps: HttpRoutesDeps): HttpRoutes {
  const h = o.http || {};
  return new HttpRoutes({
    clock: deps.clock,
    maxBody: h.maxBody ?? Math.min(o.maxFrameSize ?? DEFAULT_MAX_FRAME, 4 * 1024 * 1024),
    stream: { pingMs: h.pingMs ?? 10_000, maxAgeMs: h.maxAgeMs ?? 60_000, graceMs: h.graceMs ?? 15_000 },
    cors: o.cors === false ? false : { origins: o.origins, ...o.cors },
    admit: deps.admit,
    verify: h.verifyEachRequest ? deps.verify : undefined,
    serve: deps.serve,
    remote: deps.broker && new RemoteHttp(deps.broker, deliverPost, h.relayMs ?? 10_000),
    gateway: {
      auth: !!o.auth,
      timeout: o.timeout ?? 30_000,
      sessionOptions: () => ({
        router: deps.router,
        codecs: o.codecs,
        codec: o.codec,
        plugins: o.plugins,
        clock: deps.clock,
        onError: deps.onError,
      }),
    },
  });
}

export class HttpRoutes {
  readonly #sessions = new Map<string, NodeHttpTransport>();

  constructor(private readonly host: HttpHost) {}

  get transports(): Iterable<NodeHttpTransport> {
    return this.#sessions.values();
  }

  /** Answers a request under `path`; false when it is not ours (the caller's other routes get it). */
  handle(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const sub =
      url.pathname === path
        ? ''
        : url.pathname.startsWith(path === '/' ? '/' : path + '/')
          ? url.pathname.slice(path === '/' ? 0 : path.length)
          : undefined;
    if (sub === undefined) return false;
    if (this.host.cors && applyCors(req, res, this.host.cors)) return true; // a preflight, answered
    this.#route(req, res, url, sub).catch((err) => fail(res, err));
    return true;
  }

  async #route(req: IncomingMessage, res: ServerResponse, url: URL, sub: string): Promise<void> {
    const sid = url.searchParams.get(SESSION_QUERY);
    // A request of an open session (not the one that opens it, which admit checks).
    if (sid !== null && this.host.verify) await this.host.verify(req, url);
    if (sub !== '' && sub !== '/') {
      if (req.method !== 'POST') throw httpError(405, Code.BadMessage, `${req.method} ${sub}: a call through the gateway is a POST`);
      await this.host.admit(req, url);
      return gatewayCall(this.host.gateway, req, res, decodeURIComponent(sub), this.host.maxBody);
    }
    if (req.method === 'GET') {
      if (!String(req.headers.accept ?? '').includes('text/event-stream'))
        throw httpError(
          426,
          Code.BadMessage,
          'this path speaks drpc over WebSocket, or over HTTP: a GET with Accept: text/event-stream opens a session',
        );
      return sid === null ? this.#open(req, res, url) : this.#resume(req, res, url, sid);
    }
    if (sid === null)
      throw httpError(req.method === 'POST' ? 400 : 405, Code.BadMessage, `${req.method} needs ?${SESSION_QUERY}=<session id>`);
    if (req.method !== 'POST' && req.method !== 'DELETE')
      throw httpError(405, Code.BadMessage, `${req.method} is not a method of an http session (GET, POST, DELETE)`);
    const t = this.#sessions.get(sid);
    const remote = this.host.remote;
    if (!t && remote) {
      // Another node may hold it (no sticky sessions): the request is relayed there.
      if (req.method === 'DELETE') await remote.delete(sid);
      else {
        const { first, ack, body, type } = await this.#postParts(req);
        await remote.post(sid, first, ack, body, type);
      }
      return void res.writeHead(204).end();
    }
    // A POST for a session still opening waits for it, its body left in the socket meanwhile.
    const opening = req.method === 'POST' ? t?.untilListening() : undefined;
    if (opening) await opening;
    if (!t || t.closed) throw httpError(404, Code.NotFound, `no http session ${JSON.stringify(sid)} (closed or expired: open a new one)`);
    if (req.method === 'POST') {
      const { first, ack, body, type } = await this.#postParts(req);
      deliverPost(t, first, ack, body, type);
    } else t.ended('closed by the client (DELETE)');
    res.writeHead(204).end();
  }

  async #open(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    await this.host.admit(req, url);
    const sid = randomBytes(18).toString('base64url');
    const t = new NodeHttpTransport(sid, `http://${req.socket.remoteAddress}:${req.socket.remotePort}`, this.host.clock, this.host.stream);
    this.#sessions.set(sid, t);
    const remote = this.host.remote;
    const forget = () => {
      this.#sessions.delete(sid);
      remote?.release(sid);
    };
    // Other nodes can reach the session before the client learns its id (a POST may go anywhere).
    // Without the broker (it reported its outage) the session still works for what reaches this node.
    await remote?.hold(sid, t).catch(() => {});
    streamHead(res);
    const open = JSON.stringify({ sid, ping: this.host.stream.pingMs });
    t.attachStream(res, 0, `event: open\ndata: ${open}\n\n`);
    const hello = url.searchParams.get(HELLO_QUERY);
    const session = await this.host.serve(t, hello === null ? {} : { hello: true, clientId: clientIdOf(hello) });
    if (!session) return forget();
    session.on('close', forget);
  }

  async #resume(req: IncomingMessage, res: ServerResponse, url: URL, sid: string): Promise<void> {
    const t = this.#sessions.get(sid);
    const acked = number(url.searchParams.get(ACK_QUERY) ?? req.headers['last-event-id'], 'the acknowledged event id');
    if (!t && this.host.remote) return this.host.remote.resume(sid, acked, res, streamHead);
    if (!t || t.closed) throw httpError(404, Code.NotFound, `no http session ${JSON.stringify(sid)} (closed or expired: open a new one)`);
    streamHead(res);
    t.attachStream(res, acked);
  }

  /** A POST's numbering headers and body (bounded by maxBody). */
  async #postParts(req: IncomingMessage): Promise<{ first: number; ack: number | undefined; body: Buffer; type: string }> {
    const first = number(req.headers['x-drpc-up'] ?? '1', 'X-Drpc-Up');
    const ack = req.headers['x-drpc-ack'];
    const body = await readBody(req, this.host.maxBody);
    return { first, ack: ack === undefined ? undefined : number(ack, 'X-Drpc-Ack'), body, type: String(req.headers['content-type'] ?? '') };
  }
}

/** Delivers a POST body's frames to the session, in number order (409 when frames were lost before them). */
function deliverPost(t: NodeHttpTransport, first: number, ack: number | undefined, body: Buffer, type: string): void {
  const frames = splitFrames(body, type);
  if (ack !== undefined) t.ack(ack);
  if (!t.receive(first, frames))
    throw httpError(409, Code.BadMessage, `frame ${first} is far past the next expected one: frames were lost`);
}

function streamHead(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform', 'x-accel-buffering': 'no' });
  res.socket?.setNoDelay(true);
}

/** Frames of a POST body: RAW frames back to back (each starts with its length), or JSON frames one per line. */
export function splitFrames(body: Buffer, type: string): Frame[] {
  if (body.length === 0) return [];
  if (type.startsWith(JSON_TYPE))
    return body
      .toString('utf8')
      .split('\n')
      .filter((f) => f !== '');
  if (!type.startsWith(RAW_TYPE))
    throw httpError(415, Code.BadMessage, `Content-Type ${JSON.stringify(type)}: send ${RAW_TYPE} or ${JSON_TYPE}`);
  const frames: Frame[] = [];
  for (let at = 0; at < body.length;) {
    if (body.length - at < 4) throw httpError(400, Code.BadMessage, `a truncated frame at byte ${at}`);
    const len = body.readUInt32BE(at);
    if (len < 6 || at + len > body.length)
      throw httpError(400, Code.BadMessage, `a frame of ${len} bytes at byte ${at} does not fit the body`);
    frames.push(body.subarray(at, at + len));
    at += len;
  }
  return frames;
}

function number(v: string | string[] | undefined, what: string): number {
  const n = Number(Array.isArray(v) ? v[0] : (v ?? 0));
  if (!Number.isSafeInteger(n) || n < 0)
    throw httpError(400, Code.BadMessage, `${what} must be a non-negative integer, got ${JSON.stringify(v)}`);
  return n;
}
