/**
 * The endpoint's side of a session carried over HTTP (the fallback when WebSocket is blocked):
 * frames come up in POST bodies and go down one long-lived streamed response (SSE framing). The
 * stream is replaced after a maximum age, and may break; frames sent down stay in an outbox until
 * the client acknowledges them, and a new stream starts after the last one the client has, so none
 * is lost or doubled. Frames sent up are numbered, so a POST retried after a network error does not
 * deliver twice. Wire details: docs/protocol.md, "HTTP fallback".
 */
import type { Clock, TimerHandle } from '../../src/clock.ts';
import { statusToClose } from '../../src/close-codes.ts';
import type { Frame } from '../../src/proto/proto.ts';
import type { Status } from '../../src/status.ts';
import { closedTransport, startListening, type Transport, type TransportHandlers } from '../../src/transport/transport.ts';

/** What a stream is written to: the GET's response, or one relayed to the node that holds it (http-remote.ts). */
export interface StreamSink {
  write(text: string): unknown;
  end(text?: string): unknown;
  on(event: 'close', cb: () => void): unknown;
}

export interface HttpStreamOptions {
  /** A comment line on the stream this often, in ms, so proxies and the client see it alive. */
  pingMs: number;
  /** The stream is ended (the client opens the next one at once) after this many ms. */
  maxAgeMs: number;
  /** How long the session waits for the next stream after one ended or broke, in ms. */
  graceMs: number;
}

/** POST bodies that may wait for an earlier one (our client sends at most 4 at once). */
const MAX_AHEAD = 16;

interface Outgoing {
  id: number;
  event: string;
}

export class NodeHttpTransport implements Transport {
  // A getter, not a field: nothing per connection.
  get kind(): 'http' {
    return 'http';
  }

  #handlers?: TransportHandlers;
  #early?: Frame[];
  #untilListening?: Promise<void>;
  #listening?: () => void;
  #done = false;
  #reason = '';
  #stream?: StreamSink;
  #held?: Frame[]; // frames sent while a POST body is delivered, written together after it
  #heldBytes = 0;
  #pingTimer?: TimerHandle;
  #ageTimer?: TimerHandle;
  #graceTimer?: TimerHandle;
  #outbox: Outgoing[] = []; // sent down, not yet acknowledged; ascending ids from #head
  #head = 0;
  #outboxBytes = 0;
  #nextId = 1;
  #upNext = 1; // number of the next frame expected from the client
  readonly #ahead = new Map<number, Frame[]>(); // POST bodies that arrived before an earlier one, by first number
  /** Close code when the session closes without a status (1012 while the endpoint drains). */
  closeCode = 1000;

  constructor(
    readonly sid: string,
    readonly remoteAddress: string,
    private readonly clock: Clock,
    private readonly opts: HttpStreamOptions,
  ) {}

  /** Frames sent down and not yet acknowledged (what a slow consumer holds). */
  get bufferedAmount(): number {
    return this.#outboxBytes;
  }

  get closed(): boolean {
    return this.#done;
  }

  listen(handlers: TransportHandlers): void {
    this.#handlers = handlers;
    const early = this.#early;
    this.#early = undefined;
    startListening(handlers, early, this.#done ? { reason: this.#reason } : undefined);
    this.#listening?.();
  }

  /**
   * Resolves once the session listens or the transport closed; undefined when it already did. A POST
   * waits for it before reading its body, so frames sent before the session opened wait in the
   * client (HTTP flow control), as on a WebSocket (EARLY_FRAMES), instead of filling memory.
   */
  untilListening(): Promise<void> | undefined {
    if (this.#handlers || this.#done) return undefined;
    this.#untilListening ??= new Promise<void>((resolve) => (this.#listening = resolve));
    return this.#untilListening;
  }

  /** A (new) stream for this session: everything after `acked` goes down it, then what comes next. */
  attachStream(res: StreamSink, acked: number, first?: string): void {
    if (this.#done) return void res.end();
    this.ack(acked);
    this.#endStream('event: recycle\ndata: replaced\n\n');
    this.#stream = res;
    if (this.#graceTimer !== undefined) this.clock.clearTimeout(this.#graceTimer);
    this.#graceTimer = undefined;
    res.on('close', () => {
      if (this.#stream !== res) return; // stale-callback guard: a replaced stream's close says nothing
      this.#stream = undefined;
      this.#stopStreamTimers();
      this.#awaitStream();
    });
    let text = first ?? '';
    for (let i = this.#head; i < this.#outbox.length; i++) text += this.#outbox[i]!.event;
    res.write(text);
    this.#pingTimer = this.clock.setTimeout(() => this.#ping(), this.opts.pingMs);
    this.#ageTimer = this.clock.setTimeout(() => this.#endStream('event: recycle\ndata: max age\n\n'), this.opts.maxAgeMs);
  }

  /** The client has every frame up to id `n`: drop them from the outbox. */
  ack(n: number): void {
    const box = this.#outbox;
    let head = this.#head;
    while (head < box.length && box[head]!.id <= n) this.#outboxBytes -= box[head++]!.event.length;
    if (head > 64 && head * 2 > box.length) {
      this.#outbox = box.slice(head);
      head = 0;
    }
    this.#head = head;
  }

  /**
   * Frames from a POST body, the first numbered `first`, delivered in number order: the ones already
   * delivered (a retried POST) are skipped; a body that arrives before an earlier one (POSTs run side
   * by side) waits for it. Returns false when too many bodies wait (frames were lost before them).
   */
  receive(first: number, frames: Frame[]): boolean {
    // The replies sent while a body is delivered go down together: one write, and binary frames in
    // one batch event (one base64 and one event to parse for the lot, not one each).
    if (this.#held !== undefined) return this.#receive(first, frames);
    this.#held = [];
    try {
      return this.#receive(first, frames);
    } finally {
      const text = this.#releaseHeld();
      this.#held = undefined;
      if (text) this.#stream?.write(text);
    }
  }

  /** The held frames as events, into the outbox (one entry: replayed whole, the client skips what it has). */
  #releaseHeld(): string {
    const held = this.#held;
    if (!held?.length) return '';
    this.#held = [];
    const last = this.#nextId - 1;
    const event =
      held.length > 1 && held.every((f) => typeof f !== 'string')
        ? batchEvent(last, held as Uint8Array[])
        : held.map((f, i) => frameEvent(last - held.length + 1 + i, f)).join('');
    this.#outboxBytes += event.length - this.#heldBytes;
    this.#heldBytes = 0;
    this.#outbox.push({ id: last, event });
    return event;
  }

  #receive(first: number, frames: Frame[]): boolean {
    if (first > this.#upNext) {
      // An empty body (a POST that only acknowledges) has nothing to wait with, and must not replace
      // the body that waits under the same number; nor must a shorter copy of it.
      if ((this.#ahead.get(first)?.length ?? 0) >= frames.length) return true;
      if (this.#ahead.size >= MAX_AHEAD) return false;
      this.#ahead.set(first, frames);
      return true;
    }
    this.#deliver(first, frames);
    for (let next = this.#ahead.get(this.#upNext); next; next = this.#ahead.get(this.#upNext)) {
      const at = this.#upNext;
      this.#ahead.delete(at);
      this.#deliver(at, next);
    }
    return true;
  }

  #deliver(first: number, frames: Frame[]): void {
    for (let i = this.#upNext - first; i < frames.length; i++) {
      this.#upNext++;
      if (this.#done) return;
      if (this.#handlers) this.#handlers.receiveFrame(frames[i]!);
      else (this.#early ??= []).push(frames[i]!);
    }
  }

  send(frame: Frame): void {
    if (this.#done) throw closedTransport('http session is closed');
    const id = this.#nextId++;
    if (this.#held !== undefined) {
      this.#held.push(frame);
      const n = typeof frame === 'string' ? frame.length : frame.byteLength;
      this.#heldBytes += n;
      this.#outboxBytes += n; // counted now, so a slow consumer shows while its replies are made
      return;
    }
    const event = frameEvent(id, frame);
    this.#outbox.push({ id, event });
    this.#outboxBytes += event.length;
    this.#stream?.write(event);
  }

  close(reason = 'closed', status?: Status): void {
    if (this.#done) return;
    const { code, reason: text } = status && status.code !== 0 ? statusToClose(status) : { code: this.closeCode, reason };
    this.#endStream(`event: close\ndata: ${JSON.stringify({ code, reason: text })}\n\n`);
    this.#finish(reason);
  }

  /** The client said goodbye (DELETE), or the session expired without a stream. */
  #finish(reason: string): void {
    if (this.#done) return;
    this.#done = true;
    this.#reason = reason;
    this.#stopStreamTimers();
    if (this.#graceTimer !== undefined) this.clock.clearTimeout(this.#graceTimer);
    this.#outbox = [];
    this.#outboxBytes = 0;
    this.#handlers?.transportClosed(reason);
    this.#listening?.();
  }

  /** The client ended the session (DELETE). */
  ended(reason: string): void {
    this.#endStream('');
    this.#finish(reason);
  }

  #ping(): void {
    this.#stream?.write(': ping\n\n');
    this.#pingTimer = this.clock.setTimeout(() => this.#ping(), this.opts.pingMs);
  }

  #endStream(last: string): void {
    const res = this.#stream;
    if (!res) return;
    last = this.#releaseHeld() + last; // frames sent before the end go first
    this.#stream = undefined;
    this.#stopStreamTimers();
    res.end(last);
    if (!this.#done) this.#awaitStream();
  }

  #awaitStream(): void {
    if (this.#done || this.#graceTimer !== undefined) return;
    this.#graceTimer = this.clock.setTimeout(() => {
      this.#graceTimer = undefined;
      if (!this.#stream) this.#finish(`http stream not resumed within ${this.opts.graceMs} ms`);
    }, this.opts.graceMs);
  }

  #stopStreamTimers(): void {
    if (this.#pingTimer !== undefined) this.clock.clearTimeout(this.#pingTimer);
    if (this.#ageTimer !== undefined) this.clock.clearTimeout(this.#ageTimer);
    this.#pingTimer = this.#ageTimer = undefined;
  }
}

/**
 * Binary frames with consecutive ids ending at `last`, as one event: each frame prefixed by its
 * length (u32, big-endian), the whole in base64. The client numbers them back from `last`.
 */
export function batchEvent(last: number, frames: Uint8Array[]): string {
  let size = 0;
  for (const f of frames) size += 4 + f.byteLength;
  const buf = Buffer.allocUnsafe(size);
  let at = 0;
  for (const f of frames) {
    buf.writeUInt32BE(f.byteLength, at);
    buf.set(f, at + 4);
    at += 4 + f.byteLength;
  }
  return `event: B\nid: ${last}\ndata: ${buf.toString('base64')}\n\n`;
}

/** One frame as an SSE event: text as is (one data line), binary (or text with line breaks) as base64. */
export function frameEvent(id: number, frame: Frame): string {
  if (typeof frame === 'string') {
    if (!/[\r\n]/.test(frame)) return `id: ${id}\ndata: ${frame}\n\n`;
    return `event: t\nid: ${id}\ndata: ${Buffer.from(frame, 'utf8').toString('base64')}\n\n`;
  }
  return `event: b\nid: ${id}\ndata: ${Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).toString('base64')}\n\n`;
}
