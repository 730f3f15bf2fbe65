/**
 * WebSocket transport (client side): one drpc message per WebSocket message, binary frames for RAW,
 * text frames for the JSON sub-protocol. Uses the global WebSocket where it exists (browsers, Deno,
 * Bun, Node ≥ 22) and the `ws` package on Node 20. No subprotocol header is sent: drpc
 * servers reject two and need none.
 */
import type { Frame } from '../proto/proto.ts';
import { badMessage, Code, DrpcError, type Status } from '../status.ts';
import { statusToClose } from '../close-codes.ts';
import { batchWrite, corkableOf, type Corkable, type WriteBatch } from './cork.ts';
import type { Transport, TransportHandlers } from './transport.ts';
import { closedTransport, startListening } from './transport.ts';
import { concatBytes } from '../alloc.ts';
import { utf8Encode } from '../utf8.ts';
import { systemClock } from '../clock.ts';

/** The part of the WebSocket API we use (browser and `ws` both have it). */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  readonly bufferedAmount: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: Uint8Array | string): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

export interface WebSocketTransportOptions {
  /** WebSocket implementation. Default: the global one, else `ws` (Node 20). */
  WebSocket?: WebSocketConstructor;
  /** Give up opening after this many ms (fails with 105 Dial Failed). Default 10000. */
  connectTimeout?: number;
}

const OPEN = 1;

/** Details of how a WebSocket closed: the close code and reason, which may carry a drpc status. */
export interface CloseDetails {
  code: number;
  reason: string;
}

/**
 * The global WebSocket (browsers, Deno, Bun, Node ≥ 22), else the `ws` package (Node 20), loaded only
 * then: where a global exists `ws` is never loaded (Deno would ask for env access). The specifier is
 * a variable so that no bundler puts `ws`, or a shim for it, into a browser bundle.
 */
export async function defaultWebSocket(): Promise<WebSocketConstructor> {
  const g = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (g) return g;
  const mod = (await import(/* webpackIgnore: true */ /* @vite-ignore */ NODE_WS)) as { default: unknown };
  return mod.default as WebSocketConstructor;
}

const NODE_WS = 'ws';

/** Opens a WebSocket to `url`; resolves with a transport once open, rejects with 105 Dial Failed. */
export async function openWebSocket(url: string, options: WebSocketTransportOptions = {}): Promise<WebSocketTransport> {
  const Ctor = options.WebSocket ?? (await defaultWebSocket());
  const dialFailed = (cause: unknown) => new DrpcError(Code.DialFailed, `cannot open ${url}`, cause);
  return new Promise((resolve, reject) => {
    let ws: WebSocketLike;
    try {
      ws = new Ctor(url.replace(/^http/, 'ws')); // http(s) URLs are the same address (older browsers take ws(s) only)
    } catch (err) {
      return reject(dialFailed(err));
    }
    const fail = (why: string) => {
      systemClock.clearTimeout(timer);
      detach(ws);
      try {
        ws.close();
      } catch {
        // already closing
      }
      reject(dialFailed(why));
    };
    const ms = options.connectTimeout ?? 10_000;
    const timer = systemClock.setTimeout(() => fail(`no answer within ${ms} ms`), ms);
    if (ws.binaryType !== 'nodebuffer') ws.binaryType = 'arraybuffer'; // `ws` hands Buffers (already Uint8Arrays)
    ws.onerror = (ev) => fail(errorText(ev));
    ws.onclose = (ev) => fail(`closed during the handshake ${closeText(ev)}`);
    ws.onopen = () => {
      systemClock.clearTimeout(timer);
      resolve(new WebSocketTransport(ws, url));
    };
  });
}

function ignore(): void {}

/** Stale-callback guard: nothing more from this socket reaches anyone. */
function detach(ws: WebSocketLike): void {
  ws.onopen = ws.onmessage = ws.onclose = null;
  ws.onerror = ignore; // `ws` emits 'error' when a connecting or closing socket fails; unheard, that would throw
}

function errorText(ev: unknown): string {
  const e = ev as { message?: string; error?: { message?: string } };
  return e?.error?.message ?? e?.message ?? 'connection failed';
}

/** "(code reason)" of a close event, for messages. */
function closeText(ev: CloseDetails): string {
  return `(${ev.code}${ev.reason ? ' ' + ev.reason : ''})`;
}

export class WebSocketTransport implements Transport, WriteBatch {
  // A getter, not a field: nothing per connection.
  get kind(): 'websocket' {
    return 'websocket';
  }

  #handlers?: TransportHandlers;
  #early: Frame[] = [];
  /** Set once done (closed either way): the reason, as listen() reports it to late listeners. */
  #closed?: { reason: string };
  /** Write coalescing state (see cork.ts). */
  corkable?: Corkable;
  batchState = 0;
  /** How the socket closed, once it has. */
  closeDetails?: CloseDetails;

  constructor(
    private readonly ws: WebSocketLike,
    readonly remoteAddress: string,
  ) {
    this.corkable = corkableOf(ws);
    ws.onmessage = (ev) => {
      const frame = toFrame(ev.data);
      if (this.#handlers) this.#handlers.receiveFrame(frame);
      else this.#early.push(frame);
    };
    ws.onclose = (ev) => this.#finish(`websocket closed ${closeText(ev)}`, { code: ev.code, reason: ev.reason });
    ws.onerror = (ev) => this.#finish(`websocket error: ${errorText(ev)}`);
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  listen(handlers: TransportHandlers): void {
    this.#handlers = handlers;
    const early = this.#early;
    this.#early = [];
    startListening(handlers, early, this.#closed);
  }

  send(frame: Frame): void {
    if (this.#closed || this.ws.readyState !== OPEN) throw closedTransport('websocket is not open');
    batchWrite(this);
    this.ws.send(frame);
  }

  close(reason = 'closed', status?: Status): void {
    if (this.#closed) return;
    const code = status && status.code !== 0 ? statusToClose(status).code : 1000;
    try {
      this.ws.close(code, clipReason(reason));
    } catch {
      // already closed
    }
    this.#finish(reason, { code, reason });
  }

  #finish(reason: string, details?: CloseDetails): void {
    if (this.#closed) return;
    this.#closed = { reason };
    this.closeDetails = details;
    detach(this.ws);
    this.#handlers?.transportClosed(reason);
  }
}

function toFrame(data: unknown): Frame {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (data instanceof Uint8Array) return data; // Node's `ws` hands Buffers: no view of our own per message
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (Array.isArray(data)) return concatBytes(data as Uint8Array[]); // ws 'fragments' binaryType
  throw badMessage(`unexpected websocket message type ${Object.prototype.toString.call(data)}`);
}

/** RFC 6455 caps a close reason at 123 bytes. */
export function clipReason(reason: string): string {
  const bytes = utf8Encode(reason);
  if (bytes.length <= 123) return reason;
  return new TextDecoder().decode(bytes.subarray(0, 120)).replace(/\uFFFD$/, '') + '...';
}
