/**
 * msgpack codec ('m' = 109, ours: drpc has no msgpack id; a Go peer registers a codec with the same
 * id to interoperate). Its own entry point (`drpc/msgpack`) so JSON users never load msgpackr.
 * `useRecords: false` keeps msgpackr away from `new Function`, so strict-CSP pages work.
 */
import { Packr } from 'msgpackr';
import { CodecId, type Codec } from './codec.ts';
import { Code, DrpcError } from '../status.ts';
import { EMPTY_BYTES } from '../utf8.ts';

export function msgpackCodec(options: { id?: number; name?: string } = {}): Codec {
  const packr = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true });
  // msgpackr renames a `__proto__` key (to `__proto_`) when it builds objects; bodies that hold one
  // are decoded into Maps and rebuilt with the key as an own property, so nothing is lost.
  const mapPackr = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: false });
  return {
    id: options.id ?? CodecId.Msgpack,
    name: options.name ?? 'msgpack',
    encode(value) {
      if (value === undefined) return EMPTY_BYTES;
      try {
        return packr.pack(value);
      } catch (err) {
        throw new DrpcError(Code.BadMessage, 'msgpack codec: cannot encode the body', err);
      }
    },
    decode(bytes) {
      if (bytes.length === 0) return undefined; // the empty body `encode(undefined)` writes
      try {
        return hasProtoKey(bytes) ? fromMaps(mapPackr.unpack(bytes)) : packr.unpack(bytes);
      } catch (err) {
        throw new DrpcError(Code.BadMessage, `msgpack codec: body is not valid msgpack (${(err as Error).message})`);
      }
    },
  };
}

export const msgpack: Codec = msgpackCodec();

// "__proto__" as a msgpack fixstr: 0xa9 then the 9 characters.
const PROTO_KEY = [0xa9, 0x5f, 0x5f, 0x70, 0x72, 0x6f, 0x74, 0x6f, 0x5f, 0x5f];

function hasProtoKey(b: Uint8Array): boolean {
  for (let i = b.indexOf(0xa9); i >= 0 && i + 10 <= b.length; i = b.indexOf(0xa9, i + 1)) {
    let j = 1;
    while (j < 10 && b[i + j] === PROTO_KEY[j]) j++;
    if (j === 10) return true;
  }
  return false;
}

function fromMaps(v: unknown): unknown {
  if (v instanceof Map) {
    const o: Record<string, unknown> = {};
    for (const [k, val] of v)
      Object.defineProperty(o, String(k), { value: fromMaps(val), enumerable: true, writable: true, configurable: true });
    return o;
  }
  return Array.isArray(v) ? v.map(fromMaps) : v;
}
