/**
 * Replies of calls that carry an identity (meta `_i`), kept for a window so that a call re-sent
 * after a reconnect is answered from here instead of running its handler twice (exactly-once effect
 * within the window). A call whose handler is still running when its copy arrives is attached to it.
 * Bounded in count and age; shared by every session of an endpoint.
 */
import type { Clock } from './clock.ts';
import type { Status } from './status.ts';
import type { Meta } from './wire-text.ts';

export interface CachedReply {
  status: Status;
  meta: Meta;
  bodyCodec: number;
  body: Uint8Array;
}

export interface ReplyCacheOptions {
  /** Replies kept at most. Default 10000. */
  maxEntries?: number;
  /** How long a reply is kept, in ms (clients stop re-sending after their own window of the same length). Default 60000. */
  maxAgeMs?: number;
}

type Waiter = (reply: CachedReply) => void;

export class ReplyCache {
  readonly #done = new Map<string, { reply: CachedReply; at: number }>();
  readonly #running = new Map<string, Waiter[]>();
  readonly #max: number;
  readonly #maxAge: number;

  constructor(
    private readonly clock: Clock,
    options: ReplyCacheOptions = {},
  ) {
    this.#max = options.maxEntries ?? 10_000;
    this.#maxAge = options.maxAgeMs ?? 60_000;
  }

  get size(): number {
    return this.#done.size;
  }

  /**
   * The cached reply for `id`; or 'attached' when its handler is running (`waiter` gets the reply);
   * or undefined when the call is new: the caller runs it, after `begin(id)`, and calls `finish`.
   */
  lookup(id: string, waiter: Waiter): CachedReply | 'attached' | undefined {
    this.#prune();
    const done = this.#done.get(id);
    if (done) return done.reply;
    const running = this.#running.get(id);
    if (!running) return undefined;
    running.push(waiter);
    return 'attached';
  }

  begin(id: string): void {
    this.#running.set(id, []);
  }

  finish(id: string, reply: CachedReply): void {
    const waiters = this.#running.get(id) ?? [];
    this.#running.delete(id);
    this.#done.set(id, { reply, at: this.clock.now() });
    this.#prune();
    for (const w of waiters) w(reply);
  }

  #prune(): void {
    const oldest = this.clock.now() - this.#maxAge;
    for (const [id, e] of this.#done) {
      if (this.#done.size <= this.#max && e.at >= oldest) break; // insertion order is age order
      this.#done.delete(id);
    }
  }
}
