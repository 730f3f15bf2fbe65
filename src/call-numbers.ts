/**
 * A client's seqs, shared by all its sessions so that none repeats across reconnects: an endpoint
 * knows a durable call by its client id and seq. Tracks which durable calls are still open, for the
 * acknowledgement (meta `_k`): every call below it has settled, so the endpoint may drop its reply.
 * Settling is O(1) amortized. (Seqs wrap after 2^31 - 1; acknowledgements are not exact across a wrap.)
 */
export class CallNumbers {
  #next = 1;
  #open: number[] = []; // unsettled numbers, ascending from #head
  #head = 0;
  readonly #settledEarly = new Set<number>(); // settled, but a lower number is still open

  /** The next seq, for a message nobody will ask about again (a push, a fail-fast call). */
  next(): number {
    const n = this.#next;
    this.#next = n >= 0x7fffffff ? 1 : n + 1;
    return n;
  }

  /** The next seq, for a durable call: open until `settle`. */
  take(): number {
    const n = this.next();
    this.#open.push(n);
    return n;
  }

  settle(n: number): void {
    const open = this.#open;
    if (open[this.#head] !== n) {
      this.#settledEarly.add(n);
      return;
    }
    this.#head++;
    while (this.#head < open.length && this.#settledEarly.delete(open[this.#head]!)) this.#head++;
    if (this.#head > 64 && this.#head * 2 > open.length) {
      this.#open = open.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Every number below this one has settled. */
  get acked(): number {
    return this.#head < this.#open.length ? this.#open[this.#head]! : this.#next;
  }
}
