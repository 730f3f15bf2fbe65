/**
 * A client's redial policy: how many attempts, how long to wait before each (backoff.ts), and the
 * one timer that waits. The client asks for the next dial when a connection is lost and learns
 * whether the policy allows one.
 */
import { backoffDelay, type BackoffOptions } from './backoff.ts';
import type { Clock, TimerHandle } from './clock.ts';

export class Redial {
  /** Redials since the last open (0 while open or connecting for the first time). */
  attempt = 0;
  #timer?: TimerHandle;
  /** The browser said it is offline when the timer fired: the dial waits for `now()` (back online). */
  #parked = false;
  /** The `reconnect` option: backoff settings, or false to never redial. */
  readonly #options: BackoffOptions | false | undefined;
  readonly #dial: () => void;

  constructor(
    private readonly clock: Clock,
    options: BackoffOptions | false | undefined,
    dial: () => void,
  ) {
    this.#options = options;
    this.#dial = dial;
  }

  /** Whether a redial is waiting for its timer. */
  get waiting(): boolean {
    return this.#timer !== undefined || this.#parked;
  }

  /** Schedules the next dial (at once when `immediate`); false when the policy allows no more. */
  schedule(immediate: boolean): boolean {
    const o = this.#options;
    if (o === false || this.attempt >= (o?.attempts ?? Infinity)) return false;
    const delay = immediate ? 0 : backoffDelay(this.attempt, o);
    this.attempt++;
    this.cancel();
    this.#timer = this.clock.setTimeout(() => this.#fire(), delay);
    // The system clock unrefs its timers; a client that is reconnecting keeps a Node process alive, as an
    // open socket does (else `await client.call()` during a server restart lets the process exit mid-call).
    (this.#timer as { ref?: () => void }).ref?.();
    return true;
  }

  /** Dials now instead of waiting (the browser came back online); also what the timer does. */
  now(): void {
    if (!this.waiting) return;
    this.cancel();
    this.#dial();
  }

  cancel(): void {
    if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#parked = false;
  }

  /**
   * The timer: dials, unless a browser says it is offline. Then the dial would fail for sure, so this
   * attempt waits for the 'online' event (the client's wake calls now()): an hour offline spends one
   * attempt, not `attempts`, and does not grow the backoff.
   */
  #fire(): void {
    if ((globalThis as { navigator?: { onLine?: boolean } }).navigator?.onLine !== false) return this.now();
    this.#timer = undefined;
    this.#parked = true;
  }
}
