/** Several listeners on one push route (the client's `onPush`). */
import type { PushContext } from './router.ts';

export type PushListener = (body: unknown, ctx: PushContext) => unknown;

/**
 * Hands a push to every listener. Listeners are independent: one that throws (or rejects) is
 * reported and the others still hear the push. Synchronous unless a listener returns a promise.
 */
export function notify(listeners: Set<PushListener>, value: unknown, ctx: PushContext): Promise<void> | void {
  let failure: { err: unknown } | undefined;
  let waits: Promise<unknown>[] | undefined;
  for (const l of listeners.size === 1 ? listeners : [...listeners]) {
    try {
      const out = l(value, ctx);
      if (out instanceof Promise) (waits ??= []).push(out.catch((err: unknown) => void (failure ??= { err })));
    } catch (err) {
      failure ??= { err };
    }
  }
  if (waits)
    return Promise.all(waits).then(() => {
      if (failure) throw failure.err;
    });
  if (failure) throw failure.err;
}
