/**
 * Heartbeat as drpc: `/heartbeat` with meta `hb_` = rate in whole seconds (min 3). The pinging side
 * sends it as a CALL a rate after the last pong, so a dead peer is found by the missing REPLY. Liveness is also judged against wall-clock time: a laptop waking from sleep fires its timer
 * late, sees the deadline long past, and reconnects at once.
 *
 * The next ping is armed when the pong arrives, not in the timer's own callback: Chromium throttles a
 * hidden tab's chained timers (timer nesting level ≥ 5) to one wake-up a minute, so pings armed in a
 * chain would stop, the endpoint would close the silent session, and the tab would reconnect every
 * minute. A timer set from a network task is not chained (test/e2e/background.spec.ts).
 */
import type { Clock, TimerHandle } from './clock.ts';
import type { Session } from './session.ts';
import { Code, type DrpcError } from './status.ts';

export const HEARTBEAT_METHOD = '/heartbeat';
export const HEARTBEAT_META = 'hb_';
export const MIN_RATE_SECONDS = 3;

export class HeartbeatPing {
  readonly #session: Session;
  readonly #onDead: (why: string) => void;
  readonly #rateMs: number;
  #timer?: TimerHandle;
  #stopped = false;

  constructor(
    session: Session,
    private readonly clock: Clock,
    rateSeconds: number,
    onDead: (why: string) => void,
  ) {
    // Whole seconds, at least the minimum (a rate that is not a number gets the minimum too).
    this.#rateMs = 1000 * Math.max(MIN_RATE_SECONDS, Math.round(rateSeconds) || MIN_RATE_SECONDS);
    this.#session = session;
    this.#onDead = onDead;
    this.#arm();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer);
  }

  /** Judges liveness now (call when the page becomes visible or the network comes back). */
  check(): void {
    if (this.#stopped) return;
    const silent = this.clock.now() - this.#session.lastReceived;
    if (silent >= 2 * this.#rateMs) return this.#dead(`no frame for ${silent} ms (deadline ${2 * this.#rateMs} ms)`);
    // Ping at every check, even while frames keep arriving: the peer judges *our* silence
    // (its pong closes a session it has not heard from for 2 × rate), and a peer that still writes may
    // have stopped reading. A ping unanswered within `rate` declares the peer dead by the 2 × rate deadline.
    this.#session
      .call(HEARTBEAT_METHOD, undefined, {
        meta: { [HEARTBEAT_META]: String(this.#rateMs / 1000) },
        timeout: this.#rateMs,
        sendDeadline: false,
      })
      .then(
        () => this.#arm(),
        // Any REPLY, even an error status (a peer without a pong route answers 404), proves liveness.
        (err: DrpcError) => (err.code === Code.HandleTimeout ? this.#dead(`heartbeat unanswered for ${this.#rateMs} ms`) : this.#arm()),
      );
  }

  /** The next check in `rate` (one timer: a check on wake re-arms it). */
  #arm(): void {
    if (this.#stopped) return;
    if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer);
    this.#timer = this.clock.setTimeout(() => this.check(), this.#rateMs);
  }

  #dead(why: string): void {
    if (this.#stopped) return;
    this.stop();
    this.#onDead(why);
  }
}
