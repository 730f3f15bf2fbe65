/**
 * Transfer filters (drpc's "tfilter"): transforms applied to packed bytes, named by a byte id in the
 * frame's pipe. ids[0] is the outermost layer: pack runs the pipe last → first, unpack first → last.
 */
import { Registry, type Identified } from '../registry.ts';
import { badMessage, DrpcError } from '../status.ts';

export interface FilterLimits {
  /** Largest output an unpack may produce (guards against decompression bombs). */
  maxSize: number;
}

export interface Filter extends Identified {
  onPack(data: Uint8Array): Uint8Array | Promise<Uint8Array>;
  onUnpack(data: Uint8Array, limits: FilterLimits): Uint8Array | Promise<Uint8Array>;
}

/** What a proto needs of its transfer filters: run a frame's pipe each way (see FilterRegistry). */
export interface FilterPipes {
  pack(pipe: readonly number[], data: Uint8Array): Uint8Array | Promise<Uint8Array>;
  unpack(pipe: readonly number[], data: Uint8Array, limits: FilterLimits): Uint8Array | Promise<Uint8Array>;
}

/** Transfer filters by id and name, and the pipes they run (`createFilters()` makes one with gzip and md5). */
export class FilterRegistry extends Registry<Filter> implements FilterPipes {
  constructor(items: Iterable<Filter> = []) {
    super('transfer filter', items);
  }

  pack(pipe: readonly number[], data: Uint8Array): Uint8Array | Promise<Uint8Array> {
    return packPipe(resolvePipe(this, pipe), data);
  }

  unpack(pipe: readonly number[], data: Uint8Array, limits: FilterLimits): Uint8Array | Promise<Uint8Array> {
    return unpackPipe(resolvePipe(this, pipe), data, limits);
  }

  override clone(): FilterRegistry {
    return new FilterRegistry(this);
  }
}

export const MAX_PIPE = 255;

// drpc's own filters, which a client has only when it imports them.
const HINTS: Record<number, string> = { 122: 'gzip', 53: 'md5' };

/** The 400 for a pipe id this side has no filter for (with the fix, for drpc's own filters). */
export function unsupportedFilter(id: number | undefined): DrpcError {
  const name = HINTS[id!];
  const hint = name ? ` ('${String.fromCharCode(id!)}', ${name}): give this side filters: createFilters()` : '';
  return badMessage(`unsupported transfer filter id ${id}${hint}`);
}

/** Checks a pipe against a registry, returning the filters in pipe order (400 on an unknown id). */
export function resolvePipe(registry: Registry<Filter>, pipe: readonly number[]): Filter[] {
  if (pipe.length > MAX_PIPE) throw badMessage(`filter pipe has ${pipe.length} ids, max ${MAX_PIPE}`);
  return pipe.map((id) => {
    const f = registry.get(id);
    if (!f) throw unsupportedFilter(id);
    return f;
  });
}

/** Runs filters for packing (last → first); sync while every filter answers synchronously. */
export function packPipe(filters: Filter[], data: Uint8Array): Uint8Array | Promise<Uint8Array> {
  return run(filters, filters.length - 1, -1, data, (f, d) => f.onPack(d), 'pack');
}

/** Runs filters for unpacking (first → last). */
export function unpackPipe(filters: Filter[], data: Uint8Array, limits: FilterLimits): Uint8Array | Promise<Uint8Array> {
  return run(filters, 0, 1, data, (f, d) => f.onUnpack(d, limits), 'unpack');
}

type Step = (f: Filter, d: Uint8Array) => Uint8Array | Promise<Uint8Array>;

function run(filters: Filter[], i: number, dir: 1 | -1, data: Uint8Array, step: Step, what: string): Uint8Array | Promise<Uint8Array> {
  for (; i >= 0 && i < filters.length; i += dir) {
    const f = filters[i]!;
    let out: Uint8Array | Promise<Uint8Array>;
    try {
      out = step(f, data);
    } catch (err) {
      throw filterError(f, what, err);
    }
    if (out instanceof Promise) {
      const next = i + dir;
      return out.then(
        (d) => run(filters, next, dir, d, step, what),
        (err) => Promise.reject(filterError(f, what, err)),
      );
    }
    data = out;
  }
  return data;
}

function filterError(f: Filter, what: string, err: unknown): DrpcError {
  return err instanceof DrpcError ? err : badMessage(`${f.name} filter: ${what} failed: ${(err as Error)?.message ?? String(err)}`, err);
}
