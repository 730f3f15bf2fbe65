/**
 * msgpack decoding for drpc bodies: maps become plain objects (non-string keys as their text, a
 * `__proto__` key as an own property), bin becomes a Uint8Array copy, the timestamp extension a Date,
 * 64-bit integers a number when exact and a bigint otherwise, invalid UTF-8 in a string U+FFFD.
 * Anything malformed (a truncated value, bytes after the value, an unknown extension, the reserved
 * 0xc1, nesting deeper than 1000) throws an Error saying what and where.
 */
import { asciiDecode, isAscii } from '../utf8.ts';

const MAX_DEPTH = 1000;
// Lenient: a Go string may hold any bytes, and msgpackr writes lone surrogates as they are; such
// bytes become U+FFFD rather than failing the whole message.
const lenient = new TextDecoder('utf-8', { ignoreBOM: true });

const KEYS = 1024;
const keyCache: ({ lo: number; hi: number; n: number; s: string } | undefined)[] = new Array(KEYS);

class Reader {
  readonly v: DataView;
  p = 0;
  constructor(readonly b: Uint8Array) {
    this.v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }

  /** Moves past `n` bytes and returns where they start; throws when the body ends first. */
  take(n: number): number {
    const at = this.p;
    if (at + n > this.b.length) throw new Error(`truncated at byte ${at}: needs ${n} more, has ${this.b.length - at}`);
    this.p = at + n;
    return at;
  }

  u8(): number {
    return this.b[this.take(1)]!;
  }
  u16(): number {
    return this.v.getUint16(this.take(2));
  }
  u32(): number {
    return this.v.getUint32(this.take(4));
  }

  /** A length of 1, 2 or 4 bytes (`k` = 0, 1, 2): the 8, 16 and 32-bit forms of str, bin, ext, array and map. */
  n(k: number): number {
    return k === 0 ? this.u8() : k === 1 ? this.u16() : this.u32();
  }

  value(depth: number): unknown {
    const t = this.u8();
    if (t < 0x80) return t;
    if (t >= 0xe0) return t - 0x100;
    if (t < 0x90) return this.map(t & 15, depth);
    if (t < 0xa0) return this.array(t & 15, depth);
    if (t < 0xc0) return this.str(t & 31);
    const v = this.v;
    switch (t) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xca:
        return v.getFloat32(this.take(4));
      case 0xcb:
        return v.getFloat64(this.take(8));
      case 0xcc:
        return this.u8();
      case 0xcd:
        return this.u16();
      case 0xce:
        return this.u32();
      case 0xcf:
        return this.int64(false);
      case 0xd0:
        return v.getInt8(this.take(1));
      case 0xd1:
        return v.getInt16(this.take(2));
      case 0xd2:
        return v.getInt32(this.take(4));
      case 0xd3:
        return this.int64(true);
    }
    if (t >= 0xde) return this.map(this.n(t - 0xdd), depth); // map 16, 32
    if (t >= 0xdc) return this.array(this.n(t - 0xdb), depth); // array 16, 32
    if (t >= 0xd9) return this.str(this.n(t - 0xd9)); // str 8, 16, 32
    if (t >= 0xd4) return this.ext(1 << (t - 0xd4)); // fixext 1, 2, 4, 8, 16
    if (t >= 0xc7) return this.ext(this.n(t - 0xc7)); // ext 8, 16, 32
    if (t >= 0xc4) return this.bin(this.n(t - 0xc4)); // bin 8, 16, 32
    throw new Error(`byte ${this.p - 1} is 0xc1, which msgpack never uses`);
  }

  /** Checks a count against the bytes left (each item takes at least `min`), before allocating for it. */
  count(n: number, min: number, depth: number): void {
    if (n * min > this.b.length - this.p)
      throw new Error(`truncated: ${n} items announced at byte ${this.p}, ${this.b.length - this.p} bytes left`);
    if (depth > MAX_DEPTH) throw new Error(`nested deeper than ${MAX_DEPTH} levels`);
  }

  array(n: number, depth: number): unknown[] {
    this.count(n, 1, depth);
    const out = new Array<unknown>(n);
    for (let i = 0; i < n; i++) out[i] = this.value(depth + 1);
    return out;
  }

  map(n: number, depth: number): Record<string, unknown> {
    this.count(n, 2, depth);
    const out: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      const t = this.b[this.p]!;
      const k =
        t > 0xa0 && t <= 0xa8
          ? (this.p++, this.key(t & 31))
          : t >= 0xa0 && t < 0xc0
            ? (this.p++, this.str(t & 31))
            : String(this.value(depth + 1));
      const v = this.value(depth + 1);
      if (k === '__proto__') Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
      else out[k] = v;
    }
    return out;
  }

  /** A map key of 1-8 bytes: the same keys recur in every object of a body, so their strings are cached. */
  key(n: number): string {
    const at = this.take(n);
    const b = this.b;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < n; i++) {
      if (i < 4) lo = (lo << 8) | b[at + i]!;
      else hi = (hi << 8) | b[at + i]!;
    }
    const slot = ((lo ^ Math.imul(hi, 0x9e3779b1) ^ n) >>> 0) & (KEYS - 1);
    const e = keyCache[slot];
    if (e && e.lo === lo && e.hi === hi && e.n === n) return e.s;
    this.p = at;
    const s = this.str(n);
    keyCache[slot] = { lo, hi, n, s };
    return s;
  }

  str(n: number): string {
    const at = this.take(n);
    if (n < 16) {
      // Short ASCII in one pass (keys, most values); anything else the general way.
      const b = this.b;
      let s = '';
      let i = at;
      for (; i < at + n; i++) {
        const c = b[i]!;
        if (c > 0x7f) break;
        s += String.fromCharCode(c);
      }
      if (i === at + n) return s;
    } else if (n < 64 && isAscii(this.b, at, at + n)) return asciiDecode(this.b, at, at + n);
    return lenient.decode(this.b.subarray(at, at + n));
  }

  bin(n: number): Uint8Array {
    const at = this.take(n);
    return new Uint8Array(this.b.subarray(at, at + n)); // a copy, and a plain Uint8Array even when the frame is a Buffer
  }

  int64(signed: boolean): number | bigint {
    const at = this.take(8);
    const hi = signed ? this.v.getInt32(at) : this.v.getUint32(at);
    const n = hi * 2 ** 32 + this.v.getUint32(at + 4);
    if (Number.isSafeInteger(n)) return n;
    return signed ? this.v.getBigInt64(at) : this.v.getBigUint64(at);
  }

  /** An extension of `n` data bytes: only the timestamp (-1) is known. */
  ext(n: number): Date {
    const type = this.v.getInt8(this.take(1));
    const at = this.take(n);
    if (type !== -1) throw new Error(`extension type ${type} at byte ${at - 1} is not supported (only the timestamp, -1)`);
    const v = this.v;
    let sec: number;
    let ns = 0;
    if (n === 4) sec = v.getUint32(at);
    else if (n === 8) {
      const hi = v.getUint32(at);
      ns = hi >>> 2;
      sec = (hi & 3) * 2 ** 32 + v.getUint32(at + 4);
    } else if (n === 12) {
      ns = v.getUint32(at);
      sec = Number(v.getBigInt64(at + 4));
    } else throw new Error(`a timestamp of ${n} bytes at byte ${at} (must be 4, 8 or 12)`);
    return new Date(sec * 1000 + Math.floor(ns / 1e6));
  }
}

/** Decodes one msgpack value that fills `bytes` exactly. */
export function readMsgpack(bytes: Uint8Array): unknown {
  const r = new Reader(bytes);
  const value = r.value(0);
  if (r.p !== bytes.length) throw new Error(`${bytes.length - r.p} bytes after the value`);
  return value;
}
