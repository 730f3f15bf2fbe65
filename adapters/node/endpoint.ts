/**
 * createEndpoint(): the server role in Node. Accepts drpc over WebSocket on an http.Server (its own
 * or yours, beside Express/Fastify), keeps a hub of sessions, answers heartbeats, runs drpc's auth
 * exchange, and enforces limits, each refusal with a clear drpc status.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { acceptAuth } from '../../src/auth.ts';
import { bindingAuth } from './client-key.ts';
import { routeRefreshAuth } from './refresh-auth.ts';
import { AuthExpiry } from './auth-expiry.ts';
import { systemClock, type Clock } from '../../src/clock.ts';
import { SERVICE_RESTART } from '../../src/close-codes.ts';
import { autoProto } from '../../src/proto/auto.ts';
import { DEFAULT_MAX_FRAME, type Proto } from '../../src/proto/proto.ts';
import { HelloFrames } from './hello.ts';
import { rawProto } from '../../src/proto/raw.ts';
import { Listeners } from '../../src/listeners.ts';
import { filters } from '../../src/filter/index.ts';
import { jsonProto } from '../../src/proto/json.ts';
import { Router, type CallContext, type CallHandler, type PushHandler } from '../../src/router.ts';
import { Session, type CallOptions, type PushOptions, type SessionOwner } from '../../src/session.ts';
import { serveCalls } from '../../src/serve.ts';
import type { BroadcastResult } from '../../src/broadcast.ts';
import { ReplyCache } from '../../src/reply-cache.ts';
import { Backlogs } from '../../src/backlog.ts';
import type { Topic, TopicOptions } from '../../src/topics.ts';
import { TopicHub } from '../../src/topic-hub.ts';
import type { TopicFamily, TopicFamilyOptions } from '../../src/topic-family.ts';
import type { Broker } from './broker.ts';
import { BrokerLink } from './broker-link.ts';
import { checkPresence, presenceHere, type Presence, type PresenceOptions } from './presence.ts';
import {
  specOf,
  validatedHandler,
  type AnyContract,
  type CallName,
  type ClientCallInput,
  type ClientCallName,
  type ClientCallOutput,
  type HandlerInput,
  type HandlerOutput,
  type PushInput,
  type PushName,
  type TopicInput,
  type TopicName,
  type Untyped,
} from '../../src/contract.ts';
import { Code, DrpcError, codeError, codeText, type Status } from '../../src/status.ts';
import type { Transport } from '../../src/transport/transport.ts';
import { SessionHub } from './hub.ts';
import { Pong } from './pong.ts';
import { checkEndpointOptions, type EndpointEvents, type EndpointOptions } from './endpoint-options.ts';
import { endpointStats, type EndpointStats } from './stats.ts';
import { Rooms } from './rooms.ts';
import type { TcpListener } from './tcp-listen.ts';
import { NodeWebSocketTransport } from './ws-transport.ts';
import { Acceptor } from './acceptor.ts';
import { httpRoutesFor, type HttpRoutes } from './http-routes.ts';
import { fail } from './http-body.ts';
import { NodeHttpTransport } from './http-transport.ts';
import { admit, refusal, verifyRequest } from './upgrade.ts';

export type { UpgradeInfo, EndpointOptions, EndpointEvents } from './endpoint-options.ts';
export type { EndpointStats } from './stats.ts';

/** An endpoint with a `broker` publishes through it: `publish()` resolves with the offset the broker gave. */
export function createEndpoint<C extends AnyContract = Untyped>(
  options: EndpointOptions<C> & { broker: Broker },
): Endpoint<C, Promise<number>>;
export function createEndpoint<C extends AnyContract = Untyped>(options?: EndpointOptions<C>): Endpoint<C>;
export function createEndpoint<C extends AnyContract = Untyped>(options: EndpointOptions<C> = {}): Endpoint<C, number | Promise<number>> {
  return new Endpoint<C, number | Promise<number>>(options);
}

type Target = Session | string;

/** `Published`: what `publish()` returns: the offset, or with a broker a promise of it. */
export class Endpoint<C extends AnyContract = Untyped, Published extends number | Promise<number> = number> {
  readonly router = new Router();
  readonly sessions = new SessionHub();
  /** Topics this endpoint publishes (offsets, epochs, bounded history for resume). */
  readonly topics: TopicHub<Published>;
  /** Named groups of sessions: `rooms.join(session, name)`, then `broadcast(…, { room: name })`. */
  readonly rooms = new Rooms();
  readonly clock: Clock;
  readonly #opts: EndpointOptions<C>;
  readonly #acceptor: Acceptor;
  readonly #events = new Listeners<EndpointEvents>();
  readonly #transports = new Set<Transport>();
  readonly #http?: HttpRoutes;
  #closing = false;
  readonly #hellos = new HelloFrames();
  #connections = 0;
  readonly #pong: Pong;
  /** Topic messages waiting for subscribers that stopped reading (bounded; see src/backlog.ts). */
  readonly #backlogs?: Backlogs;
  /** Replies of calls with an identity, so re-sent calls run once (shared by every session). */
  readonly #replyCache?: ReplyCache;
  readonly #expiry?: AuthExpiry;
  /** One owner for every session: no listener closures per connection. */
  readonly #owner: SessionOwner = {
    sessionClosed: (s) => {
      this.topics.sessionClosed(s);
      this.rooms.sessionClosed(s);
      this.#connections--;
      this.#transports.delete(s.transport);
      const held = this.sessions.get(s.id) === s;
      this.sessions.remove(s);
      if (held) this.#link?.release(s.id);
      const taken = s.replyCacheTaken;
      if (taken) this.#replyCache?.release(taken);
    },
    sessionRenamed: (s, id, prev) => {
      this.sessions.rename(s, id, prev);
      if (this.sessions.get(id) !== s) return; // not in the hub (yet)
      this.#link?.release(prev);
      this.#link?.hold(id);
    },
  };
  readonly #onError = (err: DrpcError, s?: Session): void => {
    const report = this.#opts.onError;
    if (report) report(err, s);
    else console.warn(`[drpc] ${s ? `session ${s.id}` : 'endpoint'}: ${err.detail}`);
  };
  /** The broker's side of this endpoint (sessions held, relayed pushes, broadcasts to every node). */
  readonly #link?: BrokerLink;
  /** Stateless protos shared by every connection (each connection's autoProto only holds its mode). */
  readonly #protos: { raw: Proto; json: Proto };

  constructor(options: EndpointOptions<C> = {}) {
    checkEndpointOptions(options);
    const protoOpts = { maxFrameSize: options.maxFrameSize, filters: options.filters ?? filters };
    this.#protos = { raw: rawProto(protoOpts), json: jsonProto(protoOpts) };
    this.#opts = options;
    this.clock = options.clock ?? systemClock;
    this.#acceptor = new Acceptor({
      maxFrameSize: options.maxFrameSize ?? DEFAULT_MAX_FRAME,
      tcpProto: () => rawProto(protoOpts),
      acceptsTcp: () => !this.#closing && this.#connections < (options.maxConnections ?? 10_000),
      admit: (req, url) => this.#admit(req, url, 'websocket'),
      serve: (t, o) => this.serve(t, o),
      handleRequest: (req, res, path) => this.handleRequest(req, res, path),
    });
    this.#pong = new Pong(this.clock, (s, silent) =>
      s.abort({ code: Code.ConnClosed, msg: codeText(Code.ConnClosed), cause: `heartbeat: silent for ${silent} ms` }),
    );
    this.#pong.route(this.router);
    const expiry = (this.#expiry = options.authExpiresAt ? new AuthExpiry(this.clock, options.authExpiresAt) : undefined);
    if (options.auth)
      routeRefreshAuth(this.router, expiry ? expiry.check(options.auth) : options.auth, expiry ? (s) => expiry.arm(s) : undefined);
    if (options.slowConsumers !== false) this.#backlogs = new Backlogs(this.clock, options.slowConsumers);
    this.topics = new TopicHub<Published>(this.clock, this.#backlogs, options.broker?.logs, options.maxSubscriptions);
    if (options.replyCache !== false) this.#replyCache = new ReplyCache(this.clock, options.replyCache, options.broker?.replies);
    if (options.broker)
      this.#link = new BrokerLink(options.broker, {
        sessions: this.sessions,
        rooms: this.rooms,
        topics: this.topics,
        clock: this.clock,
        replyCache: this.#replyCache,
        broadcastHere: (b) => this.#broadcastHere(b.serviceMethod, b.payload, { meta: b.meta, room: b.room }),
        report: this.#onError,
      });
    this.topics.route(this.router);
    if (options.http !== false)
      this.#http = httpRoutesFor(options, {
        clock: this.clock,
        router: this.router,
        admit: (req, url) => this.#admit(req, url, 'http'),
        verify: (request, url) => verifyRequest(this.#opts, { request, url, transport: 'http' }),
        serve: (t, o) => this.serve(t, o),
        onError: this.#onError,
        broker: options.broker,
      });
  }

  /**
   * Answers drpc's HTTP routes under `path` (the HTTP fallback's session requests and the gateway's
   * one-shot calls); false when the request is not one of them. For a server of your own: call it
   * first in your request handler (`listen()` does).
   */
  handleRequest(req: IncomingMessage, res: ServerResponse, path = '/'): boolean {
    if (!this.#http) return false;
    if (this.#closing) {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== path && !url.pathname.startsWith(path + '/')) return false;
      fail(res, refusal(503, Code.ConnClosed, 'endpoint is shutting down'));
      return true;
    }
    return this.#http.handle(req, res, path);
  }

  /** Serves CALLs; with a contract the input is validated (400) before `handler` runs. */
  route<M extends CallName<C>>(
    serviceMethod: M,
    handler: (input: HandlerInput<C, M>, ctx: CallContext) => HandlerOutput<C, M> | Promise<HandlerOutput<C, M>>,
  ): this {
    const spec = specOf(this.#opts.contract, 'calls', serviceMethod);
    this.router.route(serviceMethod, validatedHandler(serviceMethod, handler as CallHandler, spec, this.#opts.validateOutput));
    return this;
  }

  routePush(serviceMethod: string, handler: PushHandler): this {
    this.router.routePush(serviceMethod, handler);
    return this;
  }

  /** Pushes to one session (by session or id); typed from the contract's pushes. */
  push<M extends PushName<C>>(target: Target, serviceMethod: M, payload: PushInput<C, M>, options?: PushOptions): Promise<void> {
    const remote = this.#remote(target);
    if (remote) return remote.push(target as string, serviceMethod, payload, options);
    return this.sessions.require(target).then((s) => s.push(serviceMethod, payload, options));
  }

  /**
   * Closes session `id` at once, telling the client why (WebSocket close 4000 + status code), on
   * whichever node holds it (with a broker); false when none does. `sessions.kick` sees this node only.
   */
  async kick(id: string, status: Status): Promise<boolean> {
    if (this.sessions.kick(id, status)) return true;
    return this.#link ? this.#link.broker.kick(id, status) : false;
  }

  /**
   * Who is connected: each session's id and rooms (and the `fields` of its data asked for), on every node (with a broker; `missing` counts the
   * nodes that did not answer within `waitMs`) or on this one; only the members of `room` when given.
   */
  async presence(options: PresenceOptions = {}): Promise<Presence> {
    checkPresence(options);
    if (this.#link) return this.#link.presence(options, options.waitMs ?? 5000);
    return { sessions: presenceHere(this, options), missing: 0 };
  }

  /** What this node holds now, for a health check or a metrics scrape (stats.ts). */
  stats(): EndpointStats {
    return endpointStats(this.#connections, this.sessions, this.topics, this.#backlogs, this.#replyCache);
  }

  /** Topic messages waiting for a slow subscriber (count and bytes; 0 when it keeps up). */
  backlogOf(target: Session): { count: number; bytes: number } {
    return this.#backlogs?.waiting(target) ?? { count: 0, bytes: 0 };
  }

  /**
   * Declares a topic clients may subscribe to (history limits, authorization, slow-consumer policy);
   * a name ending in `*` declares a family of topics made on demand under that prefix (topic-family.ts).
   */
  topic<M extends TopicName<C>>(name: M & (M extends `${string}*` ? never : unknown), options?: TopicOptions): Topic<Published>;
  topic<M extends TopicName<C> & `${string}*`>(name: M, options?: TopicFamilyOptions): TopicFamily<Published>;
  topic(name: string, options?: TopicFamilyOptions): Topic<Published> | TopicFamily<Published> {
    return this.topics.topic(name, options);
  }

  /** Publishes to a topic's subscribers (declaring the topic with defaults if needed); returns the offset. */
  publish<M extends TopicName<C>>(name: M, payload: TopicInput<C, M>): Published {
    return this.topics.publish(name, payload);
  }

  /**
   * Pushes to many sessions at once (default: every open session; or `to` sessions/ids; or a `room`),
   * encoding and packing once per codec and encoding. Returns how many it reached and why the others failed.
   * With a broker, a broadcast to everyone or to a room also goes to every other node's sessions (not
   * counted in the result; a failure is reported through onError); `local: true` keeps it on this node.
   */
  broadcast<M extends PushName<C>>(
    serviceMethod: M,
    payload: PushInput<C, M>,
    options: PushOptions & { to?: Iterable<Target>; room?: string; local?: boolean } = {},
  ): BroadcastResult {
    if (this.#link && options.to === undefined && !options.local) this.#link.fanOut(serviceMethod, payload, options);
    return this.#broadcastHere(serviceMethod, payload, options);
  }

  #broadcastHere(
    serviceMethod: string,
    payload: unknown,
    options: PushOptions & { to?: Iterable<Target>; room?: string },
  ): BroadcastResult {
    const to = options.room !== undefined ? this.rooms.members(options.room) : options.to;
    return this.sessions.broadcast(serviceMethod, payload, { ...options, to });
  }

  /** Calls a route the client serves (server → client call) and resolves with its reply; with a broker, on any node. */
  call<M extends ClientCallName<C>>(
    target: Target,
    serviceMethod: M,
    input: ClientCallInput<C, M>,
    options?: CallOptions,
  ): Promise<ClientCallOutput<C, M>> {
    const remote = this.#remote(target);
    if (remote)
      return remote.call(target as string, serviceMethod, input, options ?? {}, this.#opts.timeout ?? 30_000) as Promise<
        ClientCallOutput<C, M>
      >;
    return this.sessions.require(target).then((s) => s.call<ClientCallOutput<C, M>>(serviceMethod, input, options));
  }

  /** The broker link when `target` is an id this node does not hold (another node may). */
  #remote(target: Target): BrokerLink | undefined {
    return typeof target === 'string' && !this.sessions.get(target) ? this.#link : undefined;
  }

  on<E extends keyof EndpointEvents>(event: E, cb: EndpointEvents[E]): () => void {
    return this.#events.on(event, cb);
  }

  /**
   * Serves drpc WebSocket upgrades on `path` of an existing server; other requests are left alone.
   * `http: true` also answers the HTTP routes under `path` (only if no other handler of that server
   * answers them; otherwise call `handleRequest` from your handler).
   */
  attach(server: Server, { path = '/', http = false }: { path?: string; http?: boolean } = {}): this {
    this.#acceptor.attach(server, path, http);
    return this;
  }

  /** Starts an http.Server of its own on 127.0.0.1 (or `host`) and attaches to it. */
  listen({ port = 0, host = '127.0.0.1', path = '/' }: { port?: number; host?: string; path?: string } = {}): Promise<{
    port: number;
    url: string;
  }> {
    return this.#acceptor.listen(port, host, path);
  }

  /**
   * Stops accepting, lets running handlers finish (up to `drain` ms), then closes every session with
   * WebSocket code 1012 (service restart) so clients reconnect, possibly to another node.
   */
  async close({ drain = 5000 }: { drain?: number } = {}): Promise<void> {
    this.#closing = true;
    this.#pong.stop();
    this.#backlogs?.stop();
    this.topics.close();
    this.#link?.close();
    for (const t of this.#transports)
      if (t instanceof NodeWebSocketTransport || t instanceof NodeHttpTransport) t.closeCode = SERVICE_RESTART;
    await Promise.all(this.sessions.list().map((s) => s.close('endpoint closing', { timeout: drain })));
    for (const t of this.#transports) t.close('endpoint closed');
    await this.#acceptor.close();
  }

  /**
   * Serves drpc over plain TCP (RAW frames, DMicro's default transport) on 127.0.0.1 (or `host`).
   * `close()` stops this listener and drops the connections it accepted; `Endpoint.close` closes it too.
   */
  listenTcp(options: { port?: number; host?: string } = {}): Promise<TcpListener> {
    return this.#acceptor.listenTcp(options);
  }

  // ---- accepting ------------------------------------------------------------------------------

  /** Whether a new connection may open (see admit in upgrade.ts). */
  #admit(req: IncomingMessage, url: URL, transport: 'websocket' | 'http'): Promise<void> {
    return admit(this.#opts, () => ({ closing: this.#closing, connections: this.#connections }), { request: req, url, transport });
  }

  /**
   * Serves one connection, on any Transport, as a session of this endpoint: auth first (when
   * configured), then the hub and the 'session' event. Resolves with the open session, or undefined
   * when it was refused (auth failed, endpoint closing). Default proto: RAW or JSON by frame kind.
   * `hello`: the peer asked for our capabilities (docs/protocol.md, HELLO_METHOD); pushed once open.
   * `clientId`: the id the peer dialed with: its calls with an identity go through the reply cache.
   */
  async serve(transport: Transport, options: { proto?: Proto; hello?: boolean; clientId?: string } = {}): Promise<Session | undefined> {
    if (this.#closing)
      return void transport.close('endpoint is shutting down', codeError(Code.ConnClosed, 'endpoint is shutting down').toStatus());
    this.#connections++;
    const o = this.#opts;
    this.#transports.add(transport);
    // The client's durable state is kept under `key`: its id, bound to its principal once auth ran (client-key.ts).
    let key = options.clientId;
    const principal = key !== undefined ? o.principal : undefined;
    const link = this.#replyCache && this.#link;
    // With a broker, the client's frames wait in the transport until its previous node handed over
    // what it holds of the client (re-sent calls are then answered, not run again).
    const version = link && key !== undefined && !principal ? await link.claim(key) : undefined;
    const cache = this.#replyCache;
    const session = new Session(transport, {
      serve: serveCalls,
      proto: options.proto ?? autoProto({ initial: o.proto, raw: this.#protos.raw, json: this.#protos.json }),
      codecs: o.codecs,
      codec: o.codec,
      router: this.router,
      plugins: o.plugins,
      clock: this.clock,
      timeout: o.timeout,
      maxConcurrentCalls: o.maxConcurrentCalls,
      // Held until start(): the client's first calls run once the session is known (hub, 'session' event).
      preparing: true,
      held: !o.auth,
      onError: this.#onError,
      owner: this.#owner,
      // The client's record, taken when its first call arrives (an idle connection holds none).
      replyCache: cache && key !== undefined ? () => cache.acquire(key!) : undefined,
    });
    // A new call on it is refused once the client has claimed a newer connection elsewhere (client-claims.ts).
    if (version !== undefined) cache?.claimedBy(session, version);
    if (o.auth) {
      const bound = principal
        ? bindingAuth(o.auth, principal, key!, (bound) => {
            key = bound;
            return link?.claim(bound).then((v) => cache?.claimedBy(session, v));
          })
        : o.auth;
      const check = this.#expiry ? this.#expiry.check(bound) : bound;
      try {
        await acceptAuth(session, check, o.authTimeout ?? 10_000);
      } catch (err) {
        const e = DrpcError.from(err, Code.Unauthorized);
        // drpc closes a session whose auth failed; the AUTH_REPLY with the status went out first.
        session.abort(e.toStatus(), `auth failed: ${e.causeText || e.message}`);
        return undefined;
      }
      if (session.state === 'closed') return undefined;
    }
    session.start(() => {
      if (options.hello)
        this.#hellos.send(
          session,
          this.#replyCache && options.clientId !== undefined ? { replyCache: { maxAgeMs: this.#replyCache.maxAgeMs } } : {},
        );
      this.sessions.add(session);
      this.#link?.hold(session.id);
      this.#events.emit('session', session);
    });
    if (o.auth) this.#expiry?.arm(session);
    return session;
  }
}
