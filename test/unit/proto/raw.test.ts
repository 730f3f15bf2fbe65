import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rawProto, erpcRawProto } from '../../../src/proto/raw.ts';
import { createMessage, MType, type Message } from '../../../src/message.ts';
import { DrpcError } from '../../../src/status.ts';
import { createFilters } from '../../../src/filter/index.ts';
import { bytes, frameHex, hex, text, unhex } from '../../helpers.ts';

const divide = () =>
  createMessage({ seq: 1, mtype: MType.Call, serviceMethod: '/p/divide', bodyCodec: 106, body: bytes('{"A":10,"B":2}') });

async function roundTrip(proto = rawProto(), m: Message): Promise<Message> {
  return proto.unpack(await proto.pack(m));
}

describe('raw proto (drpc dialect)', () => {
  it('packs the drpc-model.md golden CALL byte for byte (70 bytes)', async () => {
    const frame = (await rawProto().pack(divide())) as Uint8Array;
    assert.equal(
      hex(frame),
      frameHex(
        '00000046 01 00 01',
        { s: '1' },
        '01 09',
        { s: '/p/divide' },
        '001e',
        { s: '{"code":0,"msg":"","cause":""}' },
        '0002',
        { s: '{}' },
        '6a',
        {
          s: '{"A":10,"B":2}',
        },
      ),
    );
    assert.equal(frame.length, 70);
  });

  it('decodes the golden CALL back into every field', async () => {
    const golden = unhex(
      frameHex(
        '00000046 01 00 01',
        { s: '1' },
        '01 09',
        { s: '/p/divide' },
        '001e',
        { s: '{"code":0,"msg":"","cause":""}' },
        '0002',
        { s: '{}' },
        '6a',
        {
          s: '{"A":10,"B":2}',
        },
      ),
    );
    const m = await rawProto().unpack(golden);
    assert.equal(m.seq, 1);
    assert.equal(m.mtype, MType.Call);
    assert.equal(m.serviceMethod, '/p/divide');
    assert.deepEqual(m.status, { code: 0, msg: '', cause: '' });
    assert.deepEqual(m.meta, {});
    assert.equal(m.bodyCodec, 106);
    assert.equal(text(m.body), '{"A":10,"B":2}');
    assert.deepEqual(m.pipe, []);
    assert.equal(m.size, 70);
  });

  it('reads frames one after another as each was sent (the reader keeps the last service method)', async () => {
    const proto = rawProto();
    const methods = ['/chat/msg', '/chat/msg', '/chat/new', '/p', '', '/chat/msg', '/caf\u00e9/é', '/chat/msg'];
    for (const [i, serviceMethod] of methods.entries()) {
      const m = await roundTrip(proto, createMessage({ seq: 36 ** (i % 6), mtype: MType.Push, serviceMethod, body: bytes(`${i}`) }));
      assert.deepEqual([m.seq, m.serviceMethod, text(m.body)], [36 ** (i % 6), serviceMethod, `${i}`]);
    }
  });

  it('writes a negative seq as signed base-36 and an int32 extreme', async () => {
    for (const [seq, t] of [
      [-1, '-1'],
      [-2147483648, '-zik0zk'],
      [2147483647, 'zik0zj'],
      [36, '10'],
    ] as const) {
      const frame = (await rawProto().pack(createMessage({ seq, mtype: MType.Push, serviceMethod: '/a' }))) as Uint8Array;
      assert.equal(frame[6], t.length);
      assert.equal(text(frame.subarray(7, 7 + t.length)), t);
      assert.equal((await rawProto().unpack(frame)).seq, seq);
    }
  });

  it('accepts a 255-byte UTF-8 service method and refuses 256 with a 400', async () => {
    const m255 = '/' + 'é'.repeat(127); // 1 + 254 bytes
    assert.equal((await roundTrip(rawProto(), createMessage({ mtype: 1, serviceMethod: m255 }))).serviceMethod, m255);
    await assert.rejects(
      async () => rawProto().pack(createMessage({ mtype: 1, serviceMethod: m255 + 'x' })),
      (e: DrpcError) => e.code === 400 && /longer than 255/.test(e.message),
    );
  });

  it('writes meta as Go json.Marshal would (sorted keys, HTML escapes) and an error status', async () => {
    const m = createMessage({
      seq: 7,
      mtype: MType.Reply,
      status: { code: 404, msg: 'Not Found', cause: 'no route "/x"' },
      meta: { z: '1', a: '<&>', X_b: 'line\nbreak' },
    });
    const frame = (await rawProto().pack(m)) as Uint8Array;
    const body = text(frame);
    assert.ok(body.includes('{"code":404,"msg":"Not Found","cause":"no route \\"/x\\""}'));
    assert.ok(body.includes('{"X_b":"line\\nbreak","a":"\\u003c\\u0026\\u003e","z":"1"}'));
    const back = await rawProto().unpack(frame);
    assert.deepEqual(back.meta, m.meta);
    assert.deepEqual(back.status, m.status);
  });

  it('carries a large meta (60 KB) and refuses one over the u16 limit', async () => {
    const big = { k: 'v'.repeat(60_000) };
    assert.deepEqual((await roundTrip(rawProto(), createMessage({ mtype: 3, serviceMethod: '/m', meta: big }))).meta, big);
    await assert.rejects(
      async () => rawProto().pack(createMessage({ mtype: 3, meta: { k: 'v'.repeat(70_000) } })),
      (e: DrpcError) => e.code === 400 && /meta of \d+ bytes exceeds 65535/.test(e.message),
    );
  });

  it('puts the pipe ids in clear and filters the rest (gzip then md5 round trip)', async () => {
    const body = bytes(JSON.stringify({ text: 'hello '.repeat(200) }));
    const m = createMessage({ seq: 3, mtype: 1, serviceMethod: '/zip', bodyCodec: 106, body, pipe: [0x7a, 0x35] });
    const proto = rawProto({ filters: createFilters() });
    const frame = (await proto.pack(m)) as Uint8Array;
    assert.deepEqual([...frame.subarray(4, 8)], [1, 2, 0x7a, 0x35]);
    assert.ok(frame.length < body.length / 4, 'gzip compressed the payload');
    const back = await proto.unpack(frame);
    assert.deepEqual(back.pipe, [0x7a, 0x35]);
    assert.equal(text(back.body), text(body));
  });

  it('refuses a filter it was not given (the default is none), naming the filter and the fix', async () => {
    const m = createMessage({ seq: 3, mtype: 1, serviceMethod: '/zip', bodyCodec: 106, body: bytes('{}'), pipe: [0x7a] });
    const frame = (await rawProto({ filters: createFilters() }).pack(m)) as Uint8Array;
    await assert.rejects(
      async () => rawProto().unpack(frame),
      (e: DrpcError) => e.code === 400 && /^unsupported transfer filter id 122 \('z', gzip\): .*createFilters\(\)/.test(e.message),
    );
  });
});

describe('raw proto (erpc dialect)', () => {
  it('packs the erpc golden CALL (43 bytes, no version byte, urlencoded status)', async () => {
    const frame = (await erpcRawProto().pack(divide())) as Uint8Array;
    assert.equal(
      hex(frame),
      frameHex('0000002b 00 01', { s: '1' }, '01 09', { s: '/p/divide' }, '0006', { s: 'code=0' }, '0000', '6a', { s: '{"A":10,"B":2}' }),
    );
  });

  it('round-trips status and meta with query escaping', async () => {
    const m = createMessage({ seq: 9, mtype: 2, status: { code: 500, msg: 'boom here', cause: 'a&b=c' }, meta: { 'x y': '1/2' } });
    const frame = (await erpcRawProto().pack(m)) as Uint8Array;
    assert.ok(text(frame).includes('code=500&msg=boom%20here&cause=a%26b%3Dc'));
    const back = await erpcRawProto().unpack(frame);
    assert.deepEqual(back.status, m.status);
    assert.deepEqual(back.meta, m.meta);
  });
});
