/** The options and events of an Endpoint (kept apart from the accepting logic). */
import type { IncomingMessage } from 'node:http';
import type { AuthChecker } from '../../src/auth.ts';
import type { AuthExpiresAt } from './auth-expiry.ts';
import type { SlowConsumerOptions } from '../../src/backlog.ts';
import type { AnyContract, Untyped } from '../../src/contract.ts';
import type { ReplyCacheOptions } from '../../src/reply-cache.ts';
import type { CorsOptions } from './cors.ts';
import type { Session } from '../../src/session.ts';
import type { PeerOptions } from '../../src/session-types.ts';
import { badMessage, type DrpcError } from '../../src/status.ts';
import { checkNumbers } from '../../src/options.ts';
import type { Broker } from './broker.ts';

export interface UpgradeInfo {
  request: IncomingMessage;
  url: URL;
  /** What the request opens: a WebSocket, or an HTTP session / gateway call (the HTTP fallback). */
  transport: 'websocket' | 'http';
}

export interface HttpOptions {
  /** A comment line on an HTTP session's stream this often, in ms (keeps proxies and the client's liveness check happy). Default 10000. */
  pingMs?: number;
  /** An HTTP session's stream is ended after this many ms and the client opens the next (proxies cut long responses). Default 60000. */
  maxAgeMs?: number;
  /** How long an HTTP session waits for its next stream before it closes, in ms. Default 15000. */
  graceMs?: number;
  /** Largest POST body (frames up, gateway calls), in bytes; more gets 413. Default min(maxFrameSize, 4 MiB). */
  maxBody?: number;
  /** With a broker: how long a request relayed to the node holding its HTTP session waits for it, in ms (then 502). Default 10000. */
  relayMs?: number;
  /**
   * Also check `origins` and `verifyUpgrade` on every request of an HTTP session (POSTs, stream resumes,
   * DELETE), not only on the one that opens it: the session id then is not enough without the cookies or
   * headers (the client's `headers` option) your check reads. Default false (the session id is a bearer secret).
   */
  verifyEachRequest?: boolean;
}

export interface EndpointOptions<C extends AnyContract = Untyped> extends PeerOptions {
  /** Typed contract: routes are typed from it and inputs validated (400 naming the failing paths). */
  contract?: C;
  /** Also validate handler outputs against the contract (a bad output becomes 500). Default false. */
  validateOutput?: boolean;
  /** Encoding until a peer's first frame says otherwise: binary = RAW, text = JSON sub-protocol. Default 'raw'. */
  proto?: 'raw' | 'json';
  /** AUTH_CALL checker, run first on every connection; its return value is the AUTH_REPLY body. Default: no auth. */
  auth?: AuthChecker;
  /**
   * Who an authenticated session acts for, read once `auth` accepted it (e.g. `(s) => s.data.get('user')`
   * when your checker bound the user there). A client's durable state (its reply cache, handed between
   * nodes, and keepReplies records) is then bound to the client id *and* this principal: a connection
   * that dials with a leaked client id under other credentials finds nothing of that client's.
   * `undefined` = not bound. Needs `auth`. Default: none (the client id alone).
   */
  principal?: (session: Session) => string | undefined;
  /**
   * When a session's credentials expire, in ms of the endpoint's clock (e.g. a JWT's `exp * 1000` that
   * your checker kept in `session.data`), read after every accepted auth and token refresh; `undefined`
   * = they do not. The client is told how long it has and refreshes ahead of time (`refreshAuth` with
   * its `auth()`); a session not refreshed in time is closed with 102 "credentials expired", and the
   * client reconnects with fresh ones. Needs `auth`. Default: none (a session outlives its token).
   */
  authExpiresAt?: AuthExpiresAt;
  /** How long a new connection has to send its AUTH_CALL, in ms. Default 10000. */
  authTimeout?: number;
  /** Handshake-time check of the upgrade request (e.g. a token in the query); refuse by throwing a DrpcError. Default: accept. */
  verifyUpgrade?: (info: UpgradeInfo) => unknown;
  /** Allowed Origin header values (exact match); absent Origin (non-browser clients) is allowed. Default: any origin. */
  origins?: string[];
  /** Bounds for subscribers that stop reading (topic messages wait, then the topic's slowPolicy applies), or false. Default { highWaterBytes: 1 MiB, maxQueued: 1000, maxQueuedBytes: 8 MiB }. */
  slowConsumers?: SlowConsumerOptions | false;
  /** Reply cache for calls from our clients, so a call re-sent after a reconnect runs once (docs/protocol.md), or false. Default { maxEntries: 4096, maxAgeMs: 60000, maxClients: 10000 }. */
  replyCache?: ReplyCacheOptions | false;
  /** The HTTP fallback's sessions and the gateway on the same path (`listen()`, or `handleRequest` on your server), or false. Default on, with the HttpOptions defaults. */
  http?: HttpOptions | false;
  /** CORS for the HTTP routes, or false for none (same-origin pages only). Default: allow the `origins` option, else any origin; no credentials. */
  cors?: CorsOptions | false;
  /** Most open connections; more are refused with HTTP 503. Default 10000. */
  maxConnections?: number;
  /** Most inbound CALLs handled at once per session; more get REPLY 500. Default 1024. */
  maxConcurrentCalls?: number;
  /** Most topics one session subscribes to at once; more subscribes are refused with 500. Default 1000. */
  maxSubscriptions?: number;
  /**
   * Shares topics (offsets, history, resume on any node) and session pushes with the endpoints of
   * other nodes, e.g. `redisBroker()` from drpc/redis; `publish()` then resolves with the offset.
   * One broker per endpoint (a second endpoint on it is a 400); the endpoint does not close it.
   * Default: none, everything in this process's memory.
   */
  broker?: Broker;
  /** Errors nobody awaits (push handler failures, bad frames …). Default: console.warn. */
  onError?: (err: DrpcError, session?: Session) => void;
}

export interface EndpointEvents {
  /** A session finished its handshake and is open. */
  session(session: Session): void;
}

/** Numeric options out of range fail createEndpoint() with 400 naming the option. */
export function checkEndpointOptions(o: EndpointOptions<AnyContract>): void {
  const h = o.http || {};
  const r = o.replyCache || {};
  const s = o.slowConsumers || {};
  if (o.principal && !o.auth) throw badMessage('principal needs auth: a principal is read from a session that auth accepted');
  if (o.authExpiresAt && !o.auth) throw badMessage('authExpiresAt needs auth: the credentials that expire are the ones auth accepted');
  checkNumbers([
    ['maxFrameSize', o.maxFrameSize, 1, true],
    ['timeout', o.timeout, 0],
    ['authTimeout', o.authTimeout, 1],
    ['maxConnections', o.maxConnections, 0, true],
    ['maxConcurrentCalls', o.maxConcurrentCalls, 1, true],
    ['maxSubscriptions', o.maxSubscriptions, 1, true],
    ['http.pingMs', h.pingMs, 1],
    ['http.maxAgeMs', h.maxAgeMs, 1],
    ['http.graceMs', h.graceMs, 0],
    ['http.maxBody', h.maxBody, 1, true],
    ['http.relayMs', h.relayMs, 1],
    ['replyCache.maxEntries', r.maxEntries, 0, true],
    ['replyCache.maxAgeMs', r.maxAgeMs, 0],
    ['replyCache.maxClients', r.maxClients, 0, true],
    ['replyCache.maxBytes', r.maxBytes, 0],
    ['slowConsumers.highWaterBytes', s.highWaterBytes, 0],
    ['slowConsumers.maxQueued', s.maxQueued, 0, true],
    ['slowConsumers.maxQueuedBytes', s.maxQueuedBytes, 0],
    ['slowConsumers.drainEveryMs', s.drainEveryMs, 1],
  ]);
}
