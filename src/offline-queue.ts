/**
 * Calls and pushes made while disconnected wait here, bounded in count, each under its own
 * timeout. When the connection opens they are sent in order with the time they have left.
 */
import type { Clock, TimerHandle } from './clock.ts';
import { Code, DrpcError, codeError } from './status.ts';

interface Entry {
  /** Sends on the open connection; `remaining` is the time left of the caller's timeout (0 = none). */
  send(remaining: number): void;
  reject(err: DrpcError): void;
  deadline: number;
  timer?: TimerHandle;
  signal?: AbortSignal;
  onAbort?: () => void;
}

export class OfflineQueue {
  readonly #entries = new Set<Entry>();
  readonly #refusals = new WeakSet<DrpcError>();
  /** Most entries held; 0 disables the queue (calls fail fast with 102). */
  readonly #max: number;

  constructor(
    private readonly clock: Clock,
    max: number,
  ) {
    this.#max = max;
  }

  /** True for the 102 errors this queue itself gave (full or disabled): not a lost connection. */
  refused(err: DrpcError): boolean {
    return this.#refusals.has(err);
  }

  /**
   * Queues a send; rejects with 102 when full or disabled, with 408 when its timeout passes first,
   * and with 1499 as soon as `signal` aborts (it is then never sent).
   */
  add(what: string, timeout: number, send: Entry['send'], reject: Entry['reject'], signal?: AbortSignal): void {
    const canceled = () => new DrpcError(Code.Canceled, `${what} was canceled`, signal!.reason);
    if (signal?.aborted) return reject(canceled());
    if (this.#entries.size >= this.#max) {
      const why = this.#max ? `not connected and the offline queue is full (limit ${this.#max})` : 'not connected (offline queue disabled)';
      const err = codeError(Code.ConnClosed, why);
      this.#refusals.add(err);
      return reject(err);
    }
    const timed = timeout > 0 && timeout < Infinity;
    const entry: Entry = { send, reject, deadline: timed ? this.clock.now() + timeout : 0 };
    if (timed)
      entry.timer = this.clock.setTimeout(() => {
        this.#drop(entry);
        reject(new DrpcError(Code.HandleTimeout, `${what} timed out after ${timeout} ms while waiting for a connection`));
      }, timeout);
    if (signal) {
      entry.signal = signal;
      entry.onAbort = () => {
        this.#drop(entry);
        reject(canceled());
      };
      signal.addEventListener('abort', entry.onAbort, { once: true });
    }
    this.#entries.add(entry);
  }

  /** Takes an entry out: its timer and abort listener go with it. */
  #drop(e: Entry): void {
    this.#entries.delete(e);
    if (e.timer !== undefined) this.clock.clearTimeout(e.timer);
    if (e.onAbort) e.signal!.removeEventListener('abort', e.onAbort);
  }

  /** Takes everything queued out, oldest first. */
  #takeAll(): Entry[] {
    const entries = [...this.#entries];
    for (const e of entries) this.#drop(e);
    return entries;
  }

  /** Sends everything queued, oldest first. */
  flush(): void {
    const now = this.clock.now();
    for (const e of this.#takeAll()) e.send(e.deadline ? Math.max(1, e.deadline - now) : 0);
  }

  rejectAll(err: DrpcError): void {
    for (const e of this.#takeAll()) e.reject(err);
  }
}
