/**
 * A drpc session: one connection seen from one side. drpc is peer-to-peer, so both roles use this
 * same engine: either side calls, pushes, and serves routes. The session owns seq allocation, the
 * pending-call table, inbound dispatch and the close protocol.
 */
import { awaitAtMost, systemClock, type Clock } from './clock.ts';
import { codecs as defaultCodecs, type Codec, type CodecRegistry, ACCEPT_BODY_CODEC } from './codec/codec.ts';
import { afterDisconnect, writeWithHooks, type Plugin } from './hooks.ts';
import { createMessage, MType, mtypeName, nextSeq, NONE, type Message } from './message.ts';
import { PendingCalls, type PendingCall } from './pending.ts';
import { EarlyInbox } from './early-inbox.ts';
import type { RunningJobs } from './running.ts';
import { Listeners } from './listeners.ts';
import type { ClientReplies } from './reply-cache.ts';
import { CANCEL_META, CANCEL_METHOD, DEADLINE_META } from './extensions.ts';
import { FrameWriter, SENT, type FrameSink } from './frame-writer.ts';
import { FrameReader, type MessageSink } from './frame-reader.ts';
import type { Frame, Proto } from './proto/proto.ts';
import { rawProto } from './proto/raw.ts';
import { Router } from './router.ts';
import { servePushes, type Serve } from './inbound.ts';
import { checkNumbers } from './options.ts';
import { settleReply } from './reply.ts';
import { Code, DrpcError, type Status, codeError, badMessage, show } from './status.ts';
import type { SessionOptions, SessionOwner, CallOptions, PushOptions, Reply, SessionState, SessionEvents } from './session-types.ts';
import type { Transport, TransportHandlers } from './transport/transport.ts';
import type { Meta } from './wire-text.ts';

export type { SessionOptions, SessionOwner, CallOptions, PushOptions, Reply, SessionState, SessionEvents } from './session-types.ts';

type Limits = Required<Pick<SessionOptions, 'timeout' | 'maxPendingCalls' | 'maxConcurrentCalls' | 'closeTimeout'>>;
const DEFAULTS: Readonly<Limits> = Object.freeze({
  timeout: 30_000,
  maxPendingCalls: 65_536,
  maxConcurrentCalls: 1024,
  closeTimeout: 5000,
});
const LIMITS = Object.keys(DEFAULTS) as (keyof Limits)[];

/** The limits given, checked (a NaN or negative one is a 400 naming it, not a limit that never applies), over the defaults. */
function limits(o: SessionOptions): Limits {
  // Timeouts may be 0 (none); the call caps count calls, so whole numbers ≥ 1.
  checkNumbers(LIMITS.map((k) => [k, o[k], k.startsWith('max') ? 1 : 0, k.startsWith('max')]));
  return Object.fromEntries(LIMITS.map((k) => [k, o[k] ?? DEFAULTS[k]])) as Limits;
}

const ALLOWED = [false, true, true, true, false, false]; // CALL, REPLY, PUSH after the handshake

export class Session implements TransportHandlers, FrameSink, MessageSink {
  readonly router: Router;
  readonly proto: Proto;
  readonly codecs: CodecRegistry;
  readonly clock: Clock;
  readonly plugins: readonly Plugin[];
  #replyCache?: ClientReplies | (() => ClientReplies);
  #data?: Map<string, unknown>;
  /** Listeners by event, made on first `on()` (an idle server session should stay small). */
  #listeners?: Listeners<SessionEvents>;
  readonly #transport: Transport;
  readonly #owner?: SessionOwner;
  // Made on first use (an idle server session never calls, writes or reads).
  #pendingCalls?: PendingCalls;
  #frameWriter?: FrameWriter;
  #frameReader?: FrameReader;
  readonly #opts: Readonly<Limits>;
  readonly #onError: (err: DrpcError, session: Session) => void;
  readonly #codec: Codec;
  #closed?: Promise<void>;
  #resolveClosed?: () => void;
  #id: string;
  #state: SessionState;
  #seq = 0;
  readonly #seqs?: { next(): number };
  /** Handshake-only: made on first use (idle sessions should stay small). */
  #inbox?: EarlyInbox;
  readonly #held?: boolean;
  readonly #serve: Serve;
  /** Inbound handlers running now: made by serveCalls on first use (internal). */
  running?: RunningJobs;
  #closeStatus?: Status;
  #lastReceived: number;

  constructor(transport: Transport, options: SessionOptions = {}) {
    this.#transport = transport;
    this.#owner = options.owner;
    this.router = options.router ?? new Router();
    this.proto = options.proto ?? rawProto();
    this.codecs = options.codecs ?? defaultCodecs;
    this.clock = options.clock ?? systemClock;
    this.plugins = options.plugins ?? NONE;
    this.#replyCache = options.replyCache;
    this.#serve = options.serve ?? servePushes;
    this.#seqs = options.seqs;
    this.#codec = this.codecs.require(options.codec ?? 'json');
    // DEFAULTS is shared: most sessions take the defaults, and an idle session should stay small.
    this.#opts = LIMITS.some((k) => options[k] !== undefined) ? limits(options) : DEFAULTS;
    this.#onError = options.onError ?? ((err) => console.warn(`[drpc] session ${this.#id}: ${err.message}`));
    this.#id = options.id ?? transport.remoteAddress;
    this.#state = options.preparing ? 'preparing' : 'open';
    this.#lastReceived = this.clock.now();
    // the session is its transport's handler: no closures per connection
    if (!(this.#held = options.held)) transport.listen(this);
  }

  get #pending(): PendingCalls {
    return (this.#pendingCalls ??= new PendingCalls(this.clock));
  }

  get id(): string {
    return this.#id;
  }

  /** drpc's SetID: renames the session (its hub re-keys). */
  setId(id: string): void {
    const prev = this.#id;
    if (id === prev) return;
    this.#id = id;
    this.#owner?.sessionRenamed(this, id, prev);
    this.#listeners?.emit('id', id, prev);
  }

  /** This client's replies of calls with an identity, shared by its connections (see reply-cache.ts); taken on first use. */
  get replyCache(): ClientReplies | undefined {
    const r = this.#replyCache;
    return typeof r === 'function' ? (this.#replyCache = r()) : r;
  }

  /** The reply cache if the session has taken it (to give it back), without taking it. */
  get replyCacheTaken(): ClientReplies | undefined {
    const r = this.#replyCache;
    return typeof r === 'function' ? undefined : r;
  }

  get state(): SessionState {
    return this.#state;
  }

  /** The transport this session runs on. */
  get transport(): Transport {
    return this.#transport;
  }

  get remoteAddress(): string {
    return this.#transport.remoteAddress;
  }

  /** Wall-clock time (clock.now()) of the last frame received, or of the session's start. */
  get lastReceived(): number {
    return this.#lastReceived;
  }

  /** How many inbound CALL and PUSH handlers are running now. */
  get runningHandlers(): number {
    return this.running?.size ?? 0;
  }

  /** Outbound calls waiting for a reply. */
  get pendingCalls(): number {
    return this.#pendingCalls?.size ?? 0;
  }

  /** Resolves once the session is closed (either side, any reason). */
  get closed(): Promise<void> {
    // Made on first use: an idle server session should cost as little memory as possible.
    return (this.#closed ??= this.#state === 'closed' ? Promise.resolve() : new Promise((r) => (this.#resolveClosed = r)));
  }

  /** Per-session user data (drpc's Swap): bind the user, auth info, … */
  get data(): Map<string, unknown> {
    return (this.#data ??= new Map());
  }

  on<E extends keyof SessionEvents>(event: E, cb: SessionEvents[E]): () => void {
    return (this.#listeners ??= new Listeners<SessionEvents>()).on(event, cb);
  }

  /** Calls `serviceMethod` and resolves with the decoded reply body; rejects with a DrpcError. */
  call<T = unknown>(serviceMethod: string, body?: unknown, options: CallOptions = {}): Promise<T> {
    return this.#call<T, T>(serviceMethod, body, options, true);
  }

  /** Like `call`, resolving with the whole reply (value, meta, codec, status). */
  callReply<T = unknown>(serviceMethod: string, body?: unknown, options: CallOptions = {}): Promise<Reply<T>> {
    return this.#call<T, Reply<T>>(serviceMethod, body, options, false);
  }

  #call<T, R>(serviceMethod: string, body: unknown, options: CallOptions, valueOnly: boolean): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const m = this.#refuseWrite() ?? this.#refuseCall(options) ?? this.#outbound(MType.Call, serviceMethod, body, options);
      if (m instanceof DrpcError) return reject(m);
      const seq = m.seq;
      const pending: PendingCall = {
        serviceMethod,
        resolve: (reply) => settleReply<T>(this, reply, valueOnly, resolve as (r: T | Reply<T>) => void, reject),
        reject,
      };
      const signal = options.signal;
      if (signal) {
        pending.signal = signal;
        pending.onAbort = () => {
          this.#pending.reject(seq, new DrpcError(Code.Canceled, `call ${serviceMethod} was canceled`, signal.reason));
          // Tell the peer, so its handler's signal fires too (a peer without the extension drops it).
          if (this.#state === 'open') this.push(CANCEL_METHOD, undefined, { meta: { [CANCEL_META]: String(seq) } }).catch(() => {});
        };
        signal.addEventListener('abort', pending.onAbort, { once: true });
      }
      this.#pending.add(seq, pending, options.timeout ?? this.#opts.timeout);
      const written = this.plugins.length ? writeWithHooks(this, m, 'beforeWriteCall', 'afterWriteCall', body) : this.writeNow(m);
      written?.catch((err) => this.#pending.reject(seq, DrpcError.from(err)));
    });
  }

  /** Sends a PUSH (one-way). Resolves once written; rejects with 102 if the session is closed. */
  push(serviceMethod: string, body?: unknown, options: PushOptions = {}): Promise<void> {
    const m = this.#refuseWrite() ?? this.#outbound(MType.Push, serviceMethod, body, options);
    if (m instanceof DrpcError) return Promise.reject(m);
    if (!this.plugins.length) return this.writeNow(m) ?? SENT;
    return writeWithHooks(this, m, 'beforeWritePush', 'afterWritePush', body).catch((err) => Promise.reject(DrpcError.from(err)));
  }

  // ---- handshake (drpc's EarlySession) -------------------------------------------------------

  /** Sends one message as-is during the handshake (seq is assigned when 0 and the type is not a REPLY). */
  earlySend(fields: Partial<Message> & Pick<Message, 'mtype'>, body?: unknown): Promise<void> {
    const m = createMessage(fields);
    if (body !== undefined && !fields.body) {
      m.bodyCodec = fields.bodyCodec || this.#codec.id;
      m.body = body instanceof Uint8Array ? body : this.codecs.require(m.bodyCodec).encode(body);
    }
    if (!m.seq && m.mtype !== MType.Reply) m.seq = this.#nextSeq(); // AUTH_REPLY takes its own seq, as drpc
    return this.writeMessage(m);
  }

  /** Receives the next message during the handshake (with its raw body), or rejects after `timeout` ms. */
  earlyReceive(timeout = this.#opts.timeout): Promise<Message> {
    if (this.#state === 'closed') return Promise.reject(this.#closedError());
    return (this.#inbox ??= new EarlyInbox(this.clock)).receive(timeout);
  }

  /** Decodes a message body with this session's codecs (400 on an unknown codec or bad body). */
  decodeBody(m: Message): unknown {
    if (m.body.length === 0) return undefined;
    return this.codecs.require(m.bodyCodec).decode(m.body);
  }

  /**
   * Ends the handshake: from now on only CALL, REPLY and PUSH are allowed. `ready` runs first (the
   * session can send; an endpoint makes it known); then what the peer sent after its last handshake
   * message (a PUSH or CALL right behind the AUTH_REPLY) is served, in order, and a held transport is read.
   */
  start(ready?: () => void): void {
    if (this.#state !== 'preparing') return;
    this.#state = 'open';
    ready?.();
    for (const m of this.#inbox?.drain() ?? []) this.receiveMessage(m);
    if (this.#held) this.#transport.listen(this);
  }

  // ---- close --------------------------------------------------------------------------------

  /**
   * Active close: refuses new calls, waits (up to `closeTimeout`) for running handlers and pending
   * calls, then closes the transport. Pending calls still waiting settle with 102.
   */
  async close(reason = 'closed by this side', options: { timeout?: number } = {}): Promise<void> {
    if (this.#state === 'closed' || this.#state === 'closing') return this.closed;
    this.#state = 'closing';
    const timeout = options.timeout ?? this.#opts.closeTimeout;
    if (timeout > 0 && (this.runningHandlers || this.pendingCalls))
      await awaitAtMost(this.clock, Promise.race([Promise.all([this.running?.idle(), this.#pending.drained()]), this.closed]), timeout);
    this.#transport.close(reason);
    return this.closed;
  }

  /** Closes at once because of a status (e.g. 405 or a bad frame); nothing is sent to the peer. */
  abort(status: Status, reason = `${status.code} ${status.msg}`): void {
    if (this.#state === 'closed') return;
    this.#closeStatus ??= status;
    this.#state = 'closing';
    this.#transport.close(reason, status);
  }

  // ---- internals ----------------------------------------------------------------------------

  #nextSeq(): number {
    const shared = this.#seqs;
    do this.#seq = shared ? shared.next() : nextSeq(this.#seq);
    while (this.#pending.has(this.#seq));
    return this.#seq;
  }

  #refuseWrite(): DrpcError | undefined {
    if (this.#state === 'open') return undefined;
    if (this.#state === 'preparing') return new DrpcError(Code.InvalidOp, 'session is still in its handshake');
    return this.#closedError();
  }

  #refuseCall(o: CallOptions): DrpcError | undefined {
    if (o.timeout !== undefined && !(o.timeout >= 0))
      return badMessage(`timeout must be a number of ms ≥ 0 (0 or Infinity: none), got ${o.timeout}`);
    if (this.#pending.size >= this.#opts.maxPendingCalls)
      return new DrpcError(Code.WriteFailed, `too many pending calls (limit ${this.#opts.maxPendingCalls})`);
    if (o.signal?.aborted) return new DrpcError(Code.Canceled, 'call was canceled before it was sent', o.signal.reason);
    return undefined;
  }

  #closedError(): DrpcError {
    return codeError(Code.ConnClosed, `session ${this.#id} is ${this.#state}`);
  }

  #outbound(mtype: number, serviceMethod: string, body: unknown, o: CallOptions): Message | DrpcError {
    if (typeof serviceMethod !== 'string' || serviceMethod === '')
      return badMessage(`service method must be a non-empty string, got ${show(serviceMethod)}`);
    try {
      const codec = o.codec === undefined ? this.#codec : this.codecs.require(o.codec);
      const meta: Meta = o.meta ? { ...o.meta } : {};
      // A deadline the caller chose travels with the call, so the handler can stop when it passes.
      if (mtype === MType.Call && o.timeout !== undefined && o.timeout > 0 && o.timeout < Infinity && o.sendDeadline !== false)
        meta[DEADLINE_META] = String(Math.ceil(o.timeout));
      if (o.acceptCodec !== undefined) meta[ACCEPT_BODY_CODEC] = String(this.codecs.require(o.acceptCodec).id);
      const bytes = body instanceof Uint8Array ? body : codec.encode(body);
      const seq = o.seq !== undefined && !this.#pending.has(o.seq) ? o.seq : this.#nextSeq();
      return createMessage({ seq, mtype, serviceMethod, meta, bodyCodec: codec.id, body: bytes, pipe: o.pipe });
    } catch (err) {
      return DrpcError.from(err, Code.BadMessage);
    }
  }

  /** Packs and sends, keeping send order even when a filter packs asynchronously. */
  writeMessage(m: Message): Promise<void> {
    return (this.#frameWriter ??= new FrameWriter(this.proto, this)).write(m);
  }

  /** Like writeMessage, but undefined when the frame went out synchronously (no promise on the hot path). */
  writeNow(m: Message): Promise<void> | undefined {
    return (this.#frameWriter ??= new FrameWriter(this.proto, this)).writeNow(m);
  }

  /** Sends an already packed frame in order with other writes (broadcast packs once for many sessions). */
  writeFrame(frame: Frame): Promise<void> | undefined {
    // No writer yet means nothing is being packed: the frame goes straight out, and a session that
    // only ever receives shared frames (a greeting, broadcasts) never allocates one.
    if (this.#frameWriter) return this.#frameWriter.writeFrame(frame);
    const err = this.sendFrame(frame);
    return err && Promise.reject(err);
  }

  /** FrameSink for the writer: sends one frame on the transport (internal). */
  sendFrame(frame: Frame): DrpcError | undefined {
    if (this.#state === 'closed') return this.#closedError();
    try {
      this.#transport.send(frame);
      return undefined;
    } catch (err) {
      // A transport that is closing says so with 102: the connection is lost, not the write.
      return err instanceof DrpcError && err.code === Code.ConnClosed ? err : codeError(Code.WriteFailed, err);
    }
  }

  /** TransportHandlers (internal): one frame arrived. */
  receiveFrame(frame: Frame): void {
    if (!this.reading) return; // abort() ended reading, as drpc's read loop ends
    this.#lastReceived = this.clock.now();
    (this.#frameReader ??= new FrameReader(this.proto, this)).read(frame);
  }

  /** MessageSink for the reader (internal): false once the session closed or was aborted. */
  get reading(): boolean {
    return this.#state !== 'closed' && !this.#closeStatus;
  }

  /** MessageSink for the reader (internal): a frame that could not be unpacked closes the session. */
  receiveBadFrame(err: unknown): void {
    const e = DrpcError.from(err, Code.BadMessage);
    this.#fail(e, `bad frame: ${e.message}`);
  }

  /** Reports why the session ends, then aborts it. */
  #fail(err: DrpcError, reason?: string, status: Status = err.toStatus()): void {
    this.#onError(err, this);
    this.abort(status, reason);
  }

  /** MessageSink for the reader (internal): routes one inbound message. */
  receiveMessage(m: Message): void {
    if (this.#state === 'closed' || this.#closeStatus) return;
    if (this.#state === 'preparing') {
      if (!(this.#inbox ??= new EarlyInbox(this.clock)).push(m))
        this.abort(codeError(Code.BadMessage, 'more than 64 messages during the handshake').toStatus());
      return;
    }
    if (!ALLOWED[m.mtype]) {
      // A peer that requires auth answers our first CALL with a failed AUTH_REPLY: that is its verdict.
      const s = m.status;
      if (m.mtype === MType.AuthReply && s.code !== 0)
        return this.#fail(DrpcError.fromStatus(s), `refused by the peer's auth: ${s.cause || s.msg}`, s);
      return this.#fail(codeError(Code.MTypeNotAllowed, `got ${mtypeName(m.mtype)} (${m.mtype}) after the handshake`));
    }
    // A REPLY for an unknown seq is ignored, as drpc does.
    if (m.mtype === MType.Reply) this.#pendingCalls?.take(m.seq)?.resolve(m);
    else this.#serve(this, m);
  }

  /** Most inbound CALLs handled at once (for serveCalls). */
  get maxConcurrentCalls(): number {
    return this.#opts.maxConcurrentCalls;
  }

  /** Reports an error nobody awaits (for serve.ts). */
  reportError(err: DrpcError): void {
    this.#onError(err, this);
  }

  /** The session's outbound codec. */
  get codec(): Codec {
    return this.#codec;
  }

  /** TransportHandlers (internal): the transport is gone. */
  transportClosed(reason: string, error?: unknown): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    const err = codeError(Code.ConnClosed, error ?? reason);
    this.#pendingCalls?.rejectAll(err);
    this.#inbox?.close(err);
    this.running?.abortAll(err);
    const info = { reason, status: this.#closeStatus };
    this.#owner?.sessionClosed(this, info);
    this.#listeners?.emit('close', info);
    this.#resolveClosed?.();
    afterDisconnect(this, reason);
  }
}
