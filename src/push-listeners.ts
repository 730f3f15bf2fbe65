/** Several listeners on one push route (the client's `onPush`). */
import type { PushContext, Router } from './router.ts';
import { badMessage } from './status.ts';

export type PushListener = (body: unknown, ctx: PushContext) => unknown;

/**
 * Hands a push (or a topic's message) to every listener. Listeners are independent: one that throws (or rejects) is
 * reported and the others still hear the push. Synchronous unless a listener returns a promise.
 */
export function notify<X>(listeners: Set<(value: unknown, ctx: X) => unknown>, value: unknown, ctx: X): Promise<void> | void {
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

/**
 * The listeners of each push route: the first listener of a method routes it, the last one to go
 * unroutes it. `transform` (e.g. contract validation) runs once per push, before the listeners.
 */
export class PushListeners {
  readonly #byMethod = new Map<string, Set<PushListener>>();
  readonly #router: Router;
  readonly #transform?: (serviceMethod: string) => ((body: unknown) => Promise<unknown>) | undefined;

  constructor(router: Router, transform?: (serviceMethod: string) => ((body: unknown) => Promise<unknown>) | undefined) {
    this.#router = router;
    this.#transform = transform;
  }

  /** Adds a listener; returns the function that removes it (idempotent). */
  add(serviceMethod: string, listener: PushListener): () => void {
    if (typeof serviceMethod !== 'string' || serviceMethod === '' || typeof listener !== 'function')
      throw badMessage('onPush needs a non-empty service method and a listener function');
    let set = this.#byMethod.get(serviceMethod);
    if (!set) {
      const listeners = (set = new Set());
      const transform = this.#transform?.(serviceMethod);
      this.#router.routePush(serviceMethod, (body, ctx) =>
        transform ? transform(body).then((v) => notify(listeners, v, ctx)) : notify(listeners, body, ctx),
      );
      this.#byMethod.set(serviceMethod, listeners);
    }
    set.add(listener);
    return () => {
      // Idempotent: a second call must not unroute a newer subscription to the same method.
      if (!set.delete(listener)) return;
      if (set.size === 0 && this.#byMethod.get(serviceMethod) === set) {
        this.#byMethod.delete(serviceMethod);
        this.#router.unroutePush(serviceMethod);
      }
    };
  }
}
