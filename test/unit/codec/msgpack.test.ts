/**
 * drpc/msgpack: our encoder and decoder, byte for byte against the msgpack spec's formats, and
 * against msgpackr (an independent implementation, a devDependency) in both directions.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { msgpack } from '../../../src/codec/msgpack.ts';
import { DrpcError } from '../../../src/status.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const enc = (v: unknown) => hex(msgpack.encode(v));
const dec = (h: string) => msgpack.decode(Uint8Array.from(Buffer.from(h.replace(/\s/g, ''), 'hex')));
// int64AsType 'number': msgpackr's default gives bigints for every 64-bit integer; ours gives exact numbers.
const packr = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true, int64AsType: 'number' } as never);
const bad400 = (re: RegExp) => (e: unknown) => e instanceof DrpcError && e.code === 400 && re.test(e.message);

describe('msgpack encoding', () => {
  it('writes integers in the smallest format, with the boundaries of each', () => {
    const cases: [number, string][] = [
      [0, '00'],
      [127, '7f'],
      [128, 'cc80'],
      [255, 'ccff'],
      [256, 'cd0100'],
      [65535, 'cdffff'],
      [65536, 'ce00010000'],
      [2 ** 32 - 1, 'ceffffffff'],
      [2 ** 32, 'cf0000000100000000'],
      [Number.MAX_SAFE_INTEGER, 'cf001fffffffffffff'],
      [-1, 'ff'],
      [-32, 'e0'],
      [-33, 'd0df'],
      [-128, 'd080'],
      [-129, 'd1ff7f'],
      [-32768, 'd18000'],
      [-32769, 'd2ffff7fff'],
      [-(2 ** 31), 'd280000000'],
      [-(2 ** 31) - 1, 'd3ffffffff7fffffff'],
      [Number.MIN_SAFE_INTEGER, 'd3ffe0000000000001'],
    ];
    for (const [n, h] of cases) {
      assert.equal(enc(n), h, String(n));
      assert.equal(dec(h), n, h);
    }
  });

  it('writes other numbers as float64 and reads float32 too', () => {
    assert.equal(enc(1.5), 'cb3ff8000000000000');
    assert.equal(enc(2 ** 60), 'cb43b0000000000000'); // beyond 2^53 a number is not an exact integer
    assert.equal(dec('ca3fc00000'), 1.5);
    assert.ok(Number.isNaN(dec(enc(NaN))));
    assert.equal(dec(enc(-Infinity)), -Infinity);
  });

  it('writes strings as fixstr, str 8, 16 and 32 by their UTF-8 length', () => {
    assert.equal(enc(''), 'a0');
    assert.equal(enc('abc'), 'a3616263');
    assert.equal(enc('é'), 'a2c3a9');
    assert.equal(enc('😀'), 'a4f09f9880');
    assert.equal(enc('\ud800'), 'a3efbfbd'); // a lone surrogate becomes U+FFFD, as TextEncoder does
    assert.equal(enc('a'.repeat(31)).slice(0, 2), 'bf');
    assert.equal(enc('a'.repeat(32)).slice(0, 4), 'd920');
    assert.equal(enc('é'.repeat(20)).slice(0, 4), 'd928'); // 20 chars, 40 bytes
    assert.equal(enc('a'.repeat(256)).slice(0, 6), 'da0100');
    assert.equal(enc('a'.repeat(65536)).slice(0, 10), 'db00010000');
    for (const s of ['é'.repeat(11), 'x'.repeat(100) + '€', 'a'.repeat(65536), '😀'.repeat(20000)]) assert.equal(dec(enc(s)), s);
  });

  it('writes null, booleans, arrays, maps and bytes', () => {
    assert.equal(enc(null), 'c0');
    assert.equal(enc([true, false]), '92c3c2');
    assert.equal(enc({ a: 1 }), '81a16101');
    assert.equal(enc(new Uint8Array([1, 2])), 'c4020102');
    assert.equal(enc(Array(16).fill(0)).slice(0, 6), 'dc0010');
    assert.equal(enc(Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, i]))).slice(0, 6), 'de0010');
    assert.equal(enc(new Uint8Array(256)).slice(0, 6), 'c50100');
    assert.equal(enc(new Map([[1, 'a']])), '8101a161');
  });

  it('drops what JSON drops: undefined and functions in objects, null for them in arrays; honours toJSON', () => {
    assert.equal(enc({ a: undefined, b: 1, c: () => 1 }), '81a16201');
    assert.deepEqual(dec(enc([undefined, () => 1])), [null, null]);
    const many = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, i < 2 ? undefined : i]));
    assert.deepEqual(dec(enc(many)), JSON.parse(JSON.stringify(many))); // a map 16 whose count shrank to 15
    assert.deepEqual(dec(enc({ v: { toJSON: () => 'x' } })), { v: 'x' });
  });

  it('writes Dates as the timestamp extension (-1) in its 32, 64 and 96-bit forms', () => {
    assert.equal(enc(new Date(1_700_000_000_000)), 'd6ff6553f100');
    assert.equal(enc(new Date(1_700_000_000_123)).slice(0, 4), 'd7ff');
    assert.equal(enc(new Date(-1000)).slice(0, 6), 'c70cff');
    for (const ms of [0, 1_700_000_000_000, 1_700_000_000_123, -1000, -1, 2 ** 34 * 1000 + 7])
      assert.equal((dec(enc(new Date(ms))) as Date).getTime(), ms);
    assert.throws(() => msgpack.encode(new Date(NaN)), bad400(/cannot encode the body/));
  });

  it('writes bigints as 64-bit integers and reads 64-bit integers beyond 2^53 as bigints', () => {
    assert.equal(enc(5n), 'cf0000000000000005');
    assert.equal(enc(-5n), 'd3fffffffffffffffb');
    assert.equal(dec(enc(2n ** 64n - 1n)), 2n ** 64n - 1n);
    assert.equal(dec(enc(-(2n ** 63n))), -(2n ** 63n));
    assert.equal(dec(enc(5n)), 5);
    assert.throws(() => msgpack.encode(2n ** 64n), bad400(/cannot encode the body/));
  });

  it('reads keys that are not strings as their text, and __proto__ as an own key', () => {
    assert.deepEqual(dec('82 01 a161 c3 a162'), { 1: 'a', true: 'b' });
    const o = dec(enc(JSON.parse('{"__proto__":{"x":1}}'))) as Record<string, unknown>;
    assert.ok(Object.hasOwn(o, '__proto__'));
    assert.equal(Object.getPrototypeOf(o), Object.prototype);
  });

  it('reads bin as a plain Uint8Array copy, even from a Buffer', () => {
    const frame = Buffer.from('c403010203', 'hex');
    const out = msgpack.decode(frame) as Uint8Array;
    assert.equal(out.constructor, Uint8Array);
    frame[2] = 9;
    assert.deepEqual([...out], [1, 2, 3]);
  });

  it('reads invalid UTF-8 in a string as U+FFFD instead of failing the message', () => {
    assert.equal(dec('a3eda080'), '\ufffd\ufffd\ufffd');
  });

  it('refuses malformed bodies with a 400 saying what is wrong', () => {
    const cases: [string, RegExp][] = [
      ['92 01', /truncated/],
      ['a5 6162', /truncated/],
      ['cd 01', /truncated/],
      ['01 0203', /2 bytes after the value/],
      ['d4 01 02', /extension type 1 .* not supported/],
      ['c1', /0xc1/],
      ['dd ffffffff', /truncated: 4294967295 items/],
      ['d6 ff 000000', /truncated/],
      ['91'.repeat(1100) + '00', /nested deeper than 1000/],
    ];
    for (const [h, re] of cases) assert.throws(() => dec(h), bad400(re), h);
  });

  it('encodes a cycle as a 400, not a stack overflow', () => {
    const a: unknown[] = [];
    a.push(a);
    assert.throws(() => msgpack.encode(a), bad400(/cannot encode the body/));
    assert.match(
      (() => {
        try {
          msgpack.encode(a);
        } catch (e) {
          return (e as DrpcError).causeText;
        }
        return '';
      })(),
      /deeper than 1000/,
    );
  });

  it('encodes inside a toJSON that encodes (re-entrant) and after a huge body', () => {
    const inner = { toJSON: () => hex(msgpack.encode({ deep: 1 })) };
    assert.deepEqual(dec(enc({ inner })), { inner: '81a46465657001' });
    assert.equal((dec(enc('z'.repeat(3 << 20))) as string).length, 3 << 20);
    assert.equal(enc({ a: 1 }), '81a16101');
  });
});

describe('msgpack decoding of hostile bytes', () => {
  const only400 = (bytes: Uint8Array) => {
    try {
      msgpack.decode(bytes);
    } catch (e) {
      assert.ok(e instanceof DrpcError && e.code === 400, `a DrpcError 400, got ${String(e)}`);
    }
  };

  it('random bytes decode to a value or fail with 400, never anything else (property)', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), only400), { numRuns: 2000 });
  });

  it('valid bodies with bytes flipped or cut decode to a value or fail with 400 (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean(), (v, at, byte, cut) => {
        const b = new Uint8Array(msgpack.encode(v));
        if (b.length === 0) return;
        const i = at % b.length;
        if (cut) only400(b.subarray(0, i || 1));
        else {
          b[i] = byte;
          only400(b);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('a huge announced length fails at once, without allocating for it', () => {
    for (const h of ['db ffffffff', 'c6 ffffffff', 'df ffffffff', 'c9 ffffffff ff']) assert.throws(() => dec(h), bad400(/truncated/), h);
  });
});

describe('msgpack against msgpackr (an independent implementation)', () => {
  const values = fc.oneof(
    fc.jsonValue(),
    fc.dictionary(fc.string(), fc.oneof(fc.uint8Array(), fc.date({ noInvalidDate: true }), fc.integer(), fc.double({ noNaN: true }))),
  );

  it('msgpackr reads what we write', () => {
    fc.assert(
      fc.property(values, (v) => {
        assert.deepEqual(normal(packr.unpack(msgpack.encode(v))), normal(v)); // msgpackr gives Buffers on Node
      }),
      { numRuns: 300 },
    );
  });

  it('we read what msgpackr writes', () => {
    fc.assert(
      fc.property(values, (v) => {
        assert.deepEqual(msgpack.decode(packr.pack(v)), normal(v));
      }),
      { numRuns: 300 },
    );
  });
});

/** What a value looks like after a msgpack round trip: -0 as 0 (an integer), bytes as a plain Uint8Array. */
function normal(v: unknown): unknown {
  if (Object.is(v, -0)) return 0;
  if (v instanceof Uint8Array) return new Uint8Array(v);
  if (v instanceof Date || v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(normal);
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normal(x)]));
}
