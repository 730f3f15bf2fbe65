/**
 * Heartbeat pong as drpc's: CALL and PUSH routes `/heartbeat` read the peer's rate from meta `hb_`;
 * a session that has announced a rate and then stays silent for 2 × rate is closed. Any inbound
 * frame counts as life. Sessions that never sent a heartbeat are never checked (as in drpc), and
 * cost nothing here: only sessions that announced a rate are tracked.
 */
import type { Clock, TimerHandle } from '../../src/clock.ts';
import { HEARTBEAT_META, HEARTBEAT_METHOD, MIN_RATE_SECONDS } from '../../src/heartbeat.ts';
import type { Router } from '../../src/router.ts';
import type { Session } from '../../src/session.ts';
import { Code, DrpcError, codeText } from '../../src/status.ts';

/**
 * DMicro's ping sleeps a rate and then compares, so a healthy Go client's pings are sometimes
 * 2 × rate + a few ms apart; this much slack keeps such a client from being closed.
 */
const GRACE_MS = 500;

export class Pong {
  /** Heartbeat rate in seconds of every session that has announced one. */
  readonly #rates = new Map<Session, number>();
  #timer?: TimerHandle;

  constructor(
    private readonly clock: Clock,
    private readonly onDead: (session: Session, silentMs: number) => void,
  ) {}

  /** Registers the `/heartbeat` CALL and PUSH routes. */
  route(router: Router): void {
    const pong = (_body: unknown, ctx: { session: Session; meta: Record<string, string> }) => {
      const text = ctx.meta[HEARTBEAT_META];
      const rate = text === undefined || text === '' ? 0 : /^\d+$/.test(text) ? Number(text) : -1;
      const known = this.#rates.get(ctx.session);
      if (rate < 0 && known === undefined) throw new DrpcError(Code.BadMessage, codeText(Code.BadMessage), 'invalid heartbeat rate');
      if (rate > 0) this.#track(ctx.session, Math.max(MIN_RATE_SECONDS, rate));
      else if (known === undefined) this.#track(ctx.session, MIN_RATE_SECONDS);
      return null; // drpc's pong replies a typed nil: body `null` under json
    };
    router.route(HEARTBEAT_METHOD, pong);
    router.routePush(HEARTBEAT_METHOD, pong);
  }

  stop(): void {
    if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#rates.clear();
  }

  #track(session: Session, rate: number): void {
    if (session.state === 'closed') return;
    if (!this.#rates.has(session)) session.on('close', () => this.#rates.delete(session));
    this.#rates.set(session, rate);
    // Checked every second, so a silent session is closed within a second of its 2 × rate deadline.
    this.#timer ??= this.clock.setTimeout(() => this.#check(), 1000);
  }

  #check(): void {
    this.#timer = undefined;
    const now = this.clock.now();
    for (const [s, rate] of this.#rates) {
      const silent = now - s.lastReceived;
      if (silent > 2 * rate * 1000 + GRACE_MS) this.onDead(s, silent);
    }
    if (this.#rates.size) this.#timer = this.clock.setTimeout(() => this.#check(), 1000);
  }
}
