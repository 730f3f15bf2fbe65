/**
 * Objects a test expects to become garbage (a closed session, a closed client), checked with WeakRefs
 * and forced collections: each must be collectable, not merely "closed".
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { delay } from './helpers.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Tracks objects that must become garbage, each with a label saying what it was. */
export class Garbage {
  readonly #refs: { ref: WeakRef<object>; what: string }[] = [];
  /** Keeps a weak reference to `value`, labelled `what`. */
  watch(what: string, value: object): void {
    this.#refs.push({ ref: new WeakRef(value), what });
  }
  /** What is still alive after collections (with turns of the event loop between, for pending callbacks). */
  async survivors(): Promise<string[]> {
    for (let round = 0; round < 50; round++) {
      gc();
      await delay(20);
      if (this.#refs.every((r) => r.ref.deref() === undefined)) return [];
    }
    const alive = new Map<string, number>();
    for (const r of this.#refs) if (r.ref.deref() !== undefined) alive.set(r.what, (alive.get(r.what) ?? 0) + 1);
    return [...alive].map(([what, n]) => `${n} × ${what}`);
  }
}
