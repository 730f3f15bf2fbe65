/**
 * HTTP transport (client side), for networks that block WebSocket: `fetch` (the `fetch` option, or the
 * global one), so it runs in browsers, Deno, Bun and Node. Frames go up in numbered POSTs
 * (http-posts.ts), so that the endpoint delivers them in order and a POST retried after a network
 * error is not delivered twice. Frames come down one streamed response in SSE framing, read through
 * `fetch` (headers can be set); each has an id, and a stream that ends (max age) or breaks is
 * reopened after the last id received, so nothing is lost or doubled. Wire: docs/protocol.md.
 */
import { systemClock, type Clock, type TimerHandle } from '../clock.ts';
import { statusToClose } from '../close-codes.ts';
import type { Frame } from '../proto/proto.ts';
import { Code, DrpcError, type Status, codeError } from '../status.ts';
import { utf8Decode } from '../utf8.ts';
import { fromBase64, splitBatch, SseParser, type SseEvent } from './sse.ts';
import { closedTransport, startListening, type Transport, type TransportHandlers } from './transport.ts';
import type { CloseDetails } from './websocket.ts';
import type { TransportOpener } from '../dialing.ts';
import { Dialer } from '../dialer.ts';
import { PostQueue } from './http-posts.ts';
import { refused, type FetchInit, type FetchLike, type FetchResponse } from './node-fetch.ts';

export interface HttpTransportOptions {
  /** fetch implementation. Default: the global one (in Node, `nodeFetch()` from drpc/node costs 4× less CPU per request). */
  fetch?: FetchLike;
  /** Give up opening after this many ms (fails with 105 Dial Failed). Default 10000. */
  connectTimeout?: number;
  /** A stream or POST that keeps failing is retried for this long, in ms, before the transport closes. Default 10000. */
  retryFor?: number;
  /** Headers on every request (e.g. Authorization). Default none. */
  headers?: Record<string, string>;
  clock?: Clock;
}

/**
 * The HTTP fallback for a client: `connect(url, { transports: ['websocket', http] })` dials HTTP when
 * WebSocket cannot open (the client's `fetch`, `headers` and `connectTimeout` options apply).
 */
export const http: TransportOpener = {
  name: 'http',
  // The dial options hold fetch, headers, connectTimeout and clock, and no retryFor (so its default).
  open: openHttp,
  dialing: (o) => new Dialer(o),
};

/** `ws(s)://…` as `http(s)://…`; http URLs as they are. */
export function httpUrlOf(url: string): string {
  return url.replace(/^ws(s?):/i, 'http$1:');
}

/** Opens an HTTP session at `url`; resolves once the endpoint's stream has said `open`. */
export async function openHttp(url: string, options: HttpTransportOptions = {}): Promise<HttpTransport> {
  const t = new HttpTransport(httpUrlOf(url), options);
  await t.open();
  return t;
}

export class HttpTransport implements Transport {
  // A getter, not a field: nothing per connection.
  get kind(): 'http' {
    return 'http';
  }

  readonly remoteAddress: string;
  /** How it closed: the endpoint's close event (code and reason, as a WebSocket close), once it has. */
  closeDetails?: CloseDetails;
  readonly #url: URL;
  readonly #fetch: FetchLike;
  readonly #clock: Clock;
  readonly #o: HttpTransportOptions;
  #handlers?: TransportHandlers;
  #early: Frame[] = [];
  #closed?: { reason: string }; // set once closed: as startListening takes it
  #sid = '';
  #ping = 10_000;
  #stream?: AbortController;
  #lastActivity = 0;
  #watchdog?: TimerHandle;
  #lastDown = 0; // id of the last frame received
  #ackSent = 0;
  #ackTimer?: TimerHandle;
  readonly #posts: PostQueue;
  #postUrl?: string; // built once: every POST goes to the same URL

  constructor(url: string, options: HttpTransportOptions) {
    this.#url = new URL(url);
    this.remoteAddress = url;
    this.#fetch = options.fetch ?? (globalThis.fetch.bind(globalThis) as FetchLike);
    this.#clock = options.clock ?? systemClock;
    this.#o = options;
    this.#posts = new PostQueue({
      closed: () => !!this.#closed,
      ready: () => this.#sid !== '',
      post: (first, body, text) => this.#postBody(first, body, text),
      failed: (reason, details) => this.#finish(reason, details),
      pause: (ms) => this.#pause(ms),
      now: () => this.#clock.now(),
      retryFor: options.retryFor ?? 10_000,
    });
  }

  get bufferedAmount(): number {
    return this.#posts.bufferedAmount;
  }

  /** The first stream: resolves on its `open` event (the session id), rejects with 105. */
  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const timeout = this.#o.connectTimeout ?? 10_000;
      const timer = this.#clock.setTimeout(() => {
        this.#finish(`http open timed out after ${timeout} ms`);
        reject(new DrpcError(Code.DialFailed, `cannot open ${this.remoteAddress}: no answer within ${timeout} ms`));
      }, timeout);
      this.#openStream(this.#url, () => (this.#clock.clearTimeout(timer), resolve())).catch((err: unknown) => {
        this.#clock.clearTimeout(timer);
        this.#finish('http open failed');
        // As a refused WebSocket handshake: a dial failure (105), whatever the endpoint's status said.
        const e = DrpcError.from(err, Code.DialFailed);
        reject(e.code === Code.DialFailed ? e : codeError(Code.DialFailed, e.detail));
      });
    });
  }

  listen(handlers: TransportHandlers): void {
    this.#handlers = handlers;
    const early = this.#early;
    this.#early = [];
    startListening(handlers, early, this.#closed);
  }

  send(frame: Frame): void {
    if (this.#closed) throw closedTransport('http session is closed');
    this.#posts.send(frame);
  }

  close(reason = 'closed', status?: Status): void {
    if (this.#closed) return;
    if (this.#sid) void this.#request(this.#sessionUrl(), { method: 'DELETE', keepalive: true }).catch(() => {});
    this.#finish(reason, status && status.code !== 0 ? statusToClose(status) : { code: 1000, reason });
  }

  // ---- down: the stream ---------------------------------------------------------------------

  async #openStream(url: URL, opened?: () => void): Promise<void> {
    const ctl = new AbortController();
    this.#stream = ctl;
    const res = await this.#request(url, { method: 'GET', signal: ctl.signal, headers: { accept: 'text/event-stream' } });
    if (!res.ok || !res.body) throw await refused(res, 'the http session stream');
    this.#touch();
    let recycled = false;
    const parser = new SseParser((e) => {
      if (e.event === 'recycle') recycled = true;
      else this.#event(e, opened);
    });
    const reader = res.body.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done || this.#stream !== ctl) break;
        this.#touch();
        if (value) parser.push(value);
      }
    } catch {
      // a broken stream: reopened below, like an ended one
    }
    if (this.#closed || this.#stream !== ctl) return;
    if (!this.#sid) throw new DrpcError(Code.DialFailed, 'the http session stream ended before it opened');
    void this.#reopen(recycled ? 0 : 100);
  }

  #event(e: SseEvent, opened?: () => void): void {
    switch (e.event) {
      case 'message':
        return this.#receive(Number(e.id), utf8Decode(e.data, 'an http session frame'));
      case 'b':
        return this.#receive(Number(e.id), fromBase64(e.data));
      case 'B':
        return this.#receiveBatch(Number(e.id), fromBase64(e.data));
      case 't':
        return this.#receive(Number(e.id), utf8Decode(fromBase64(e.data), 'an http session frame'));
      case 'open': {
        const info = JSON.parse(utf8Decode(e.data, 'the open event')) as { sid: string; ping?: number };
        this.#sid = info.sid;
        this.#ping = info.ping ?? this.#ping;
        if (this.#watchdog === undefined) this.#watch(); // one watchdog per transport
        return opened?.();
      }
      case 'close': {
        const d = JSON.parse(utf8Decode(e.data, 'the close event')) as CloseDetails;
        return this.#finish(`http session closed (${d.code}${d.reason ? ' ' + d.reason : ''})`, d);
      }
    }
  }

  #receive(n: number, frame: Frame): void {
    if (n <= this.#lastDown) return; // already delivered by an earlier stream
    this.#lastDown = n;
    if (this.#handlers) this.#handlers.receiveFrame(frame);
    else this.#early.push(frame);
    this.#scheduleAck();
  }

  /** Binary frames numbered up to `last`, each after its length (u32, big-endian): see batchEvent. */
  #receiveBatch(last: number, bytes: Uint8Array): void {
    const frames = splitBatch(bytes);
    if (!frames) return this.#finish('http session stream: a batch event is cut short');
    // #receive drops those a replayed batch delivered already.
    const first = last - frames.length + 1;
    for (let i = 0; i < frames.length; i++) this.#receive(first + i, frames[i]!);
  }

  /** Acknowledges soon: with the next POST if one goes out meanwhile, else with an empty one. */
  #scheduleAck(): void {
    // ms: an idle receiver still acknowledges soon, so the endpoint's outbox stays small. (Local:
    // esbuild inlines it, not a top-level constant of a file that imports.)
    const ACK_DELAY = 200;
    this.#ackTimer ??= this.#clock.setTimeout(() => {
      this.#ackTimer = undefined;
      if (this.#closed || this.#lastDown <= this.#ackSent) return;
      if (this.#posts.inflight === 0) this.#posts.sendEmpty();
      else this.#scheduleAck(); // the POSTs in flight carry an older ack: try again after them
    }, ACK_DELAY);
  }

  /** Opens the next stream after the last frame received, retrying for `retryFor` ms. */
  async #reopen(firstDelay: number): Promise<void> {
    const end = this.#clock.now() + (this.#o.retryFor ?? 10_000);
    let wait = firstDelay;
    while (!this.#closed) {
      if (wait) await this.#pause(wait);
      if (this.#closed) return;
      const url = this.#sessionUrl();
      url.searchParams.set('_drpc_ack', String(this.#lastDown));
      try {
        return await this.#openStream(url);
      } catch (err) {
        const e = DrpcError.from(err);
        if (e.code === Code.NotFound || this.#clock.now() > end) return this.#finish(`http stream lost: ${e.causeText || e.message}`);
      }
      wait = Math.min(Math.max(wait * 2, 100), 2000);
    }
  }

  #touch(): void {
    this.#lastActivity = this.#clock.now();
  }

  /** A stream silent for 2.5 pings is dead even if the socket says nothing: reopen it. Checked every ping. */
  #watch(): void {
    this.#watchdog = this.#clock.setTimeout(() => {
      if (this.#closed) return;
      if (this.#clock.now() - this.#lastActivity > this.#ping * 2.5 && this.#stream) {
        this.#stream.abort();
        this.#stream = undefined;
        void this.#reopen(0);
        this.#touch();
      }
      this.#watch();
    }, this.#ping);
  }

  // ---- up: POSTs (the queue is http-posts.ts) -------------------------------------------------

  #postBody(first: number, body: string | Uint8Array, text: boolean): Promise<FetchResponse> {
    this.#ackSent = this.#lastDown; // it only grows
    const headers = {
      'content-type': text ? 'application/vnd.drpc.json' : 'application/vnd.drpc.raw',
      'x-drpc-up': String(first),
      'x-drpc-ack': String(this.#lastDown),
    };
    return this.#request((this.#postUrl ??= this.#sessionUrl().href), { method: 'POST', headers, body: body as BodyInit });
  }

  // ---- shared -------------------------------------------------------------------------------

  /**
   * Waits before a retry. The system clock unrefs its timers; this one keeps a Node process alive,
   * as an open socket would (else a process awaiting a call could exit while its stream reopens).
   */
  #pause(ms: number): Promise<void> {
    return new Promise<void>((r) => (this.#clock.setTimeout(r, ms) as { ref?: () => void }).ref?.());
  }

  #sessionUrl(): URL {
    const u = new URL(this.#url);
    u.searchParams.delete('_drpc');
    u.searchParams.set('_drpc_s', this.#sid);
    return u;
  }

  #request(url: URL | string, init: FetchInit): Promise<FetchResponse> {
    const extra = this.#o.headers;
    if (extra) init.headers = { ...extra, ...init.headers };
    return this.#fetch(url, init);
  }

  #finish(reason: string, details?: CloseDetails): void {
    if (this.#closed) return;
    this.#closed = { reason };
    this.closeDetails = details;
    // Stale-callback guard: a stream or POST still running finds #closed and delivers nothing.
    this.#stream?.abort();
    this.#stream = undefined;
    if (this.#watchdog !== undefined) this.#clock.clearTimeout(this.#watchdog);
    if (this.#ackTimer !== undefined) this.#clock.clearTimeout(this.#ackTimer);
    this.#posts.clear();
    this.#handlers?.transportClosed(reason);
  }
}
