import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { md5, md5Filter, md5js } from '../../../src/filter/md5.ts';
import { gzip, gzipFilter } from '../../../src/filter/gzip.ts';
import { MAX_PIPE, packPipe, resolvePipe, unpackPipe, type Filter } from '../../../src/filter/filter.ts';
import { createFilters, filters } from '../../../src/filter/index.ts';
import { Code, DrpcError } from '../../../src/status.ts';
import { bytes, hex, text } from '../../helpers.ts';

const bad400 = (re: RegExp) => (e: unknown) => e instanceof DrpcError && e.code === 400 && re.test(e.message);
const nodeMd5 = (d: Uint8Array) => hex(createHash('md5').update(d).digest());
const LIMITS = { maxSize: 1 << 20 };

describe('md5', () => {
  const rfc1321: [string, string][] = [
    ['', 'd41d8cd98f00b204e9800998ecf8427e'],
    ['a', '0cc175b9c0f1b6a831c399e269772661'],
    ['abc', '900150983cd24fb0d6963f7d28e17f72'],
    ['message digest', 'f96b697d7cb7938d525a2f31aaf161d0'],
    ['abcdefghijklmnopqrstuvwxyz', 'c3fcd3d76192e4007dfb496cca67e13b'],
    ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 'd174ab98d277d9f5a5611c2c9f419d9f'],
    ['1234567890'.repeat(8), '57edf4a22be3c955ac49da2e2107b67a'],
  ];

  for (const [input, digest] of rfc1321) {
    it(`md5js matches the RFC 1321 test vector MD5(${JSON.stringify(input.length > 20 ? input.slice(0, 20) + '…' : input)})`, () => {
      assert.equal(hex(md5js(bytes(input))), digest);
      assert.equal(hex(md5(bytes(input))), digest);
    });
  }

  it('md5js equals node:crypto around the 64-byte block and padding boundaries', () => {
    for (const n of [1, 54, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000]) {
      const d = Uint8Array.from({ length: n }, (_, i) => (i * 131 + 7) & 0xff);
      assert.equal(hex(md5js(d)), nodeMd5(d), `length ${n}`);
    }
  });

  it('md5js equals node:crypto on random inputs (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (d) => assert.equal(hex(md5js(d)), nodeMd5(d))),
      { numRuns: 300 },
    );
  });
});

describe('md5 filter', () => {
  it("is drpc's '5' (0x35) named md5", () => {
    assert.equal(md5Filter.id, 0x35);
    assert.equal(md5Filter.name, 'md5');
  });

  it('appends the 16-byte digest on pack and verifies and strips it on unpack', async () => {
    const data = bytes('hello drpc');
    const packed = (await md5Filter.onPack(data)) as Uint8Array;
    assert.equal(packed.length, data.length + 16);
    assert.equal(text(packed.subarray(0, data.length)), 'hello drpc');
    assert.equal(hex(packed.subarray(data.length)), nodeMd5(data));
    assert.equal(text((await md5Filter.onUnpack(packed, LIMITS)) as Uint8Array), 'hello drpc');
  });

  it('handles empty data (the frame is just the digest)', async () => {
    const packed = (await md5Filter.onPack(new Uint8Array(0))) as Uint8Array;
    assert.equal(hex(packed), 'd41d8cd98f00b204e9800998ecf8427e');
    assert.equal(((await md5Filter.onUnpack(packed, LIMITS)) as Uint8Array).length, 0);
  });

  it('rejects any flipped bit, in the data or the digest, with 400 "digest mismatch"', async () => {
    const packed = (await md5Filter.onPack(bytes('some payload'))) as Uint8Array;
    for (let bit = 0; bit < packed.length * 8; bit += 5) {
      const copy = packed.slice();
      copy[bit >> 3]! ^= 1 << (bit & 7);
      assert.throws(() => md5Filter.onUnpack(copy, LIMITS), bad400(/^md5 filter: digest mismatch/), `bit ${bit}`);
    }
  });

  it('rejects data shorter than a digest with a 400 saying so', () => {
    for (const n of [0, 1, 15])
      assert.throws(
        () => md5Filter.onUnpack(new Uint8Array(n), LIMITS),
        bad400(new RegExp(`^md5 filter: data of ${n} bytes has no 16-byte digest`)),
      );
  });
});

describe('gzip filter', () => {
  const zlibGzip = gzipFilter();
  const webGzip = gzipFilter({ webStreams: true });
  const impls: [string, Filter][] = [
    ['zlib', zlibGzip],
    ['CompressionStream', webGzip],
  ];
  const sample = bytes(JSON.stringify({ text: 'hello drpc '.repeat(300), n: [1, 2, 3] }));

  it("is drpc's 'z' (0x7a) named gzip; the shared instance is the zlib one", () => {
    for (const f of [gzip, zlibGzip, webGzip]) {
      assert.equal(f.id, 0x7a);
      assert.equal(f.name, 'gzip');
    }
  });

  it('the zlib path answers synchronously, the web streams path with a promise', () => {
    assert.ok(zlibGzip.onPack(sample) instanceof Uint8Array);
    const p = webGzip.onPack(sample);
    assert.ok(p instanceof Promise);
    return p.then(() => {});
  });

  for (const [name, f] of impls) {
    it(`${name}: round-trips and really compresses, writing standard gzip`, async () => {
      const packed = await f.onPack(sample);
      assert.deepEqual([...packed.subarray(0, 2)], [0x1f, 0x8b]);
      assert.ok(packed.length < sample.length / 10);
      assert.equal(text(new Uint8Array(zlib.gunzipSync(packed))), text(sample));
      assert.equal(text(await f.onUnpack(packed, LIMITS)), text(sample));
    });

    it(`${name}: round-trips empty and random data (property)`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ maxLength: 2000 }), async (d) => {
          assert.deepEqual([...(await f.onUnpack(await f.onPack(d), LIMITS))], [...d]);
        }),
        { numRuns: 40 },
      );
    });

    it(`${name}: rejects corrupt gzip with 400 "corrupt gzip"`, async () => {
      const good = await f.onPack(sample);
      const flipped = good.slice();
      flipped[20]! ^= 0xff;
      const cases = [new Uint8Array(0), bytes('definitely not gzip'), good.subarray(0, good.length - 9), flipped];
      for (const c of cases) await assert.rejects(async () => f.onUnpack(c, LIMITS), bad400(/^gzip filter: corrupt gzip data/));
    });

    it(`${name}: refuses to inflate past limits.maxSize with a 400 naming the limit, and allows exactly the limit`, async () => {
      const bomb = new Uint8Array(zlib.gzipSync(new Uint8Array(100_000)));
      assert.ok(bomb.length < 1000);
      await assert.rejects(
        async () => f.onUnpack(bomb, { maxSize: 99_999 }),
        bad400(/^gzip filter: inflated data exceeds the 99999-byte frame limit/),
      );
      await assert.rejects(async () => f.onUnpack(bomb, { maxSize: 4096 }), bad400(/exceeds the 4096-byte frame limit/));
      assert.equal((await f.onUnpack(bomb, { maxSize: 100_000 })).length, 100_000);
    });
  }

  it('the two implementations read each other (cross-compatible)', async () => {
    assert.equal(text(await webGzip.onUnpack(await zlibGzip.onPack(sample), LIMITS)), text(sample));
    assert.equal(text(await zlibGzip.onUnpack(await webGzip.onPack(sample), LIMITS)), text(sample));
  });

  it('takes a compression level (zlib)', async () => {
    const random = Uint8Array.from({ length: 20_000 }, (_, i) => (i * i * 7919) % 251);
    const fast = (await gzipFilter({ level: 1 }).onPack(random)).length;
    const best = (await gzipFilter({ level: 9 }).onPack(random)).length;
    assert.ok(best < fast, `level 9 (${best}) smaller than level 1 (${fast})`);
  });
});

/** A filter that wraps data in [tag, …data, tag] and records what it was asked to do. */
function recorder(id: number, name: string, log: string[], async = false): Filter {
  const wrap = (d: Uint8Array) => Uint8Array.from([id, ...d, id]);
  const unwrap = (d: Uint8Array) => {
    if (d[0] !== id || d[d.length - 1] !== id) throw new Error(`${name} layer not outermost`);
    return d.subarray(1, d.length - 1);
  };
  return {
    id,
    name,
    onPack: (d) => (log.push(`pack ${name}`), async ? Promise.resolve(wrap(d)) : wrap(d)),
    onUnpack: (d) => (log.push(`unpack ${name}`), async ? Promise.resolve().then(() => unwrap(d)) : unwrap(d)),
  };
}

describe('filter pipe', () => {
  it('packs last → first and unpacks first → last, so ids[0] is the outermost layer', async () => {
    const log: string[] = [];
    const reg = createFilters(recorder(1, 'A', log), recorder(2, 'B', log), recorder(3, 'C', log));
    const pipe = resolvePipe(reg, [1, 2, 3]);
    const packed = (await packPipe(pipe, bytes('x'))) as Uint8Array;
    assert.deepEqual([...packed], [1, 2, 3, 0x78, 3, 2, 1]);
    assert.deepEqual(log, ['pack C', 'pack B', 'pack A']);
    log.length = 0;
    assert.equal(text(await unpackPipe(pipe, packed, LIMITS)), 'x');
    assert.deepEqual(log, ['unpack A', 'unpack B', 'unpack C']);
  });

  it('layers the real filters the same way: [gzip, md5] is gzip outside, [md5, gzip] md5 outside', async () => {
    const data = bytes('layer '.repeat(100));
    const gzOut = (await packPipe(resolvePipe(filters, [0x7a, 0x35]), data)) as Uint8Array;
    assert.deepEqual([...gzOut.subarray(0, 2)], [0x1f, 0x8b]);
    const inner = new Uint8Array(zlib.gunzipSync(gzOut));
    assert.equal(hex(inner.subarray(inner.length - 16)), nodeMd5(data));
    const md5Out = (await packPipe(resolvePipe(filters, [0x35, 0x7a]), data)) as Uint8Array;
    const body = md5Out.subarray(0, md5Out.length - 16);
    assert.deepEqual([...body.subarray(0, 2)], [0x1f, 0x8b]);
    assert.equal(hex(md5Out.subarray(md5Out.length - 16)), nodeMd5(body));
    for (const [pipe, packed] of [
      [[0x7a, 0x35], gzOut],
      [[0x35, 0x7a], md5Out],
    ] as const)
      assert.equal(text(await unpackPipe(resolvePipe(filters, pipe), packed, LIMITS)), text(data));
  });

  it('stays synchronous while every filter is, and goes async from the first async filter', async () => {
    const log: string[] = [];
    const reg = createFilters(recorder(1, 'A', log), recorder(2, 'B', log, true));
    const sync = resolvePipe(reg, [1, 0x35]);
    const packedSync = packPipe(sync, bytes('s'));
    assert.ok(packedSync instanceof Uint8Array);
    assert.ok(unpackPipe(sync, packedSync, LIMITS) instanceof Uint8Array);
    const mixed = resolvePipe(reg, [1, 2, 1]);
    const p = packPipe(mixed, bytes('m'));
    assert.ok(p instanceof Promise);
    const packed = await p;
    assert.deepEqual([...packed], [1, 2, 1, 0x6d, 1, 2, 1]);
    assert.equal(text(await unpackPipe(mixed, packed, LIMITS)), 'm');
  });

  it('passes limits to every unpack step', async () => {
    const seen: number[] = [];
    const spy: Filter = { id: 9, name: 'spy', onPack: (d) => d, onUnpack: (d, l) => (seen.push(l.maxSize), d) };
    await unpackPipe(resolvePipe(createFilters(spy), [9, 9]), bytes('d'), { maxSize: 1234 });
    assert.deepEqual(seen, [1234, 1234]);
  });

  it('refuses an unknown id with a 400 naming it, and more than 255 ids', () => {
    assert.throws(() => resolvePipe(filters, [0x7a, 0x61]), bad400(/^unsupported transfer filter id 97$/));
    assert.equal(MAX_PIPE, 255);
    assert.equal(resolvePipe(filters, Array(255).fill(0x35)).length, 255);
    assert.throws(() => resolvePipe(filters, Array(256).fill(0x35)), bad400(/^filter pipe has 256 ids, max 255/));
  });

  it('turns a filter failure, thrown or rejected, into a 400 naming the filter and the step', async () => {
    const broken: Filter = {
      id: 10,
      name: 'broken',
      onPack: () => {
        throw new Error('no space');
      },
      onUnpack: () => Promise.reject(new TypeError('bad block')),
    };
    const pipe = resolvePipe(createFilters(broken), [10]);
    assert.throws(() => packPipe(pipe, bytes('x')), bad400(/^broken filter: pack failed: no space$/));
    await assert.rejects(async () => unpackPipe(pipe, bytes('x'), LIMITS), bad400(/^broken filter: unpack failed: bad block$/));
  });

  it("passes a filter's own DrpcError through unchanged", () => {
    const own = new DrpcError(401, 'denied by filter');
    const strict: Filter = { id: 11, name: 'strict', onPack: (d) => d, onUnpack: () => Promise.reject(own) };
    return assert.rejects(
      async () => unpackPipe(resolvePipe(createFilters(strict), [11]), bytes('x'), LIMITS),
      (e) => e === own,
    );
  });
});

describe('filter registry', () => {
  it('the shared registry holds exactly gzip and md5 (drpc registers aes only on demand)', () => {
    assert.deepEqual([...filters].map((f) => f.name).sort(), ['gzip', 'md5']);
    assert.equal(filters.get(0x7a), gzip);
    assert.equal(filters.byName('md5'), md5Filter);
  });

  it('takes custom filters, refusing one whose id or name clashes', () => {
    const log: string[] = [];
    const custom = recorder(0x61, 'aes-ish', log);
    const reg = createFilters(custom);
    assert.equal(reg.require(0x61), custom);
    assert.equal(filters.get(0x61), undefined);
    assert.throws(
      () => reg.register(recorder(0x7a, 'other', log)),
      (e: DrpcError) =>
        e.code === Code.InvalidOp && /transfer filter "other" \(id 122 \('z'\)\) clashes with registered "gzip"/.test(e.message),
    );
    assert.throws(() => reg.require(0x62), bad400(/^unsupported transfer filter id 98 \('b'\)$/));
  });
});
