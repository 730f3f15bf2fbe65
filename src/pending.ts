/**
 * Outbound CALLs waiting for their REPLY, keyed by seq. Each entry settles exactly once: whoever
 * takes it out of the table (reply, timeout, abort, write failure, disconnect) settles it, and
 * taking also disarms its timeout and abort listener.
 *
 * Timeouts do not cost a timer per call: calls are grouped by timeout value, and within a group
 * deadlines only grow, so each group is a FIFO with one timer armed at its head. Settled calls leave
 * their queue slot behind (lazily skipped); a group with no live call drops its queue and timer.
 */
import type { Clock, TimerHandle } from './clock.ts';
import { Code, DrpcError } from './status.ts';
import type { Message } from './message.ts';

export interface PendingCall {
  readonly serviceMethod: string;
  resolve(reply: Message): void;
  reject(err: DrpcError): void;
  signal?: AbortSignal;
  onAbort?: () => void;
  /** Set by `add` when the call has a timeout. */
  group?: Group;
}

interface Slot {
  seq: number;
  call: PendingCall;
  deadline: number;
}

interface Group {
  readonly timeout: number;
  queue: Slot[];
  head: number;
  live: number;
  timer?: TimerHandle;
}

/** Stands for both tables until first use; never written to. */
const EMPTY = new Map<number, never>();

export class PendingCalls {
  // Both made on first use: most server sessions never call, and idle sessions should stay small.
  #calls: Map<number, PendingCall> = EMPTY;
  #groups: Map<number, Group> = EMPTY;
  #onEmpty?: () => void;

  constructor(private readonly clock: Clock) {}

  get size(): number {
    return this.#calls.size;
  }

  has(seq: number): boolean {
    return this.#calls.has(seq);
  }

  /** Adds a call; with `timeout` > 0 it expires that many ms from now unless settled first. */
  add(seq: number, call: PendingCall, timeout: number): void {
    if (this.#calls === EMPTY) this.#calls = new Map();
    this.#calls.set(seq, call);
    if (!(timeout > 0 && timeout < Infinity)) return; // 0 or Infinity: no timeout
    if (this.#groups === EMPTY) this.#groups = new Map();
    let g = this.#groups.get(timeout);
    if (!g) this.#groups.set(timeout, (g = { timeout, queue: [], head: 0, live: 0 }));
    call.group = g;
    g.live++;
    g.queue.push({ seq, call, deadline: this.clock.now() + timeout });
    if (g.timer === undefined) this.#arm(g);
  }

  /** Removes and returns the call (disarmed), or undefined if it has already settled. */
  take(seq: number): PendingCall | undefined {
    const call = this.#calls.get(seq);
    if (!call) return undefined;
    this.#calls.delete(seq);
    const g = call.group;
    if (g) {
      call.group = undefined;
      if (--g.live === 0) this.#drop(g);
      else if (g.queue.length - g.head > 2 * g.live + 1024) this.#compact(g);
    }
    if (call.onAbort) call.signal!.removeEventListener('abort', call.onAbort);
    if (this.#calls.size === 0) this.#onEmpty?.();
    return call;
  }

  /** Settles one call with an error if it is still pending. */
  reject(seq: number, err: DrpcError): void {
    this.take(seq)?.reject(err);
  }

  /** Settles every pending call with `err` (disconnect). */
  rejectAll(err: DrpcError): void {
    for (const seq of [...this.#calls.keys()]) this.reject(seq, err);
  }

  /** Resolves when no call is pending. */
  drained(): Promise<void> {
    if (this.#calls.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const prev = this.#onEmpty;
      this.#onEmpty = () => {
        this.#onEmpty = prev;
        prev?.();
        resolve();
      };
    });
  }

  #arm(g: Group): void {
    while (g.head < g.queue.length && g.queue[g.head]!.call.group !== g) g.head++; // skip settled slots
    if (g.head >= g.queue.length) return this.#drop(g);
    const delay = g.queue[g.head]!.deadline - this.clock.now();
    g.timer = this.clock.setTimeout(() => this.#fire(g), Math.max(0, delay));
  }

  #fire(g: Group): void {
    g.timer = undefined;
    const now = this.clock.now();
    const due: Slot[] = [];
    while (g.head < g.queue.length && g.queue[g.head]!.deadline <= now) {
      const slot = g.queue[g.head++]!;
      if (slot.call.group === g) due.push(slot);
    }
    if (g.head > 1024) this.#compact(g);
    if (this.#groups.get(g.timeout) === g) this.#arm(g);
    for (const slot of due)
      if (this.#calls.get(slot.seq) === slot.call)
        this.reject(slot.seq, new DrpcError(Code.HandleTimeout, `call ${slot.call.serviceMethod} timed out after ${g.timeout} ms`));
  }

  #compact(g: Group): void {
    g.queue = g.queue.slice(g.head).filter((s) => s.call.group === g);
    g.head = 0;
  }

  /**
   * Out of the table, with its timer. Nothing resets the group: it is garbage now (no live call
   * points to it, but for the due ones that `#fire` is about to time out).
   */
  #drop(g: Group): void {
    if (g.timer !== undefined) this.clock.clearTimeout(g.timer);
    if (this.#groups.get(g.timeout) === g) this.#groups.delete(g.timeout);
  }
}
