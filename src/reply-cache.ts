/**
 * Replies of calls that carry an identity, kept so that a call re-sent after a reconnect is answered
 * from here instead of running its handler twice (exactly-once effect). Per client (the id it dials
 * with), shared by all of that client's connections: a copy that arrives on a new connection while
 * the old one is still open on our side (half-open) attaches to the running original just the same.
 *
 * A client acknowledges with every call the numbers below which all its calls have settled (meta
 * `_k`), so replies are dropped as soon as they cannot be asked for again: the cache holds about the
 * calls in flight, and entries die young (no garbage-collector cost under load). Bounds for clients
 * that do not acknowledge: entries per client, entry age, idle clients kept, and the bytes of every
 * client's replies together (a reply that does not fit is not kept: its call could run again).
 */
import type { Clock } from './clock.ts';
import { abortJob } from './running.ts';
import type { DrpcError, Status } from './status.ts';
import type { Meta } from './wire-text.ts';

export interface CachedReply {
  status: Status;
  meta: Meta;
  bodyCodec: number;
  body: Uint8Array;
}

export interface ReplyCacheOptions {
  /** Unacknowledged replies kept per client at most; the oldest go first. Default 4096. */
  maxEntries?: number;
  /** How long a reply is kept, and a disconnected client's replies, in ms (the clients' resume window). Default 60000. */
  maxAgeMs?: number;
  /** Disconnected clients whose replies are kept at most; the longest gone are forgotten first. Default 10000. */
  maxClients?: number;
  /**
   * Reply bodies kept by all clients together, in bytes. Over it, a client's new reply pushes out its
   * own oldest ones, and disconnected clients are forgotten, longest gone first. Default 64 MiB.
   */
  maxBytes?: number;
}

type Waiter = (reply: CachedReply) => void;

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
}

/** The running original of a call (its job): copies attach to it as waiters, a cancel aborts it. */
export interface RunningCall {
  waiters?: Waiter[];
  controller?: AbortController;
}

/** Shared by every record of a cache (one object, not three fields per client). */
interface Limits {
  readonly clock: Clock;
  readonly max: number;
  readonly maxAge: number;
  readonly maxBytes: number;
  /** Body bytes held by every record of the cache. */
  bytes: number;
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

  constructor(
    readonly id: string,
    private readonly limits: Limits,
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
   */
  lookup(n: number, waiter: Waiter): CachedReply | 'attached' | undefined {
    this.#prune(this.limits.clock.now());
    const done = this.#doneMap?.get(n);
    if (done) return done;
    const running = this.#runningMap?.get(n);
    if (running === undefined) return undefined;
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

/** The endpoint's reply cache: one ClientReplies per client id. */
export class ReplyCache {
  readonly #clients = new Map<string, ClientReplies>();
  /** Records no connection uses, in the order they were released (oldest first). */
  readonly #idle = new Map<string, ClientReplies>();
  readonly #limits: Limits;
  readonly #maxClients: number;

  constructor(
    private readonly clock: Clock,
    options: ReplyCacheOptions = {},
    /** Where calls are also recorded for other nodes (a broker's `replies`). */
    readonly store?: ReplyStore,
  ) {
    this.#limits = {
      clock,
      store,
      max: options.maxEntries ?? 4096,
      maxAge: options.maxAgeMs ?? 60_000,
      maxBytes: options.maxBytes ?? 64 * 1024 * 1024,
      bytes: 0,
      makeRoom: () => this.#prune(),
    };
    this.#maxClients = options.maxClients ?? 10_000;
  }

  /** How long a reply is kept, in ms. */
  get maxAgeMs(): number {
    return this.#limits.maxAge;
  }

  /** Reply body bytes held now, all clients together. */
  get bytes(): number {
    return this.#limits.bytes;
  }

  /** Clients with a record (connected, or gone for less than maxAgeMs). */
  get clients(): number {
    return this.#clients.size;
  }

  /** The record of client `id` for a new connection; `release` it when that connection closes. */
  acquire(id: string): ClientReplies {
    this.#prune();
    let r = this.#clients.get(id);
    if (!r) this.#clients.set(id, (r = new ClientReplies(id, this.#limits)));
    this.#idle.delete(id);
    r.refs++;
    return r;
  }

  /** Client `id`'s record, if this node has one (a connection uses it, or it is kept after one closed). */
  peek(id: string): ClientReplies | undefined {
    return this.#clients.get(id);
  }

  /** Forgets client `id`'s record when no connection uses it (it moved to another node). */
  drop(id: string): void {
    const r = this.#clients.get(id);
    if (!r || r.refs > 0 || r.busy) return; // its running calls still count their replies here
    this.#clients.delete(id);
    this.#idle.delete(id);
    r.forget();
  }

  release(r: ClientReplies): void {
    if (--r.refs > 0 || this.#clients.get(r.id) !== r) return;
    r.releasedAt = this.clock.now();
    this.#idle.set(r.id, r);
    this.#prune();
  }

  #prune(): void {
    const oldest = this.clock.now() - this.#limits.maxAge;
    const limits = this.#limits;
    for (const [id, r] of this.#idle) {
      if (r.releasedAt >= oldest && this.#idle.size <= this.#maxClients && limits.bytes <= limits.maxBytes) break;
      this.#idle.delete(id);
      this.#clients.delete(id);
      r.forget();
    }
  }
}
