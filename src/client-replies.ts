/**
 * One client's replies (a record of the reply cache, reply-cache.ts), by call number: the calls it
 * ran, the ones running now (copies attach to them), what it acknowledged, and what moves between
 * nodes: the hand-off to the node the client reconnected to, and what a store (keepReplies) recorded.
 */
import { abortJob } from './running.ts';
import type { Clock } from './clock.ts';
import { Code, codeText, type DrpcError, type Status } from './status.ts';
import type { Meta } from './wire-text.ts';

export interface CachedReply {
  status: Status;
  meta: Meta;
  bodyCodec: number;
  body: Uint8Array;
}

type Waiter = (reply: CachedReply) => void;

/** The answer to a call that reached this node after its client moved on (see ClientReplies.latest). */
const MOVED: CachedReply = {
  status: { code: Code.WrongConn, msg: codeText(Code.WrongConn), cause: 'the client moved to another node: its call was not run here' },
  meta: {},
  bodyCodec: 0,
  body: new Uint8Array(0),
};

/**
 * Where a node also records its clients' calls, so that another node can answer them after this one
 * crashed (redisBroker's `keepReplies`). Its methods never reject: a store that fails reports it
 * itself, and the calls go on as without a store.
 */
export interface ReplyStore {
  /** Call `n` of client `id` starts: resolves once that is recorded (the handler waits for it). */
  begin(id: string, n: number, ttlMs: number): Promise<void>;
  /** Call `n` of client `id` finished with `reply` (nobody waits for it). */
  finish(id: string, n: number, reply: CachedReply, ttlMs: number): void;
  /** Call `n`'s reply cannot be asked for any more. */
  forget(id: string, n: number): void;
  /** What is recorded of client `id`: replies, and calls that began and did not finish (their node is gone). */
  load(id: string): Promise<StoredCalls | undefined>;
}

export interface StoredCalls {
  done: [number, CachedReply][];
  running: number[];
}

/** A client's record as one node hands it to the next (scale-out: the client reconnected elsewhere). */
export interface ClientHandOff {
  acked: number;
  /** Replies kept, by call number. */
  done: [number, CachedReply][];
  /** Calls still running there: their replies follow when they finish. */
  running: number[];
  /** The node that handed it over (its address with the broker), to watch while its calls run. */
  from?: string;
  /** The newest claim of the client the handing node knows of: a connection of an older claim is stale. */
  latest?: number;
}

/** The running original of a call (its job): copies attach to it as waiters, a cancel aborts it. */
export interface RunningCall {
  waiters?: Waiter[];
  controller?: AbortController;
}

/** Shared by every record of a cache (one object, not three fields per client). */
export interface ReplyLimits {
  readonly clock: Clock;
  readonly max: number;
  readonly maxAge: number;
  readonly maxBytes: number;
  /** Body bytes held by every record of the cache. */
  bytes: number;
  /** The claim version of each connection (scale-out): see ClientReplies.latest. */
  readonly versions: WeakMap<object, number>;
  readonly store?: ReplyStore;
  /** Over maxBytes: forgets disconnected clients, longest gone first, until under it. */
  makeRoom(): void;
}

/** One client's replies, by call number. */
export class ClientReplies {
  // Created on first use: a connection that never makes a call costs one small object.
  #doneMap?: Map<number, CachedReply>;
  #runningMap?: Map<number, RunningCall>;
  // Completion order of #done as a FIFO (two arrays, moving head): pruning from the front of a Map
  // walks over its deleted slots (V8), which would make every call O(entries). Created on first use.
  #ns?: number[];
  #ats?: number[];
  #head = 0;
  #acked = 0;
  /** Connections using this record; released at 0. */
  refs = 0;
  releasedAt = 0;
  /**
   * Scale-out: each connection of the client claims it, in one order for all nodes (a version). This
   * is the newest claim this node knows was made elsewhere: a connection here whose claim is older
   * is one the client has left, and a new call that reaches this node on it (a frame still in its
   * buffers) is not run here, since its copy goes to the client's newer connection.
   */
  latest = 0;
  /** The newest claim made on this node (BrokerLink.claim). */
  claimed = 0;

  constructor(
    readonly id: string,
    private readonly limits: ReplyLimits,
  ) {}

  get size(): number {
    return this.#doneMap?.size ?? 0;
  }

  get #done(): Map<number, CachedReply> {
    return (this.#doneMap ??= new Map());
  }

  get #running(): Map<number, RunningCall> {
    return (this.#runningMap ??= new Map());
  }

  /** The client settled every call below `n`: none of them will be asked for again. */
  ack(n: number): void {
    if (n > this.#acked) this.#acked = n;
  }

  /**
   * The cached reply for call `n`; or 'attached' when its handler is running (`waiter` gets the
   * reply); or undefined when the call is new: the caller runs it, after `begin(n)`, and calls `finish`.
   * `connection`: the one it arrived on (a new call on a connection the client has left is refused).
   */
  lookup(n: number, waiter: Waiter, connection?: object): CachedReply | 'attached' | undefined {
    this.#prune(this.limits.clock.now());
    const done = this.#doneMap?.get(n);
    if (done) return done;
    const running = this.#runningMap?.get(n);
    if (running === undefined) return (this.limits.versions.get(connection!) ?? 0) < this.latest ? MOVED : undefined;
    (running.waiters ??= []).push(waiter); // most calls never get a waiter: no array each
    return 'attached';
  }

  /**
   * Call `n` starts running as `call` (its job: no object of our own per call). With a store, the
   * promise that it is recorded there: the handler runs once it resolves.
   */
  begin(n: number, call: RunningCall = {}): Promise<void> | undefined {
    this.#running.set(n, call);
    return this.limits.store?.begin(this.id, n, this.limits.maxAge);
  }

  /**
   * The client canceled call `n`: aborts its running original's signal, wherever it runs (the call may
   * have begun on a connection that has dropped since; its handler goes on, as a durable call does).
   */
  cancel(n: number, reason: DrpcError): boolean {
    const call = this.#runningMap?.get(n);
    if (call) abortJob(call, reason);
    return !!call;
  }

  /** Call `n` finished with `reply` here (`store`: also recorded in the store, if there is one). */
  finish(n: number, reply: CachedReply, store = true): void {
    if (store) this.limits.store?.finish(this.id, n, reply, this.limits.maxAge);
    const waiters = this.#running.get(n)?.waiters;
    this.#running.delete(n);
    const now = this.limits.clock.now();
    const before = this.#done.get(n);
    if (before) this.limits.bytes -= before.body.length;
    else {
      (this.#ns ??= []).push(n);
      (this.#ats ??= []).push(now);
    }
    this.limits.bytes += reply.body.length;
    this.#done.set(n, reply);
    this.#prune(now);
    if (waiters) for (const w of waiters) w(reply);
  }

  /** Drops replies acknowledged, too old, or beyond the count or byte bound, oldest first. */
  #prune(now: number): void {
    const ns = this.#ns;
    const ats = this.#ats;
    if (!ns || !ats) return;
    const limits = this.limits;
    const oldest = now - limits.maxAge;
    if (limits.bytes > limits.maxBytes) limits.makeRoom(); // the clients gone first, then our own oldest
    let head = this.#head;
    while (
      head < ns.length &&
      (ns[head]! < this.#acked || ats[head]! < oldest || ns.length - head > limits.max || limits.bytes > limits.maxBytes)
    )
      this.#drop(ns[head++]!);
    if (head > 64 && head * 2 > ns.length) {
      this.#ns = ns.slice(head);
      this.#ats = ats.slice(head);
      head = 0;
    }
    this.#head = head;
  }

  #drop(n: number): void {
    const r = this.#doneMap?.get(n);
    if (!r) return;
    this.limits.bytes -= r.body.length;
    this.#doneMap!.delete(n);
    this.limits.store?.forget(this.id, n);
  }

  /**
   * What this record holds, for the node the client moved to; `forward` gets the reply of each call
   * still running here when it finishes.
   */
  handOff(forward: (n: number, reply: CachedReply) => void): ClientHandOff {
    this.#prune(this.limits.clock.now());
    for (const [n, call] of this.#runningMap ?? []) (call.waiters ??= []).push((reply) => forward(n, reply));
    return { acked: this.#acked, done: [...(this.#doneMap ?? [])], running: [...(this.#runningMap?.keys() ?? [])] };
  }

  /**
   * Takes what the client's previous node held: its replies are answered from here, and copies of its
   * running calls wait for the replies it forwards (`finish`); `abandon` fails the ones that never come.
   */
  adopt(h: ClientHandOff): void {
    this.ack(h.acked);
    if (h.latest !== undefined && h.latest > this.latest) this.latest = h.latest;
    for (const [n, reply] of h.done) if (!this.#doneMap?.has(n)) this.finish(n, reply, false);
    for (const n of h.running) if (!this.#knows(n)) this.#running.set(n, {});
  }

  /**
   * Takes what the store recorded of calls begun on a node that is gone without handing them over:
   * their replies; and a call that never finished there is answered `unknown` (it may have taken
   * effect, so it does not run again). Calls this node knows of already are left as they are.
   */
  recover(stored: StoredCalls, unknown: Status): void {
    for (const [n, reply] of stored.done) if (!this.#knows(n)) this.finish(n, reply, false);
    for (const n of stored.running)
      if (!this.#knows(n)) this.finish(n, { status: unknown, meta: {}, bodyCodec: 0, body: new Uint8Array() }, false);
  }

  #knows(n: number): boolean {
    return !!this.#doneMap?.has(n) || !!this.#runningMap?.has(n);
  }

  /**
   * Settles the copies waiting for calls that were running on the client's previous node, which never
   * answered: with the reply `replies` has for a call (a store kept it), else with `status`.
   */
  abandon(ns: readonly number[], status: Status, replies?: ReadonlyMap<number, CachedReply>): void {
    // Only the previous node's calls are listed: a copy of one that arrived here attached to it, never ran.
    for (const n of ns)
      if (this.#runningMap?.has(n)) this.finish(n, replies?.get(n) ?? { status, meta: {}, bodyCodec: 0, body: new Uint8Array() }, false);
  }

  /** Calls running now. */
  get busy(): number {
    return this.#runningMap?.size ?? 0;
  }

  /** The record is forgotten: its bytes leave the cache's count. */
  forget(): void {
    for (const r of this.#doneMap?.values() ?? []) this.limits.bytes -= r.body.length;
    this.#doneMap = undefined;
    this.#ns = this.#ats = undefined;
    this.#head = 0;
  }
}
