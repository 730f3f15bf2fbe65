/**
 * connect(url): the client role. A Client keeps one drpc session alive over WebSocket: it dials,
 * authenticates (AUTH_CALL first), heartbeats, and redials with backoff when the connection drops.
 * Routes, push listeners and auth survive reconnects; calls made while disconnected wait in a
 * bounded offline queue; calls in flight when the connection drops are re-sent after the reconnect
 * when the endpoint keeps a reply cache (durable calls), and settle with 102 otherwise.
 */
import { authenticate } from './auth.ts';
import { systemClock, type Clock, type TimerHandle } from './clock.ts';
import { Redial } from './redial.ts';
import { checkConnectOptions } from './options.ts';
import { closeToStatus, SERVICE_RESTART } from './close-codes.ts';
import { HeartbeatPing } from './heartbeat.ts';
import { OfflineQueue } from './offline-queue.ts';
import type { Proto } from './proto/proto.ts';
import { autoProto } from './proto/auto.ts';
import {
  AUTH_EXPIRES_METHOD,
  CANCEL_META,
  CANCEL_METHOD,
  HELLO_METHOD,
  HELLO_QUERY,
  REFRESH_AUTH_METHOD,
  type Hello,
} from './extensions.ts';
import { DurableCalls } from './durable-calls.ts';
import {
  Subscriptions,
  TOPIC_PUSH_METHOD,
  type SubscribeOptions,
  type Subscription,
  type TopicHandler,
  type TopicMessageInfo,
} from './subscriptions.ts';
import { PushListeners, type PushListener } from './push-listeners.ts';
import { pageUrl, watchEnvironment } from './environment.ts';
import type { ClientState, StateInfo, ClientEvents, ConnectOptions } from './client-types.ts';
import { Router, type CallContext, type CallHandler, type PushContext } from './router.ts';
import {
  type AnyContract,
  type ContractSection,
  type CallInput,
  type CallName,
  type CallOutput,
  type ClientCallName,
  type ClientHandlerInput,
  type ClientHandlerOutput,
  type Contract,
  type PushName,
  type PushPayload,
  type TopicName,
  type TopicPayload,
  type Untyped,
} from './contract.ts';
import { Session, type CallOptions, type PushOptions, type Reply } from './session.ts';
import { Code, DrpcError, type Status, codeError, badMessage } from './status.ts';
import { Listeners } from './listeners.ts';
import { dialingFor, type DialedTransport, type Dialing, type TransportName } from './dialing.ts';

export type { ClientState, StateInfo, ClientEvents, ConnectOptions } from './client-types.ts';

const SERVE_HINT = "client.route needs call serving: import { serveCalls } from 'drpc'; connect(url, { serve: serveCalls })";

export function connect<C extends AnyContract = Untyped>(url: string, options: ConnectOptions<C> = {}): Client<C> {
  return new Client<C>(url, options);
}

/** Arguments after the method name: the body is required when the contract types it. */
type CallArgs<C, M> = C extends Contract ? [body: CallInput<C, M>, options?: CallOptions] : [body?: unknown, options?: CallOptions];

export class Client<C extends AnyContract = Untyped> {
  readonly router = new Router();
  readonly clock: Clock;
  readonly #events = new Listeners<ClientEvents>();
  readonly #opts: ConnectOptions<C>;
  readonly #timeout: number;
  readonly #proto: Proto;
  readonly #queue: OfflineQueue;
  readonly #subs: Subscriptions;
  readonly #pushes: PushListeners;
  #state: StateInfo = { state: 'connecting', reason: 'connect() called', attempt: 0 };
  #session?: Session;
  #heartbeat?: HeartbeatPing;
  readonly #redial: Redial;
  #dialId = 0;
  /**
   * Identities of durable calls: the client id, sent when dialing; calls are known by it and their seq.
   * Whoever dials with it is answered from this client's reply cache, so it is a secret: 128 bits from
   * crypto.getRandomValues (Math.random can be predicted from its outputs), 28 chars.
   */
  readonly #clientId = Array.from(crypto.getRandomValues(new Uint32Array(4)), (n) => n.toString(36).padStart(7, '0')).join('');
  readonly #durables: DurableCalls;
  #authReply: unknown; // stale-callback guard: callbacks from an older dial are ignored
  #handshaking?: DialedTransport; // open but not yet authenticated: close() ends it at once
  readonly #dialer: Dialing;
  #moving = false; // the session moves onto a WebSocket the probe opened: new calls wait in the offline queue
  #stopProbe?: () => void;
  #renew?: TimerHandle; // the auth refresh ahead of the credentials' expiry
  #stopEnv?: () => void;

  constructor(
    readonly url: string,
    options: ConnectOptions<C> = {},
  ) {
    checkConnectOptions(url, options);
    this.#opts = options;
    this.clock = options.clock ?? systemClock;
    this.#timeout = options.timeout ?? 30_000;
    // Read both encodings (an endpoint may push RAW before it has seen our first frame), write ours.
    this.#proto =
      typeof options.proto === 'object'
        ? options.proto
        : autoProto({ maxFrameSize: options.maxFrameSize, filters: options.filters, initial: options.proto ?? 'raw', learn: false });
    this.#queue = new OfflineQueue(this.clock, options.offlineQueue ?? 1024);
    this.#subs = new Subscriptions({
      gap: (gap) => this.#events.emit('gap', gap),
      error: (err) => console.warn(`[drpc] ${this.url}: subscribe failed: ${err.detail}`),
    });
    this.router.routePush(TOPIC_PUSH_METHOD, this.#subs.receive);
    // With `validate`, a push that does not match the contract is reported and not delivered.
    this.#pushes = new PushListeners(this.router, (serviceMethod) => this.#check('pushes', serviceMethod));
    // Credentials that expire: refreshed ahead of time (a minute before, or at 80 % of a short life).
    this.router.routePush(AUTH_EXPIRES_METHOD, (ms, { session }) => {
      const left = ms as number;
      this.#stopRenew();
      // Not a positive number (NaN, a string …): no refresh, rather than one in a loop.
      if (typeof left === 'number' && left > 0)
        this.#renew = this.clock.setTimeout(
          () =>
            this.#session === session &&
            this.refreshAuth().catch((err: DrpcError) => console.warn(`[drpc] ${this.url}: auth refresh failed: ${err.message}`)),
          Math.max(left - 60_000, left * 0.8, 1000),
        );
    });
    this.router.routePush(HELLO_METHOD, (hello) => {
      this.#durables.peerCaches = !!(hello as Hello | null)?.replyCache;
    });
    this.#durables = new DurableCalls({
      clock: this.clock,
      current: () => this.session,
      resendable: (err) => this.#resendable(err),
      timeout: this.#timeout,
      resumeWindow: options.resumeWindow ?? 60_000,
      cancel: (n) => void this.push(CANCEL_METHOD, undefined, { meta: { [CANCEL_META]: String(n) } }).catch(() => {}),
    });
    this.#dialer = dialingFor({
      url,
      transports: options.transports ?? ['websocket'],
      WebSocket: options.WebSocket,
      fetch: options.fetch,
      headers: options.headers,
      connectTimeout: options.connectTimeout,
      upgradeInterval: options.upgradeInterval,
      clock: this.clock,
    });
    this.#redial = new Redial(this.clock, options.reconnect, () => void this.#dial());
    this.#watchEnvironment();
    // Dials after this turn, unless close() or reconnect() came first (a component mounted and unmounted
    // at once, as React's StrictMode does): a closed client must never open.
    queueMicrotask(() => this.#dialId || this.#dial());
  }

  /** This client's id: sent when dialing (query `_drpc`), the same on every reconnect; the endpoint knows its calls by it. */
  get id(): string {
    return this.#clientId;
  }

  /** The transport of the open session: 'websocket', or the fallback's name ('http'); undefined when not open. */
  get transport(): TransportName | undefined {
    return this.#state.state === 'open' ? this.#dialer.current : undefined;
  }

  /** The body of the last AUTH_REPLY (what the endpoint's `auth` checker returned), undefined without auth. */
  get authReply(): unknown {
    return this.#authReply;
  }

  get state(): ClientState {
    return this.#state.state;
  }

  /** The current session while open (for its id, data, lastReceived …). */
  get session(): Session | undefined {
    return this.#state.state === 'open' && !this.#moving ? this.#session : undefined;
  }

  on<E extends keyof ClientEvents>(event: E, cb: ClientEvents[E]): () => void {
    return this.#events.on(event, cb);
  }

  /** Resolves when open; rejects if the client closes first. */
  ready(): Promise<void> {
    return new Promise((resolve, reject) => {
      const settle = () => {
        const s = this.state;
        if (s === 'open') resolve();
        else if (s === 'closed') reject(this.#closedError());
        else return;
        off();
      };
      const off = this.on('state', settle);
      settle();
    });
  }

  /** Calls `serviceMethod` on the server; resolves with the reply body, rejects with a DrpcError. */
  call<M extends CallName<C>>(serviceMethod: M, ...args: CallArgs<C, M>): Promise<CallOutput<C, M>> {
    // The hot path: open, nothing to validate: straight to the session (through DurableCalls
    // unless the call fails fast), no reply object built.
    const [body, options = {}] = args;
    if (this.session && !this.#opts.validate) return this.#call<CallOutput<C, M>>(serviceMethod, body, options, false);
    return this.callReply(serviceMethod, ...args).then((r) => r.value);
  }

  /** Like `call`, resolving with the whole reply (value, meta, codec, status). */
  callReply<M extends CallName<C>>(serviceMethod: M, ...args: CallArgs<C, M>): Promise<Reply<CallOutput<C, M>>> {
    const [body, options = {}] = args;
    const reply = this.#call<Reply<CallOutput<C, M>>>(serviceMethod, body, options, true);
    const check = this.#check('calls', serviceMethod, 'output');
    if (!check) return reply;
    return reply.then(async (r) => ({ ...r, value: (await check(r.value)) as CallOutput<C, M> }));
  }

  /** A call through DurableCalls unless it fails fast; `whole`: resolves with the whole reply. */
  #call<R>(serviceMethod: string, body: unknown, options: CallOptions, whole: boolean): Promise<R> {
    const durable = (options.durable ?? this.#opts.durableCalls ?? true) && this.#durables.peerCaches !== false;
    if (!durable) return this.#send<R>(serviceMethod, body, options, whole);
    return this.#durables.call(serviceMethod, options, (o) => this.#send<R>(serviceMethod, body, o, whole));
  }

  /** One send of a call: on the open session, or held in the offline queue until one opens. */
  #send<R>(serviceMethod: string, body: unknown, options: CallOptions, whole: boolean): Promise<R> {
    const s = this.session;
    if (s) return (whole ? s.callReply(serviceMethod, body, options) : s.call(serviceMethod, body, options)) as Promise<R>;
    return this.#later(`call ${serviceMethod}`, options.timeout ?? this.#timeout, options.signal, (remaining) =>
      this.#send(
        serviceMethod,
        body,
        { ...options, timeout: remaining, sendDeadline: options.sendDeadline ?? options.timeout !== undefined },
        whole,
      ),
    );
  }

  /**
   * Holds a send in the offline queue until a session opens (`remaining`: what is left of `timeout`
   * then); 102 once closed. `send` runs with the session open, so it goes straight out.
   */
  #later<R>(what: string, timeout: number, signal: AbortSignal | undefined, send: (remaining: number) => Promise<R>): Promise<R> {
    if (this.#state.state === 'closed') return Promise.reject(this.#closedError());
    return new Promise<R>((resolve, reject) => {
      const sendOnOpen = (remaining: number) => {
        if (this.session) send(remaining).then(resolve, reject);
        else reject(this.#closedError()); // closed again while the queue was being sent
      };
      this.#queue.add(what, timeout, sendOnOpen, reject, signal);
    });
  }

  /**
   * Whether calls lost with the last connection may go out again: not when the client closed, nor when
   * the endpoint ended the connection with a 4xx status (a frame too big, a refused peer): sending the
   * same call again would end the next connection the same way.
   */
  #resendable(err: DrpcError): boolean {
    const { state, status } = this.#state;
    return state !== 'closed' && !(status && status.code >= 400 && status.code < 500) && !this.#queue.refused(err);
  }

  push(serviceMethod: string, body?: unknown, options?: PushOptions): Promise<void> {
    const s = this.session;
    if (s) return s.push(serviceMethod, body, options);
    return this.#later(`push ${serviceMethod}`, this.#timeout, undefined, () => this.push(serviceMethod, body, options));
  }

  /** Listens for PUSHes to `serviceMethod`; returns the function that stops listening. */
  onPush<M extends PushName<C>>(serviceMethod: M, listener: (body: PushPayload<C, M>, ctx: PushContext) => unknown): () => void {
    return this.#pushes.add(serviceMethod, listener as PushListener);
  }

  /**
   * Subscribes to a topic the endpoint publishes. The subscription lives across reconnects: each new
   * connection resumes from the last offset delivered, with no loss and no duplicates, or a `gap`
   * (on the subscription and on the client) when the endpoint's history no longer reaches back.
   * Subscribing again to a topic shares its subscription (one on the wire); each has its own
   * `unsubscribe()`, and the last one ends it.
   */
  subscribe<M extends TopicName<C>>(
    topic: M,
    handler: (payload: TopicPayload<C, M>, info: TopicMessageInfo) => unknown,
    options?: SubscribeOptions,
  ): Subscription {
    const h = handler as TopicHandler;
    const check = this.#check('topics', topic);
    // With `validate`, a message that does not match the contract is reported and not delivered.
    const deliver: TopicHandler = check ? (m, info) => check(m).then((v) => h(v, info)) : h;
    return this.#subs.subscribe(topic, deliver, options);
  }

  /** Serves CALLs from the server (server → client calls with a reply). */
  route<M extends ClientCallName<C>>(
    serviceMethod: M,
    handler: (input: ClientHandlerInput<C, M>, ctx: CallContext) => ClientHandlerOutput<C, M> | Promise<ClientHandlerOutput<C, M>>,
  ): this {
    if (!this.#opts.serve) throw badMessage(SERVE_HINT);
    const check = this.#check('client', serviceMethod, 'input', true);
    const h = handler as CallHandler;
    this.router.route(serviceMethod, check ? async (body, ctx) => h(await check(body), ctx) : h);
    return this;
  }

  /**
   * Token refresh on the live session: sends `payload` (default: the `auth` option's new result) to
   * the endpoint's auth checker without reconnecting; resolves with the checker's answer, rejects
   * with 401 if it refuses. The next reconnect uses the `auth` option as always.
   */
  async refreshAuth(payload?: unknown): Promise<unknown> {
    const body = payload !== undefined ? payload : await this.#opts.auth?.();
    this.#authReply = (await this.#call<Reply>(REFRESH_AUTH_METHOD, body, { durable: false }, true)).value;
    return this.#authReply;
  }

  /** The contract's validator of a message: with `validate` (or `always`: a client route's input). */
  #check(section: ContractSection, name: string, part?: 'input' | 'output', always?: boolean) {
    return always || this.#opts.validate ? (this.#opts.contract as Contract | undefined)?.check(section, name, part) : undefined;
  }

  /** Dials again after a rejected auth, exhausted attempts or close(). */
  reconnect(): void {
    if (this.#state.state === 'open' || this.#state.state === 'connecting') return;
    this.#watchEnvironment();
    this.#redial.cancel(); // reconnecting: dial now, not also when the backoff timer fires
    this.#redial.attempt = 0;
    this.#dial();
  }

  /** Closes for good: no redial, queued calls fail with 102, running handlers may finish. */
  async close(reason = 'closed by the client'): Promise<void> {
    const s = this.#session;
    this.#session = undefined;
    if (this.#state.state === 'closed')
      this.#teardown(); // a second close() says nothing new
    else this.#giveUp(reason);
    await s?.close(reason);
  }

  // ---- connection lifecycle -----------------------------------------------------------------

  /** `moving`: the session moves onto a WebSocket the probe opened; the client stays open meanwhile. */
  async #dial(moving = false): Promise<void> {
    const id = ++this.#dialId;
    if (this.#redial.attempt === 0 && !moving) this.#setState('connecting', 'dialing');
    if (id !== this.#dialId) return; // a listener closed the client
    let transport: DialedTransport | undefined;
    let session: Session | undefined;
    try {
      const url = await this.#url();
      transport = await this.#dialer.open(url); // the probe's WebSocket when one is waiting
      if (id !== this.#dialId) return transport.close('superseded');
      session = this.#newSession(transport, id);
      if (this.#opts.auth) {
        this.#handshaking = transport;
        this.#authReply = await authenticate(session, await this.#opts.auth(), this.#timeout);
        if (id !== this.#dialId) return void session.close('superseded');
        this.#handshaking = undefined;
        session.start();
      }
      if (session.state !== 'open') throw codeError(Code.ConnClosed, 'closed during the handshake');
    } catch (err) {
      // Close first, superseded or not: a dial abandoned by close() must not leave its socket open.
      session?.abort(codeError(Code.DialFailed, 'dial failed').toStatus());
      transport?.close('dial failed');
      if (this.#handshaking === transport) this.#handshaking = undefined;
      if (id !== this.#dialId) return;
      return this.#dialFailed(DrpcError.from(err, Code.DialFailed));
    }
    this.#session = session;
    this.#redial.attempt = 0;
    if (this.#opts.heartbeat !== false) {
      this.#heartbeat = new HeartbeatPing(session, this.clock, this.#opts.heartbeat?.rate ?? 15, (why) => {
        if (id === this.#dialId) session.abort(codeError(Code.ConnClosed, why).toStatus(), why);
      });
    }
    this.#moving = false;
    this.#setState('open', moving ? 'moved to websocket' : `connected over ${this.#dialer.current}`);
    if (id !== this.#dialId) return; // a listener closed the client
    this.#subs.open(session); // before queued calls: resume topics first
    this.#queue.flush();
    this.#stopProbe = this.#dialer.upgrade?.(
      () => this.#url(),
      () => id === this.#dialId && this.#session === session,
      () => this.#moveTo(session),
    );
  }

  /**
   * A WebSocket the background probe opened while on HTTP waits for the next dial: the session moves
   * over to it, a quick reconnect in which durable calls and topics resume as after any drop, and
   * calls made meanwhile wait in the offline queue.
   */
  #moveTo(session: Session): void {
    this.#moving = true;
    void session.close('upgrading to websocket', { timeout: 2000 });
  }

  #newSession(transport: DialedTransport, id: number): Session {
    const o = this.#opts;
    const session = new Session(transport, {
      proto: this.#proto,
      codecs: o.codecs,
      codec: o.codec,
      router: this.router,
      plugins: o.plugins,
      serve: o.serve,
      clock: this.clock,
      timeout: o.timeout,
      maxPendingCalls: o.maxPendingCalls,
      seqs: this.#durables.seqs,
      preparing: !!o.auth,
      onError: (err) => console.warn(`[drpc] ${this.url}: ${err.detail}`),
    });
    session.on('close', (info) => {
      if (id !== this.#dialId || this.#session !== session) return;
      this.#session = undefined;
      this.#subs.closed(session);
      this.#heartbeat?.stop();
      this.#stopProbe?.();
      const details = transport.closeDetails;
      const status = info.status ?? (details ? closeToStatus(details.code, details.reason) : undefined);
      // A planned move (the probe's WebSocket is waiting): no 'reconnecting', calls wait in the queue.
      if (this.#dialer.waiting && this.#state.state === 'open') return void this.#dial(true);
      this.#lost(info.reason, status, details?.code === SERVICE_RESTART);
    });
    return session;
  }

  #dialFailed(err: DrpcError): void {
    this.#moving = false;
    const status = err.toStatus();
    if (err.code === Code.Unauthorized) return this.#giveUp(`auth rejected: ${err.causeText || err.message}`, status);
    this.#lost(`dial failed: ${err.causeText || err.message}`, status, false);
  }

  #lost(reason: string, status: Status | undefined, immediate: boolean): void {
    if (this.#state.state === 'closed') return;
    if (status?.code === Code.Unauthorized) return this.#giveUp(reason, status);
    // Scheduled before the state is told: a listener that closes the client cancels it.
    if (!this.#redial.schedule(immediate)) return this.#giveUp(`${reason}; not reconnecting`, status);
    this.#setState('reconnecting', reason, status);
  }

  #giveUp(reason: string, status?: Status): void {
    this.#setState('closed', reason, status, () => this.#teardown());
  }

  #stopRenew(): void {
    if (this.#renew !== undefined) this.clock.clearTimeout(this.#renew);
  }

  #teardown(): void {
    this.#dialId++;
    this.#stopRenew();
    this.#handshaking?.close('closed during the handshake');
    this.#handshaking = undefined;
    this.#heartbeat?.stop();
    this.#redial.cancel();
    this.#stopProbe?.();
    this.#stopProbe = undefined;
    this.#dialer.drop?.();
    this.#moving = false;
    this.#stopEnv?.();
    this.#stopEnv = undefined;
    this.#queue.rejectAll(this.#closedError());
  }

  #watchEnvironment(): void {
    this.#stopEnv ??= watchEnvironment(
      () => this.#wake(),
      // The open connection, or one still in its auth exchange.
      () => (this.#session?.transport ?? this.#handshaking)?.close('the page went into the back/forward cache'),
    );
  }

  /** The browser came back online, the tab became visible or the page came back: judge liveness, retry now. */
  #wake(): void {
    if (this.#state.state === 'open') return this.#heartbeat?.check();
    if (this.#state.state === 'reconnecting') this.#redial.now();
  }

  async #url(): Promise<string> {
    const q = this.#opts.query;
    const params = typeof q === 'function' ? await q() : q;
    const u = new URL(this.url, pageUrl());
    u.searchParams.set(HELLO_QUERY, this.#clientId); // asks for the endpoint's capabilities; a plain drpc peer ignores it
    for (const [k, v] of Object.entries(params ?? {})) u.searchParams.set(k, v);
    return u.toString();
  }

  #closedError(): DrpcError {
    const s = this.#state;
    return codeError(Code.ConnClosed, `client is ${s.state}: ${s.reason}`);
  }

  /** `before` runs once the state is set and before it is told (teardown: a listener may reconnect() at once). */
  #setState(state: ClientState, reason: string, status?: Status, before?: () => void): void {
    this.#state = { state, reason, status, attempt: state === 'reconnecting' ? this.#redial.attempt : 0 };
    before?.();
    const info = { ...this.#state };
    this.#events.emit('state', info);
    this.#events.emit(state, info);
  }
}
