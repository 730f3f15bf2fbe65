/**
 * Round trips over random messages: every field survives pack → unpack on every proto, with every
 * codec and every combination of drpc's filters.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { rawProto, erpcRawProto } from '../../../src/proto/raw.ts';
import { jsonProto } from '../../../src/proto/json.ts';
import type { Proto } from '../../../src/proto/proto.ts';
import { createMessage, INT32_MAX, INT32_MIN, type Message } from '../../../src/message.ts';
import { createCodecs, type Codec } from '../../../src/codec/codec.ts';
import { msgpack } from '../../../src/codec/msgpack.ts';
import { createFilters } from '../../../src/filter/index.ts';
import type { Filter } from '../../../src/filter/filter.ts';
import { DrpcError } from '../../../src/status.ts';
import { bytes, hex, text } from '../../helpers.ts';

const GZIP = 0x7a;
const MD5 = 0x35;
const B64 = 0x62;
const PIPES: number[][] = [[], [GZIP], [MD5], [GZIP, MD5], [MD5, GZIP]];

/** A text-safe filter, so a pipe can travel inside the JSON sub-protocol's string body. */
const base64: Filter = {
  id: B64,
  name: 'base64',
  onPack: (d) => bytes(Buffer.from(d).toString('base64')),
  onUnpack: (d) => new Uint8Array(Buffer.from(text(d), 'base64')),
};
const filters = createFilters(base64);
const codecs = createCodecs(msgpack);

const protos: [string, Proto][] = [
  ['rawProto', rawProto({ filters })],
  ['erpcRawProto', erpcRawProto({ filters })],
  ['jsonProto', jsonProto({ filters })],
];

const str = (maxLength: number) => fc.string({ unit: 'binary', maxLength });
const key = fc.oneof(str(8), fc.constantFrom('__proto__', 'constructor', 'toString', 'X-Accept-Body-Codec', ''));
const anyBytes = fc.uint8Array({ maxLength: 600 });
const textBytes = str(200).map(bytes);

const message = (body: fc.Arbitrary<Uint8Array>, pipe: fc.Arbitrary<number[]>) =>
  fc.record({
    seq: fc.integer({ min: INT32_MIN, max: INT32_MAX }),
    mtype: fc.integer({ min: 0, max: 255 }),
    serviceMethod: str(60), // ≤ 240 bytes of UTF-8, under the raw proto's 255
    status: fc.record({ code: fc.integer({ min: INT32_MIN, max: INT32_MAX }), msg: str(30), cause: str(30) }, { noNullPrototype: true }),
    meta: fc.dictionary(key, str(20), { maxKeys: 6, noNullPrototype: true }),
    bodyCodec: fc.integer({ min: 0, max: 255 }),
    body,
    pipe,
  });

async function roundTrip(proto: Proto, m: Message): Promise<Message> {
  const frame = await proto.pack(m);
  const back = await proto.unpack(frame);
  assert.equal(back.size, frame.length, 'size is the frame length');
  assert.equal(m.size, frame.length, 'pack sets size too');
  return back;
}

const OK = { code: 0, msg: '', cause: '' };

/** `okOnlyCode`: the JSON sub-protocol's status key is written for non-OK statuses only (code 0 = OK). */
function assertSameMessage(back: Message, m: Message, okOnlyCode = false): void {
  assert.equal(back.seq, m.seq);
  assert.equal(back.mtype, m.mtype);
  assert.equal(back.serviceMethod, m.serviceMethod);
  assert.deepEqual(back.status, okOnlyCode && m.status.code === 0 ? OK : m.status);
  assert.deepEqual(Object.entries(back.meta).sort(), Object.entries(m.meta).sort());
  assert.equal(back.bodyCodec, m.bodyCodec);
  assert.equal(hex(back.body), hex(m.body));
  assert.deepEqual([...back.pipe], [...m.pipe]);
}

describe('every field round-trips (property)', () => {
  for (const [name, proto] of protos) {
    const json = name === 'jsonProto';
    const body = json ? textBytes : anyBytes;
    const pipe = json ? fc.constantFrom<number[]>([], [B64], [B64, B64]) : fc.constantFrom(...PIPES);
    it(`${name}${json ? ' (text bodies, text-safe pipes)' : ', all filter pipes'}`, async () => {
      await fc.assert(
        fc.asyncProperty(message(body, pipe), async (fields) => {
          const m = createMessage(fields);
          assertSameMessage(await roundTrip(proto, m), m, json);
        }),
        { numRuns: 150 },
      );
    });
  }

  it('jsonProto: a pipe with gzip always fails at pack with a clear 400; md5 alone round-trips or fails the same way', async () => {
    const proto = jsonProto({ filters });
    await fc.assert(
      fc.asyncProperty(message(textBytes, fc.constantFrom(...PIPES.slice(1))), async (fields) => {
        const m = createMessage(fields);
        let back: Message;
        try {
          back = await roundTrip(proto, m);
        } catch (e) {
          assert.ok(e instanceof DrpcError && e.code === 400 && /carries text bodies only/.test(e.message), String(e));
          return;
        }
        assert.deepEqual(m.pipe, [MD5], 'only a lucky md5 digest is valid UTF-8');
        assertSameMessage(back, m, true);
      }),
      { numRuns: 60 },
    );
  });
});

describe('every codec: encode → pack → unpack → decode (property)', () => {
  const values: [Codec, fc.Arbitrary<unknown>, (v: unknown) => unknown, boolean][] = [
    // codec, values, what decode gives back, travels in the JSON sub-protocol
    [codecs.require('json'), fc.jsonValue(), (v) => JSON.parse(JSON.stringify(v)), true],
    [codecs.require('plain'), str(100), (v) => v, true],
    [codecs.require('protobuf'), anyBytes, (v) => v, false],
    [codecs.require('bytes'), anyBytes, (v) => v, false],
    [msgpack, fc.jsonValue(), (v) => JSON.parse(JSON.stringify(v)), false],
  ];
  const norm = (v: unknown) => (v instanceof Uint8Array ? hex(v) : v);

  for (const [name, proto] of protos) {
    const json = name === 'jsonProto';
    for (const [codec, value, expect, textual] of values) {
      if (json && !textual) continue;
      it(`${name} × ${codec.name}`, async () => {
        await fc.assert(
          fc.asyncProperty(value, json ? fc.constantFrom<number[]>([], [B64]) : fc.constantFrom(...PIPES), async (v, pipe) => {
            const m = createMessage({ seq: 1, mtype: 1, serviceMethod: '/codec', bodyCodec: codec.id, body: codec.encode(v), pipe });
            const back = await roundTrip(proto, m);
            assert.equal(back.bodyCodec, codec.id);
            assert.deepEqual(norm(codecs.require(back.bodyCodec).decode(back.body)), norm(expect(v)));
          }),
          { numRuns: 40 },
        );
      });
    }
  }
});
