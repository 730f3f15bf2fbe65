import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ACCEPT_BODY_CODEC,
  bytesCodec,
  CodecId,
  codecs,
  createCodecs,
  jsonCodec,
  plainCodec,
  protobufCodec,
  REAL_IP,
  replyCodec,
  type Codec,
} from '../../../src/codec/codec.ts';
import { msgpack, msgpackCodec } from '../../../src/codec/msgpack.ts';
import { Registry } from '../../../src/registry.ts';
import { Code, DrpcError } from '../../../src/status.ts';
import { bytes, text } from '../../helpers.ts';

const bad400 = (re: RegExp) => (e: unknown) => e instanceof DrpcError && e.code === 400 && re.test(e.message);
const BAD_UTF8 = new Uint8Array([0x22, 0xc3, 0x28, 0x22]); // "\xc3(" : a truncated 2-byte sequence

describe('codec ids', () => {
  it("are drpc's ASCII letters (j 106, p 112, s 115) plus ours (b 98, m 109)", () => {
    assert.deepEqual(
      [jsonCodec, plainCodec, protobufCodec, bytesCodec, msgpack].map((c) => [c.name, c.id, String.fromCharCode(c.id)]),
      [
        ['json', 106, 'j'],
        ['plain', 115, 's'],
        ['protobuf', 112, 'p'],
        ['bytes', 98, 'b'],
        ['msgpack', 109, 'm'],
      ],
    );
    assert.equal(CodecId.None, 0);
    assert.equal(ACCEPT_BODY_CODEC, 'X-Accept-Body-Codec');
    assert.equal(REAL_IP, 'X-Real-IP');
  });
});

describe('json codec', () => {
  it('encodes values as JSON text in UTF-8', () => {
    assert.equal(text(jsonCodec.encode({ A: 10, B: 2 })), '{"A":10,"B":2}');
    assert.equal(text(jsonCodec.encode('é😀')), '"é😀"');
    assert.equal(text(jsonCodec.encode(null)), 'null');
    assert.equal(text(jsonCodec.encode([1, false])), '[1,false]');
  });

  it('maps undefined to an empty body and an empty body back to undefined', () => {
    assert.equal(jsonCodec.encode(undefined).length, 0);
    assert.equal(jsonCodec.decode(new Uint8Array(0)), undefined);
    assert.equal(jsonCodec.decode(jsonCodec.encode(undefined)), undefined);
  });

  it('encodes what JSON cannot represent (a function) as an empty body', () => {
    assert.equal(jsonCodec.encode(() => 1).length, 0);
  });

  it('fails to encode a BigInt or a cycle with a 400', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    for (const v of [10n, cyclic]) assert.throws(() => jsonCodec.encode(v), bad400(/^json codec: cannot encode the body/));
  });

  it('decodes JSON text', () => {
    assert.deepEqual(jsonCodec.decode(bytes('{"A":10,"B":[true,null,"é"]}')), { A: 10, B: [true, null, 'é'] });
  });

  it('rejects bad JSON with a 400 naming the problem', () => {
    for (const t of ['{not json', '{"a":1', "'x'", '{"a":1}}'])
      assert.throws(() => jsonCodec.decode(bytes(t)), bad400(/^json codec: body is not valid JSON \(.+\)/), t);
  });

  it('rejects invalid UTF-8 with a 400', () => {
    assert.throws(() => jsonCodec.decode(BAD_UTF8), bad400(/json body is not valid UTF-8/));
  });

  it('round-trips any JSON value (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => assert.deepEqual(jsonCodec.decode(jsonCodec.encode(v)), JSON.parse(JSON.stringify(v)))),
      { numRuns: 200 },
    );
  });
});

describe('plain codec', () => {
  it('encodes strings as UTF-8 and numbers, booleans and bigints as their text', () => {
    assert.equal(text(plainCodec.encode('héllo')), 'héllo');
    assert.equal(text(plainCodec.encode(42.5)), '42.5');
    assert.equal(text(plainCodec.encode(true)), 'true');
    assert.equal(text(plainCodec.encode(12345678901234567890n)), '12345678901234567890');
  });

  it('passes bytes through and writes undefined and null as an empty body', () => {
    const b = new Uint8Array([1, 2, 3]);
    assert.equal(plainCodec.encode(b), b);
    assert.equal(plainCodec.encode(undefined).length, 0);
    assert.equal(plainCodec.encode(null).length, 0);
  });

  it('refuses objects with a 400 saying what it takes', () => {
    assert.throws(() => plainCodec.encode({ a: 1 }), bad400(/^plain codec: cannot encode a object; give a string/));
  });

  it('decodes to a string, 400 on invalid UTF-8', () => {
    assert.equal(plainCodec.decode(bytes('a\nb')), 'a\nb');
    assert.equal(plainCodec.decode(new Uint8Array(0)), '');
    assert.throws(() => plainCodec.decode(BAD_UTF8), bad400(/plain body is not valid UTF-8/));
  });
});

describe('protobuf and bytes codecs (bytes pass-through)', () => {
  for (const codec of [protobufCodec, bytesCodec]) {
    it(`${codec.name}: passes Uint8Array through both ways, untouched`, () => {
      const b = new Uint8Array([0x08, 0x96, 0x01, 0xff, 0x00]);
      assert.equal(codec.encode(b), b);
      assert.equal(codec.decode(b), b);
    });

    it(`${codec.name}: takes an ArrayBuffer and writes null/undefined as an empty body`, () => {
      assert.deepEqual([...codec.encode(new Uint8Array([7, 8]).buffer)], [7, 8]);
      assert.equal(codec.encode(undefined).length, 0);
      assert.equal(codec.encode(null).length, 0);
    });

    it(`${codec.name}: refuses anything else with a 400 naming the codec`, () => {
      for (const v of ['text', 1, { a: 1 }, [1, 2]])
        assert.throws(() => codec.encode(v), bad400(new RegExp(`^${codec.name} codec: expects a Uint8Array body`)));
    });
  }
});

describe('msgpack codec', () => {
  it('is id 109 (m), name msgpack; msgpackCodec() can take another id and name', () => {
    assert.equal(msgpack.id, 109);
    assert.equal(msgpack.name, 'msgpack');
    const custom = msgpackCodec({ id: 77, name: 'mp2' });
    assert.equal(custom.id, 77);
    assert.equal(custom.name, 'mp2');
  });

  it('round-trips nested objects, arrays, binary, unicode and numbers', () => {
    const v = {
      s: 'héllo 😀',
      n: [0, -1, 127, 128, -129, 65535, 2 ** 31 - 1, -(2 ** 31), 1.5, -0.25],
      nested: { deep: { deeper: [{ a: null, b: true, c: false }] } },
      bin: new Uint8Array([0, 1, 254, 255]),
      empty: { arr: [], obj: {}, str: '' },
    };
    const back = msgpack.decode(msgpack.encode(v)) as typeof v;
    assert.ok(back.bin instanceof Uint8Array); // a Buffer on Node
    assert.deepEqual({ ...back, bin: [...back.bin] }, { ...v, bin: [...v.bin] });
  });

  it('round-trips any JSON value (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const plain = JSON.parse(JSON.stringify(v));
        assert.deepEqual(msgpack.decode(msgpack.encode(plain)), plain);
      }),
      { numRuns: 200 },
    );
  });

  it('maps undefined to an empty body and an empty body back to undefined', () => {
    assert.equal(msgpack.encode(undefined).length, 0);
    assert.equal(msgpack.decode(new Uint8Array(0)), undefined);
  });

  it('rejects corrupt bytes with a 400: truncated, trailing data, unknown extension', () => {
    const corrupt = [
      [0x92, 0x01], // array of 2 with one element
      [0xa5, 0x61, 0x62], // 5-byte string with 2 bytes
      [0xcd, 0x01], // uint16 with one byte
      [0x01, 0x02, 0x03], // a value followed by garbage
      [0xd4, 0x01, 0x02], // fixext1 of an unregistered type
    ];
    for (const b of corrupt)
      assert.throws(() => msgpack.decode(new Uint8Array(b)), bad400(/^msgpack codec: body is not valid msgpack \(.+\)/), String(b));
  });

  it('fails to encode a cycle with a 400', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    assert.throws(() => msgpack.encode(cyclic), bad400(/^msgpack codec: cannot encode the body/));
  });
});

describe('codec registry', () => {
  it('the default registry holds json, plain, protobuf and bytes (msgpack is opt-in)', () => {
    assert.deepEqual([...codecs].map((c) => c.name).sort(), ['bytes', 'json', 'plain', 'protobuf']);
    assert.equal(codecs.get(109), undefined);
  });

  it('looks codecs up by id and by name', () => {
    const r = createCodecs(msgpack);
    assert.equal(r.get(106), jsonCodec);
    assert.equal(r.byName('msgpack'), msgpack);
    assert.equal(r.require(115), plainCodec);
    assert.equal(r.require('protobuf'), protobufCodec);
  });

  it('require of an unknown id or name is a 400 naming it (with the letter for an ASCII id)', () => {
    const r = createCodecs();
    assert.throws(() => r.require(200), bad400(/^unsupported body codec id 200$/));
    assert.throws(() => r.require(120), bad400(/^unsupported body codec id 120 \('x'\)$/));
    assert.throws(() => r.require('xml'), bad400(/^unsupported body codec "xml"$/));
  });

  it('refuses a codec whose id or name is taken by another (drpc panics on this)', () => {
    const r = createCodecs();
    const sameId: Codec = { ...jsonCodec, name: 'json2' };
    const sameName: Codec = { ...jsonCodec, id: 200 };
    for (const c of [sameId, sameName])
      assert.throws(
        () => r.register(c),
        (e: unknown) =>
          e instanceof DrpcError && e.code === Code.InvalidOp && /clashes with registered "json" \(id 106 \('j'\)\)/.test(e.message),
      );
    r.register(jsonCodec); // the same codec again is fine
    assert.equal(r.get(200), undefined);
  });

  it('refuses ids that are not a byte in 1-255', () => {
    const r = createCodecs();
    for (const id of [0, 256, -1, 1.5])
      assert.throws(
        () => r.register({ ...bytesCodec, id, name: `c${id}` }),
        (e: DrpcError) => e.code === Code.InvalidOp && /not a byte/.test(e.message),
      );
  });

  it('a clone can be extended without touching the original, and the other way round', () => {
    const base = createCodecs();
    const copy = base.clone();
    copy.register(msgpack);
    assert.equal(copy.get(109), msgpack);
    assert.equal(base.get(109), undefined);
    const late = msgpackCodec({ id: 200, name: 'late' });
    base.register(late);
    assert.equal(copy.get(200), undefined);
    assert.ok(copy instanceof Registry);
  });
});

describe('replyCodec (drpc ReplyBodyCodec)', () => {
  const r = createCodecs();

  it("takes the handler's choice over everything", () => {
    assert.equal(replyCodec(r, 106, '115', 112), 112);
  });

  it('then a valid X-Accept-Body-Codec (a registered id, as decimal text)', () => {
    assert.equal(replyCodec(r, 106, '115'), 115);
    assert.equal(replyCodec(r, 0, '98'), 98);
  });

  it('ignores an invalid, zero or unregistered X-Accept-Body-Codec and keeps the request codec', () => {
    for (const h of ['', '0', 'abc', '1.5', '256', '-106', '120', 'j', undefined]) assert.equal(replyCodec(r, 112, h), 112, String(h));
  });

  it('returns 0 when nothing applies (the caller then uses its default)', () => {
    assert.equal(replyCodec(r, 0, undefined), 0);
    assert.equal(replyCodec(r, 0, 'nope', 0), 0);
  });
});
