/**
 * The up half of the HTTP transport: frames queued and sent in numbered POSTs, up to MAX_POSTS at
 * once and at most BATCH frames each, a POST that fails retried for `retryFor` ms under its own
 * numbers (the endpoint delivers each frame once, in number order). Wire: docs/protocol.md.
 */
import { concatBytes } from '../alloc.ts';
import type { Frame } from '../proto/proto.ts';
import { DrpcError } from '../status.ts';
import type { FetchResponse } from './node-fetch.ts';

// POSTs in flight at once: more than one keeps a busy session from waiting a round trip per batch.
const MAX_POSTS = 4; // a browser has 6 connections per origin over HTTP/1.1: the stream takes one
// Frames per POST at most: the endpoint starts on one batch while this side makes the next, and
// answers it with one write, so neither side waits for the other's whole turn.
const BATCH = 64;

/** What the queue needs from its transport. */
export interface PostTarget {
  /** The transport is closed: nothing more is sent (stale-callback guard). */
  closed(): boolean;
  /** The session id is known, so POSTs can go. */
  ready(): boolean;
  /** Sends one POST body whose first frame has number `first` (`text`: JSON frames, one per line). */
  post(first: number, body: string | Uint8Array, text: boolean): Promise<FetchResponse>;
  /** Rejects with the refusal: the endpoint's status when it sent one. */
  refused(res: FetchResponse): Promise<DrpcError>;
  /** The queue gives up: `refusal` when the endpoint refused (its status closes the transport). */
  failed(reason: string, refusal?: DrpcError): void;
  pause(ms: number): Promise<void>;
  now(): number;
  readonly retryFor: number;
}

interface Batch {
  first: number;
  frames: Frame[];
  bytes: number;
}

export class PostQueue {
  #queue: Frame[] = [];
  #queuedBytes = 0;
  readonly #inflight = new Set<Batch>(); // POSTs not yet answered
  #inflightBytes = 0;
  #next = 1; // number of the next frame queued
  #flushing = false;

  constructor(private readonly target: PostTarget) {}

  get bufferedAmount(): number {
    return this.#queuedBytes + this.#inflightBytes;
  }

  /** POSTs not yet answered. */
  get inflight(): number {
    return this.#inflight.size;
  }

  send(frame: Frame): void {
    this.#queue.push(frame);
    this.#queuedBytes += size(frame);
    // A full batch goes at once (see BATCH); a partial one at the end of this task.
    if (this.#queue.length >= BATCH) this.flush();
    else if (!this.#flushing) {
      this.#flushing = true;
      queueMicrotask(() => ((this.#flushing = false), this.flush()));
    }
  }

  /** An empty POST: it only carries the transport's acknowledgement. */
  sendEmpty(): void {
    this.#post([]);
  }

  flush(): void {
    const t = this.target;
    while (this.#inflight.size < MAX_POSTS && this.#queue.length > 0 && !t.closed() && t.ready()) {
      // One POST carries frames of one kind (RAW binary or JSON text): the body says which.
      const kind = typeof this.#queue[0];
      let n = 1;
      while (n < this.#queue.length && n < BATCH && typeof this.#queue[n] === kind) n++;
      this.#post(this.#queue.splice(0, n));
    }
  }

  clear(): void {
    this.#queue = [];
  }

  #post(frames: Frame[]): void {
    let bytes = 0;
    for (const f of frames) bytes += size(f);
    this.#queuedBytes -= bytes;
    const batch = { first: this.#next, frames, bytes };
    this.#next += frames.length;
    this.#inflight.add(batch);
    this.#inflightBytes += bytes;
    void this.#sendBatch(batch);
  }

  async #sendBatch(batch: Batch): Promise<void> {
    const t = this.target;
    const end = t.now() + t.retryFor;
    const text = batch.frames.length > 0 && typeof batch.frames[0] === 'string';
    const body = text ? (batch.frames as string[]).join('\n') : concatBytes(batch.frames as Uint8Array[]);
    let wait = 0;
    while (!t.closed()) {
      if (wait) await t.pause(wait);
      try {
        const res = await t.post(batch.first, body, text);
        // Refused by the endpoint (a frame too big, an unknown session): the transport closes with
        // that status; the client must not re-send into the same refusal.
        if (!res.ok) return t.failed('http post refused', await t.refused(res));
        this.#inflight.delete(batch);
        this.#inflightBytes -= batch.bytes;
        return this.flush();
      } catch (err) {
        const e = DrpcError.from(err);
        if (t.now() > end) return t.failed(`http post failed: ${e.causeText || e.message}`);
      }
      wait = Math.min(Math.max(wait * 2, 100), 2000);
    }
  }
}

const size = (f: Frame): number => (typeof f === 'string' ? f.length : f.byteLength);
