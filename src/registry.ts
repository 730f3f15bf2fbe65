/** A registry of byte-id'd parts (codecs, transfer filters), looked up by id or name. */
import { badMessage, Code, DrpcError } from './status.ts';

export interface Identified {
  /** A byte (1-255); drpc uses ASCII letters, e.g. 'j' = 106. */
  readonly id: number;
  readonly name: string;
}

export class Registry<T extends Identified> {
  readonly #byId = new Map<number, T>();
  readonly #byName = new Map<string, T>();
  readonly #kind: string;

  constructor(kind: string, items: Iterable<T> = []) {
    this.#kind = kind;
    for (const item of items) this.register(item);
  }

  /** Adds an item; an id or name already taken by another item is an error (as drpc panics). */
  register(item: T): this {
    const invalid = (what: string) => new DrpcError(Code.InvalidOp, `${this.#kind} ${what}`);
    if (!Number.isInteger(item.id) || item.id < 1 || item.id > 255) throw invalid(`id ${item.id} is not a byte in 1-255`);
    const taken = this.#byId.get(item.id) ?? this.#byName.get(item.name);
    if (taken && taken !== item) throw invalid(`${describe(item)} clashes with registered ${describe(taken)}`);
    this.#byId.set(item.id, item);
    this.#byName.set(item.name, item);
    return this;
  }

  get(id: number): T | undefined {
    return this.#byId.get(id);
  }

  byName(name: string): T | undefined {
    return this.#byName.get(name);
  }

  /** By id or name, or a 400 naming the unknown id. */
  require(idOrName: number | string): T {
    const item = typeof idOrName === 'number' ? this.#byId.get(idOrName) : this.#byName.get(idOrName);
    if (!item) throw badMessage(`unsupported ${this.#kind} ${idText(idOrName)}`);
    return item;
  }

  /** A copy that can be extended without touching this one. */
  clone(): Registry<T> {
    return new Registry(this.#kind, this.#byId.values());
  }

  [Symbol.iterator](): IterableIterator<T> {
    return this.#byId.values();
  }
}

function idText(id: number | string): string {
  if (typeof id === 'string') return JSON.stringify(id);
  return id >= 0x21 && id <= 0x7e ? `id ${id} ('${String.fromCharCode(id)}')` : `id ${id}`;
}

function describe(item: Identified): string {
  return `${JSON.stringify(item.name)} (${idText(item.id)})`;
}
