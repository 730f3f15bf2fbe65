import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RawFramer } from '../../../src/proto/framer.ts';
import { rawProto } from '../../../src/proto/raw.ts';
import { DEFAULT_MAX_FRAME } from '../../../src/proto/proto.ts';
import { createMessage, MType } from '../../../src/message.ts';
import { DrpcError } from '../../../src/status.ts';
import { bytes, hex, text } from '../../helpers.ts';

const bad400 = (re: RegExp) => (e: unknown) => e instanceof DrpcError && e.code === 400 && re.test(e.message);

/** A length-prefixed frame (u32 big-endian total length, including itself) around `payload`. */
function frameOf(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + payload.length);
  new DataView(out.buffer).setUint32(0, out.length);
  out.set(payload, 4);
  return out;
}

const u32 = (n: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
};

function concat(parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

/** Cuts `data` at the given offsets (sorted, deduplicated, inside the data). */
function cut(data: Uint8Array, offsets: number[]): Uint8Array[] {
  const points = [...new Set(offsets.map((o) => o % (data.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let at = 0;
  for (const p of points) {
    chunks.push(data.subarray(at, p));
    at = p;
  }
  chunks.push(data.subarray(at));
  return chunks;
}

describe('RawFramer', () => {
  it('splits frames across arbitrary chunk boundaries (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 120 }), { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (payloads, offsets) => {
          const frames = payloads.map(frameOf);
          const stream = concat(frames);
          const framer = new RawFramer();
          const out: Uint8Array[] = [];
          for (const chunk of cut(stream, offsets)) out.push(...framer.push(chunk));
          assert.deepEqual(out.map(hex), frames.map(hex));
          assert.equal(framer.buffered, 0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('delivers a frame byte by byte, and several frames from one chunk', () => {
    const frames = [frameOf(bytes('a')), frameOf(bytes('hello')), frameOf(new Uint8Array(300))];
    const stream = concat(frames);
    const framer = new RawFramer();
    const out: Uint8Array[] = [];
    for (let i = 0; i < stream.length; i++) {
      const got = framer.push(stream.subarray(i, i + 1));
      out.push(...got);
      if (i < 4) assert.equal(got.length, 0);
    }
    assert.deepEqual(out.map(hex), frames.map(hex));
    assert.deepEqual(new RawFramer().push(stream).map(hex), frames.map(hex));
  });

  it('reports the bytes it holds for an incomplete frame and ignores empty chunks', () => {
    const framer = new RawFramer();
    const f = frameOf(bytes('abcdef'));
    assert.deepEqual(framer.push(new Uint8Array(0)), []);
    assert.deepEqual(framer.push(f.subarray(0, 7)), []);
    assert.equal(framer.buffered, 7);
    assert.equal(text(framer.push(f.subarray(7))[0]!.subarray(4)), 'abcdef');
    assert.equal(framer.buffered, 0);
  });

  it('feeds rawProto: packed messages come out whole and unpack', async () => {
    const proto = rawProto();
    const msgs = [1, 2, 3].map((seq) =>
      createMessage({ seq, mtype: MType.Push, serviceMethod: `/m${seq}`, body: bytes('x'.repeat(seq * 50)) }),
    );
    const stream = concat(await Promise.all(msgs.map(async (m) => (await proto.pack(m)) as Uint8Array)));
    const framer = new RawFramer();
    const out = [...framer.push(stream.subarray(0, 33)), ...framer.push(stream.subarray(33, 34)), ...framer.push(stream.subarray(34))];
    const back = await Promise.all(out.map((f) => proto.unpack(f)));
    assert.deepEqual(
      back.map((m) => [m.seq, m.serviceMethod, m.body.length]),
      [
        [1, '/m1', 50],
        [2, '/m2', 100],
        [3, '/m3', 150],
      ],
    );
  });

  it('rejects a length over the max as soon as the 4 length bytes arrive, before the body is sent', () => {
    const framer = new RawFramer(1000);
    const head = u32(1001);
    for (let i = 0; i < 3; i++) assert.deepEqual(framer.push(head.subarray(i, i + 1)), []);
    assert.throws(() => framer.push(head.subarray(3)), bad400(/^frame of 1001 bytes exceeds the 1000-byte limit$/));
  });

  it('rejects a hostile 4 GiB length at once with the default 16 MiB limit', () => {
    assert.equal(DEFAULT_MAX_FRAME, 16 * 1024 * 1024);
    assert.throws(
      () => new RawFramer().push(u32(0xffffffff)),
      bad400(new RegExp(`^frame of ${0xffffffff} bytes exceeds the ${DEFAULT_MAX_FRAME}-byte limit$`)),
    );
  });

  it('rejects an over-long length that follows good frames in the same chunk', () => {
    const framer = new RawFramer(50);
    assert.throws(() => framer.push(concat([frameOf(bytes('ok')), u32(51)])), bad400(/^frame of 51 bytes exceeds the 50-byte limit$/));
  });

  it('accepts a frame of exactly the max', () => {
    const f = frameOf(new Uint8Array(96));
    assert.equal(new RawFramer(100).push(f).length, 1);
  });

  it('rejects lengths < 5 (no room for a header) with a 400 naming the length', () => {
    for (const n of [0, 1, 4]) {
      assert.throws(
        () => new RawFramer().push(u32(n)),
        bad400(new RegExp(`^raw frame length ${n} is smaller than its header$`)),
        `length ${n}`,
      );
    }
    assert.equal(new RawFramer().push(frameOf(new Uint8Array(1))).length, 1);
  });
});
