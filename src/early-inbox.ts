/**
 * Messages that arrive while a session is still "preparing" (drpc's EarlySession: the auth
 * exchange). They wait here, in order and bounded, until `receive()` takes them.
 */
import type { Clock } from './clock.ts';
import type { Message } from './message.ts';
import { Code, DrpcError } from './status.ts';

interface Waiter {
  resolve(m: Message): void;
  reject(e: DrpcError): void;
}

export class EarlyInbox {
  #queued: Message[] = [];
  #waiters: Waiter[] = [];

  constructor(
    private readonly clock: Clock,
    /** Most messages held before someone receives them. */
    private readonly max = 64,
  ) {}

  /** Hands `m` to the oldest waiter or queues it; false when the queue is full. */
  push(m: Message): boolean {
    const waiter = this.#waiters[0];
    if (waiter) waiter.resolve(m);
    else if (this.#queued.length < this.max) this.#queued.push(m);
    else return false;
    return true;
  }

  /** The next message, or a 408 after `timeout` ms (0 = wait forever). */
  receive(timeout: number): Promise<Message> {
    const queued = this.#queued.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer =
        timeout > 0
          ? this.clock.setTimeout(
              () => waiter.reject(new DrpcError(Code.HandleTimeout, `handshake: no message within ${timeout} ms`)),
              timeout,
            )
          : undefined;
      const done = () => {
        if (timer !== undefined) this.clock.clearTimeout(timer);
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
      };
      const waiter: Waiter = { resolve: (m) => (done(), resolve(m)), reject: (e) => (done(), reject(e)) };
      this.#waiters.push(waiter);
    });
  }

  /** Takes what is queued, oldest first (the handshake is over). */
  drain(): Message[] {
    return this.#queued.splice(0);
  }

  /** Fails every waiter and drops what is queued (the session closed). */
  close(err: DrpcError): void {
    this.#queued = [];
    for (const w of [...this.#waiters]) w.reject(err);
  }
}
