/**
 * Heartbeat pong as drpc's: CALL and PUSH routes `/heartbeat` read the peer's rate from meta `hb_`;
 * a session that has announced a rate and then stays silent for 2 × rate is closed. Any inbound
 * frame counts as life. Sessions that never sent a heartbeat are never checked (as in drpc).
 */
import type { Clock, TimerHandle } from '../../src/clock.ts';
import { HEARTBEAT_META, HEARTBEAT_METHOD, MIN_RATE_SECONDS } from '../../src/heartbeat.ts';
import type { Router } from '../../src/router.ts';
import type { Session } from '../../src/session.ts';
import { Code, DrpcError, codeText } from '../../src/status.ts';
import type { SessionHub } from './hub.ts';

const RATE_KEY = 'drpc.heartbeatRate';

export function routePong(router: Router): void {
  const pong = (_body: unknown, ctx: { session: Session; meta: Record<string, string> }) => {
    const text = ctx.meta[HEARTBEAT_META];
    const rate = text === undefined || text === '' ? 0 : /^\d+$/.test(text) ? Number(text) : -1;
    const known = ctx.session.data.get(RATE_KEY) as number | undefined;
    if (rate < 0 && known === undefined) throw new DrpcError(Code.BadMessage, codeText(Code.BadMessage), 'invalid heartbeat rate');
    if (rate > 0) ctx.session.data.set(RATE_KEY, Math.max(MIN_RATE_SECONDS, rate));
    else if (known === undefined) ctx.session.data.set(RATE_KEY, MIN_RATE_SECONDS);
    return null; // drpc's pong replies a typed nil: body `null` under json
  };
  router.route(HEARTBEAT_METHOD, pong);
  router.routePush(HEARTBEAT_METHOD, pong);
}

/** Periodically closes sessions silent for 2 × their heartbeat rate. Returns the stop function. */
export function startPongChecker(hub: SessionHub, clock: Clock, onDead: (session: Session, silentMs: number) => void): () => void {
  let timer: TimerHandle | undefined;
  let stopped = false;
  const tick = () => {
    const next = 1000; // so a silent session is closed within a second of its 2 × rate deadline
    const now = clock.now();
    hub.forEach((s) => {
      const rate = s.data.get(RATE_KEY) as number | undefined;
      if (rate === undefined) return;
      const silent = now - s.lastReceived;
      if (silent > 2 * rate * 1000) onDead(s, silent);
    });
    if (!stopped) timer = clock.setTimeout(tick, next);
  };
  timer = clock.setTimeout(tick, 1000);
  return () => {
    stopped = true;
    if (timer !== undefined) clock.clearTimeout(timer);
  };
}
