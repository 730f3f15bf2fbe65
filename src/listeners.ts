/**
 * A tiny typed event emitter, made only when someone listens (an idle server session should not
 * pay for one). The same shape as nanoevents: `on` returns the function that stops listening.
 * A listener that throws does not stop the others, nor the code that emitted (a client mid-way
 * through a state change): its error is reported as an uncaught one, as a DOM EventTarget does.
 */
type Listener = (...args: never[]) => void;

const rethrowLater = (err: unknown): void =>
  queueMicrotask(() => {
    throw err;
  });

export class Listeners<Events extends { [K in keyof Events]: Listener }> {
  readonly #byEvent = new Map<keyof Events, Events[keyof Events][]>();

  constructor(private readonly report: (err: unknown) => void = rethrowLater) {}

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
    if (!list) return;
    for (const cb of [...list])
      try {
        (cb as unknown as (...a: Parameters<Events[E]>) => void)(...args);
      } catch (err) {
        this.report(err);
      }
  }
}
