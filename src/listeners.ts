/**
 * A tiny typed event emitter, made only when someone listens (an idle server session should not
 * pay for one). The same shape as nanoevents: `on` returns the function that stops listening.
 */
type Listener = (...args: never[]) => void;

export class Listeners<Events extends { [K in keyof Events]: Listener }> {
  readonly #byEvent = new Map<keyof Events, Events[keyof Events][]>();

  on<E extends keyof Events>(event: E, cb: Events[E]): () => void {
    const list = this.#byEvent.get(event) ?? [];
    list.push(cb);
    this.#byEvent.set(event, list);
    return () => {
      const now = this.#byEvent.get(event);
      if (now)
        this.#byEvent.set(
          event,
          now.filter((f) => f !== cb),
        );
    };
  }

  emit<E extends keyof Events>(event: E, ...args: Parameters<Events[E]>): void {
    const list = this.#byEvent.get(event);
    if (list) for (const cb of [...list]) (cb as unknown as (...a: Parameters<Events[E]>) => void)(...args);
  }
}
