/**
 * Calls and pushes made while disconnected wait here, bounded in count, each under its own
 * timeout. When the connection opens they are sent in order with the time they have left.
 */
import type { Clock, TimerHandle } from './clock.ts';
import { Code, DrpcError, codeText } from './status.ts';

interface Entry {
  /** Sends on the open connection; `remaining` is the time left of the caller's timeout (0 = none). */
  send(remaining: number): void;
  reject(err: DrpcError): void;
  deadline: number;
  timer?: TimerHandle;
}

export class OfflineQueue {
  readonly #entries = new Set<Entry>();

  constructor(
    private readonly clock: Clock,
    /** Most entries held; 0 disables the queue (calls fail fast with 102). */
    readonly max: number,
  ) {}

  get size(): number {
    return this.#entries.size;
  }

  readonly #refusals = new WeakSet<DrpcError>();

  /** True for the 102 errors this queue itself gave (full or disabled): not a lost connection. */
  refused(err: DrpcError): boolean {
    return this.#refusals.has(err);
  }

  /** Queues a send; rejects with 102 when full or disabled, with 408 when its timeout passes first. */
  add(what: string, timeout: number, send: Entry['send'], reject: Entry['reject']): void {
    if (this.#entries.size >= this.max) {
      const why =
        this.max === 0 ? 'not connected (offline queue disabled)' : `not connected and the offline queue is full (limit ${this.max})`;
      const err = new DrpcError(Code.ConnClosed, codeText(Code.ConnClosed), why);
      this.#refusals.add(err);
      return reject(err);
    }
    const entry: Entry = { send, reject, deadline: timeout > 0 ? this.clock.now() + timeout : 0 };
    if (timeout > 0)
      entry.timer = this.clock.setTimeout(() => {
        this.#entries.delete(entry);
        reject(new DrpcError(Code.HandleTimeout, `${what} timed out after ${timeout} ms while waiting for a connection`));
      }, timeout);
    this.#entries.add(entry);
  }

  /** Sends everything queued, oldest first. */
  flush(): void {
    const entries = [...this.#entries];
    this.#entries.clear();
    const now = this.clock.now();
    for (const e of entries) {
      if (e.timer !== undefined) this.clock.clearTimeout(e.timer);
      e.send(e.deadline ? Math.max(1, e.deadline - now) : 0);
    }
  }

  rejectAll(err: DrpcError): void {
    const entries = [...this.#entries];
    this.#entries.clear();
    for (const e of entries) {
      if (e.timer !== undefined) this.clock.clearTimeout(e.timer);
      e.reject(err);
    }
  }
}
