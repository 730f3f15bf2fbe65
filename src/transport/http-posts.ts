/**
 * The up half of the HTTP transport: frames queued and sent in numbered POSTs, up to MAX_POSTS at
 * once and at most BATCH frames each, a POST that fails retried for `retryFor` ms under its own
 * numbers (the endpoint delivers each frame once, in number order). Wire: docs/protocol.md.
 */
import { concatBytes } from '../alloc.ts';
import { statusToClose } from '../close-codes.ts';
import type { Frame } from '../proto/proto.ts';
import { Code, DrpcError } from '../status.ts';
import { refused, type FetchResponse } from './node-fetch.ts';
import type { CloseDetails } from './websocket.ts';

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
  /** The queue gives up: the transport closes (`details`: the endpoint's refusal, as a close). */
  failed(reason: string, details?: CloseDetails): void;
  pause(ms: number): Promise<void>;
  now(): number;
  readonly retryFor: number;
}

export class PostQueue {
  #queue: Frame[] = [];
  #buffered = 0; // bytes of the frames queued or in POSTs not yet answered
  #inflight = 0; // POSTs not yet answered
  #next = 1; // number of the next frame queued
  #flushing = false;
  #bodies = 0; // POSTs with frames sent so far
  // Those not yet answered, by order sent. The endpoint keeps at most 16 bodies that arrive before an
  // earlier one (409 beyond): while one is retried, at most 15 more may follow it (AHEAD).
  readonly #unanswered = new Set<number>();

  readonly #target: PostTarget;

  constructor(target: PostTarget) {
    this.#target = target;
  }

  get bufferedAmount(): number {
    return this.#buffered;
  }

  /** POSTs not yet answered. */
  get inflight(): number {
    return this.#inflight;
  }

  send(frame: Frame): void {
    this.#queue.push(frame);
    this.#buffered += frame.length; // a Uint8Array's length is its byteLength
    // A full batch goes at once (see BATCH); a partial one at the end of this task.
    if (this.#queue.length >= BATCH) this.flush();
    else if (!this.#flushing) {
      this.#flushing = true;
      queueMicrotask(() => ((this.#flushing = false), this.flush()));
    }
  }

  /** An empty POST: it only carries the transport's acknowledgement. */
  sendEmpty(): void {
    void this.#post([]);
  }

  flush(): void {
    // POSTs in flight at once: more than one keeps a busy session from waiting a round trip per
    // batch; a browser has 6 connections per origin over HTTP/1.1, and the stream takes one.
    // (Local: esbuild inlines it, not a top-level constant of a file that imports.)
    const MAX_POSTS = 4;
    const AHEAD = 15;
    const t = this.#target;
    while (
      this.#inflight < MAX_POSTS &&
      this.#queue.length > 0 &&
      !t.closed() &&
      t.ready() &&
      this.#bodies - (this.#unanswered.values().next().value ?? this.#bodies) <= AHEAD
    ) {
      // One POST carries frames of one kind (RAW binary or JSON text): the body says which.
      const kind = typeof this.#queue[0];
      let n = 1;
      while (n < this.#queue.length && n < BATCH && typeof this.#queue[n] === kind) n++;
      void this.#post(this.#queue.splice(0, n));
    }
  }

  clear(): void {
    this.#queue = [];
  }

  /** One POST of `frames`, numbered from the next number, retried under those numbers. */
  async #post(frames: Frame[]): Promise<void> {
    const t = this.#target;
    const first = this.#next;
    this.#next += frames.length;
    this.#inflight++;
    const index = frames.length ? this.#bodies++ : -1; // an empty POST (an acknowledgement) is not kept ahead
    if (index >= 0) this.#unanswered.add(index);
    const end = t.now() + t.retryFor;
    const text = typeof frames[0] === 'string'; // an empty POST is a binary one
    const body = text ? (frames as string[]).join('\n') : concatBytes(frames as Uint8Array[]);
    let wait = 0;
    while (!t.closed()) {
      if (wait) await t.pause(wait);
      try {
        const res = await t.post(first, body, text);
        // Refused by the endpoint (a frame too big): the transport closes with that status; the
        // client must not re-send into the same refusal. An unknown session (404) is no refusal of
        // these frames: the session is gone (expired, or its node died), as a lost connection, and
        // the client's durable calls go out again on its next one.
        if (!res.ok) {
          const e = await refused(res, 'frames sent up');
          const why = `http post refused: ${e.causeText || e.message}`;
          return e.code === Code.NotFound ? t.failed(why) : t.failed(why, statusToClose(e.toStatus()));
        }
        this.#inflight--;
        this.#unanswered.delete(index);
        for (const f of frames) this.#buffered -= f.length;
        return this.flush();
      } catch (err) {
        const e = DrpcError.from(err);
        if (t.now() > end) return t.failed(`http post failed: ${e.causeText || e.message}`);
      }
      wait = Math.min(Math.max(wait * 2, 100), 2000);
    }
  }
}
