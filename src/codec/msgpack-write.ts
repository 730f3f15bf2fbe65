/**
 * msgpack encoding (https://github.com/msgpack/msgpack/blob/master/spec.md), written for drpc bodies:
 * what JSON.stringify would encode (undefined and functions dropped from objects, null in arrays,
 * toJSON honoured), plus bytes as bin, Dates as the timestamp extension (-1), Maps with any keys and
 * bigints as 64-bit integers. Safe integers take the smallest integer format; other numbers (beyond
 * 2^53 too: not exact as integers) are float64, so a value bound for a Go int64 field is a bigint.
 * One growing scratch buffer per process: each body is written there, then copied out exactly.
 */
import { allocBytes } from '../alloc.ts';

const MAX_DEPTH = 1000;
const KEEP = 1 << 20; // a scratch grown past this by one huge body goes back to the start size after it
const encoder = new TextEncoder();

class Writer {
  b = new Uint8Array(8192);
  v = new DataView(this.b.buffer);
  p = 0;
  busy = false;

  room(n: number): void {
    if (this.p + n <= this.b.length) return;
    const next = new Uint8Array(Math.max(this.p + n, this.b.length * 2));
    next.set(this.b.subarray(0, this.p));
    this.b = next;
    this.v = new DataView(next.buffer);
  }

  /** A type byte and a big-endian length of `size` bytes (0: the length is in the type byte). */
  head(type: number, size: number, n: number): void {
    this.room(5);
    this.b[this.p++] = type;
    if (size === 1) this.b[this.p++] = n;
    else if (size === 2) this.v.setUint16((this.p += 2) - 2, n);
    else if (size === 4) this.v.setUint32((this.p += 4) - 4, n);
  }

  /** Picks fix / 8 / 16 / 32-bit form for a length (`fix`: the fix form's base and limit, 0 when none). */
  len(n: number, fix: number, fixMax: number, t8: number, t16: number): void {
    if (n < fixMax) this.head(fix | n, 0, 0);
    else if (t8 && n < 256) this.head(t8, 1, n);
    else if (n < 65536) this.head(t16, 2, n);
    else this.head(t16 + 1, 4, n);
  }

  value(x: unknown, depth: number): void {
    switch (typeof x) {
      case 'string':
        return this.str(x);
      case 'number':
        return Number.isInteger(x) ? this.int(x) : this.float(x);
      case 'boolean':
        return this.head(x ? 0xc3 : 0xc2, 0, 0);
      case 'bigint':
        return this.big(x);
      case 'object':
        if (x === null) return this.head(0xc0, 0, 0);
        if (depth > MAX_DEPTH) throw new Error(`nesting deeper than ${MAX_DEPTH} levels (a cycle?)`);
        return this.object(x, depth + 1);
      case 'undefined':
      case 'function':
      case 'symbol':
        return this.head(0xc0, 0, 0); // as JSON writes them inside arrays
    }
  }

  int(n: number): void {
    if (n >= 0) {
      if (n < 128) return this.head(n, 0, 0);
      if (n < 256) return this.head(0xcc, 1, n);
      if (n < 65536) return this.head(0xcd, 2, n);
      if (n < 2 ** 32) return this.head(0xce, 4, n);
      if (n <= Number.MAX_SAFE_INTEGER) return this.u64(0xcf, Math.floor(n / 2 ** 32), n >>> 0);
    } else {
      if (n >= -32) return this.head(n & 0xff, 0, 0);
      if (n >= -128) return this.head(0xd0, 1, n & 0xff);
      if (n >= -32768) return this.head(0xd1, 2, n & 0xffff);
      if (n >= -(2 ** 31)) return this.head(0xd2, 4, n >>> 0);
      if (n >= Number.MIN_SAFE_INTEGER) return this.u64(0xd3, Math.floor(n / 2 ** 32) >>> 0, n >>> 0);
    }
    this.float(n); // beyond 2^53 a number is not exact anyway
  }

  u64(type: number, hi: number, lo: number): void {
    this.head(type, 4, hi);
    this.room(4);
    this.v.setUint32((this.p += 4) - 4, lo);
  }

  float(n: number): void {
    this.room(9);
    this.b[this.p++] = 0xcb;
    this.v.setFloat64((this.p += 8) - 8, n);
  }

  big(n: bigint): void {
    if (n < -(2n ** 63n) || n >= 2n ** 64n) throw new Error(`bigint ${n} does not fit in 64 bits`);
    const type = n < 0n ? 0xd3 : 0xcf;
    const u = BigInt.asUintN(64, n);
    this.u64(type, Number(u >> 32n), Number(u & 0xffffffffn));
  }

  str(s: string): void {
    const n = s.length;
    if (n < 64) {
      // Short ASCII (keys, most values): written by hand behind its header, in one pass.
      const hs = n < 32 ? 1 : 2;
      this.room(hs + n);
      const b = this.b;
      const at = this.p + hs;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) break;
        b[at + i] = c;
      }
      if (i === n) {
        if (hs === 1) b[this.p] = 0xa0 | n;
        else {
          b[this.p] = 0xd9;
          b[this.p + 1] = n;
        }
        this.p = at + n;
        return;
      }
    }
    const max = n * 3; // UTF-8 bytes at most
    const hs = max < 32 ? 1 : max < 256 ? 2 : max < 65536 ? 3 : 5;
    this.room(hs + max + 5); // + 5: len() below asks for room for a header, which must not move the bytes
    const start = this.p + hs;
    const len = encoder.encodeInto(s, this.b.subarray(start)).written; // lone surrogates become U+FFFD
    // The header's size was chosen for the worst case; a shorter string moves back next to a smaller one.
    const need = len < 32 ? 1 : len < 256 ? 2 : len < 65536 ? 3 : 5;
    if (need < hs) this.b.copyWithin(this.p + need, start, start + len);
    this.len(len, 0xa0, 32, 0xd9, 0xda);
    this.p += len;
  }

  object(x: object, depth: number): void {
    if (Array.isArray(x)) {
      this.len(x.length, 0x90, 16, 0, 0xdc);
      for (const item of x) this.value(item, depth);
    } else if (ArrayBuffer.isView(x) || x instanceof ArrayBuffer) {
      const bytes = x instanceof ArrayBuffer ? new Uint8Array(x) : new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
      this.len(bytes.length, 0, 0, 0xc4, 0xc5);
      this.room(bytes.length);
      this.b.set(bytes, this.p);
      this.p += bytes.length;
    } else if (x instanceof Date) this.date(x);
    else if (x instanceof Map) {
      this.len(x.size, 0x80, 16, 0, 0xde);
      for (const [k, v] of x) {
        this.value(k, depth);
        this.value(v, depth);
      }
    } else if (typeof (x as { toJSON?: unknown }).toJSON === 'function') this.value((x as { toJSON(): unknown }).toJSON(), depth);
    else this.map(x as Record<string, unknown>, depth);
  }

  /** A plain object's own enumerable string keys, minus those JSON would drop (undefined, functions, symbols). */
  map(o: Record<string, unknown>, depth: number): void {
    const keys = Object.keys(o);
    // One pass: the header is written for every key, then its count lowered if some were skipped
    // (the header keeps its size, so a map of 16+ keys that shrinks below 16 stays a valid map 16).
    const n = keys.length;
    const at = this.p;
    this.len(n, 0x80, 16, 0, 0xde);
    let written = 0;
    for (const k of keys) {
      const v = o[k];
      if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
      this.str(k);
      this.value(v, depth);
      written++;
    }
    if (written === n) return;
    if (n < 16) this.b[at] = 0x80 | written;
    else if (n < 65536) this.v.setUint16(at + 1, written);
    else this.v.setUint32(at + 1, written);
  }

  /** The timestamp extension (type -1) in its 32, 64 or 96-bit form. */
  date(d: Date): void {
    const ms = d.getTime();
    if (Number.isNaN(ms)) throw new Error('an invalid Date has no timestamp');
    const sec = Math.floor(ms / 1000);
    const ns = (ms - sec * 1000) * 1e6;
    this.room(15);
    const { b, v, p } = this;
    if (ns === 0 && sec >= 0 && sec < 2 ** 32) {
      b[p] = 0xd6; // fixext 4
      b[p + 1] = 0xff;
      v.setUint32(p + 2, sec);
      this.p += 6;
    } else if (sec >= 0 && sec < 2 ** 34) {
      b[p] = 0xd7; // fixext 8: 30 bits of nanoseconds, 34 of seconds
      b[p + 1] = 0xff;
      v.setUint32(p + 2, ns * 4 + Math.floor(sec / 2 ** 32));
      v.setUint32(p + 6, sec >>> 0);
      this.p += 10;
    } else {
      b[p] = 0xc7; // ext 8 of 12 bytes
      b[p + 1] = 12;
      b[p + 2] = 0xff;
      v.setUint32(p + 3, ns);
      v.setBigInt64(p + 7, BigInt(sec));
      this.p += 15;
    }
  }
}

let shared = new Writer();

/** Encodes one value as msgpack; throws an Error naming what could not be encoded. */
export function writeMsgpack(value: unknown): Uint8Array {
  // A getter or toJSON that encodes while we encode gets a writer of its own.
  const w = shared.busy ? new Writer() : shared;
  w.busy = true;
  w.p = 0;
  try {
    w.value(value, 0);
    const out = allocBytes(w.p);
    out.set(w.b.subarray(0, w.p));
    return out;
  } finally {
    w.busy = false;
    if (w === shared && w.b.length > KEEP) shared = new Writer();
  }
}
