/**
 * Outbound CALLs waiting for their REPLY, keyed by seq. Each entry settles exactly once: whoever
 * takes it out of the table (reply, timeout, abort, write failure, disconnect) settles it, and
 * taking also clears its timer and abort listener.
 */
import type { Clock, TimerHandle } from './clock.ts';
import type { DrpcError } from './status.ts';
import type { Message } from './message.ts';

export interface PendingCall {
  readonly serviceMethod: string;
  resolve(reply: Message): void;
  reject(err: DrpcError): void;
  timer?: TimerHandle;
  signal?: AbortSignal;
  onAbort?: () => void;
}

export class PendingCalls {
  readonly #calls = new Map<number, PendingCall>();
  #onEmpty?: () => void;

  constructor(private readonly clock: Clock) {}

  get size(): number {
    return this.#calls.size;
  }

  has(seq: number): boolean {
    return this.#calls.has(seq);
  }

  add(seq: number, call: PendingCall): void {
    this.#calls.set(seq, call);
  }

  /** Removes and returns the call (disarmed), or undefined if it has already settled. */
  take(seq: number): PendingCall | undefined {
    const call = this.#calls.get(seq);
    if (!call) return undefined;
    this.#calls.delete(seq);
    if (call.timer !== undefined) this.clock.clearTimeout(call.timer);
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
}
