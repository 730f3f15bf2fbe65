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
  // Lists are copied on write (never changed in place), so `emit` can walk one without copying it:
  // a listener added or removed while emitting takes effect from the next emit.
  readonly #byEvent = new Map<keyof Events, Events[keyof Events][]>();
  readonly #report: (err: unknown) => void;

  constructor(report: (err: unknown) => void = rethrowLater) {
    this.#report = report;
  }

  on<E extends keyof Events>(event: E, cb: Events[E]): () => void {
    this.#byEvent.set(event, [...(this.#byEvent.get(event) ?? []), cb]);
    // An event once listened to keeps its (possibly empty) list.
    return () => {
      this.#byEvent.set(
        event,
        this.#byEvent.get(event)!.filter((f) => f !== cb),
      );
    };
  }

  emit<E extends keyof Events>(event: E, ...args: Parameters<Events[E]>): void {
    for (const cb of this.#byEvent.get(event) ?? [])
      try {
        (cb as unknown as (...a: Parameters<Events[E]>) => void)(...args);
      } catch (err) {
        this.#report(err);
      }
  }
}
