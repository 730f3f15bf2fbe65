/**
 * Time, injectable: every timer in the SDK goes through a Clock so heartbeat, backoff and timeouts
 * can be tested without sleeping. `now()` is wall-clock milliseconds (deadlines are judged against
 * it, since timers are throttled in background tabs and stop while a laptop sleeps).
 */
export type TimerHandle = { readonly __timer: unique symbol } | number | object;

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Waits for `p` (which never rejects), but no longer than `ms` on `clock`; the timer is cleared either way. */
export async function awaitAtMost(clock: Clock, p: Promise<unknown>, ms: number): Promise<void> {
  let timer: TimerHandle | undefined;
  await Promise.race([p, new Promise<void>((woken) => (timer = clock.setTimeout(woken, ms)))]);
  clock.clearTimeout(timer!);
}

// Browsers and Node fire a timer longer than this (about 24.8 days) at once; callers that wait longer
// re-arm when it fires early (their deadline is judged by now()).
const MAX_DELAY = 2 ** 31 - 1;

/** The real clock. Timers are unref'ed where the runtime allows, so they never keep a process alive. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = globalThis.setTimeout(fn, ms >= 0 ? Math.min(ms, MAX_DELAY) : 0) as unknown as { unref?: () => void };
    t?.unref?.();
    return t as TimerHandle;
  },
  clearTimeout: (h) => globalThis.clearTimeout(h as Parameters<typeof globalThis.clearTimeout>[0]),
};

/** A clock that only moves when told to: `advance(ms)` fires due timers in order. */
export class ManualClock implements Clock {
  #now: number;
  #timers = new Map<number, { at: number; fn: () => void }>();
  #next = 1;

  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.#next++;
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle as number);
  }

  /** Moves time forward, firing every timer that falls due (timers set by timers included). */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      let dueId = 0;
      let due = Infinity;
      for (const [id, t] of this.#timers) {
        if (t.at <= end && t.at < due) {
          due = t.at;
          dueId = id;
        }
      }
      if (!dueId) break;
      const t = this.#timers.get(dueId)!;
      this.#timers.delete(dueId);
      this.#now = Math.max(this.#now, t.at);
      t.fn();
    }
    this.#now = end;
  }

  /** Jumps wall time without firing timers (a laptop waking up from sleep). */
  jump(ms: number): void {
    this.#now += ms;
  }

  get pending(): number {
    return this.#timers.size;
  }
}
