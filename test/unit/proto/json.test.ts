import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { jsonProto } from '../../../src/proto/json.ts';
import { createMessage, MType, type Message } from '../../../src/message.ts';
import { createFilters } from '../../../src/filter/index.ts';
import type { Filter } from '../../../src/filter/filter.ts';
import { DrpcError } from '../../../src/status.ts';
import { bytes, text } from '../../helpers.ts';

const bad400 = (re: RegExp) => (e: unknown) => e instanceof DrpcError && e.code === 400 && re.test(e.message);

// drpc-model.md §3.5, written by DMicro's jsonSubProto.
const GOLDEN = '{"seq":1,"mtype":1,"serviceMethod":"/p/divide","meta":"{}","bodyCodec":106,"body":"{\\"A\\":10,\\"B\\":2}","ptf":[]}';

const divide = () =>
  createMessage({ seq: 1, mtype: MType.Call, serviceMethod: '/p/divide', bodyCodec: 106, body: bytes('{"A":10,"B":2}') });

const unpack = async (frame: string | Uint8Array, proto = jsonProto({ filters: createFilters() })) => proto.unpack(frame);

/** A text-safe filter: base64 of the data (lets a pipe travel inside the JSON string body). */
const base64: Filter = {
  id: 0x62,
  name: 'base64',
  onPack: (d) => bytes(Buffer.from(d).toString('base64')),
  onUnpack: (d) => new Uint8Array(Buffer.from(text(d), 'base64')),
};

describe('json sub-protocol: the golden frame', () => {
  it('packs the drpc-model.md §3.5 CALL exactly', async () => {
    const m = divide();
    const frame = await jsonProto().pack(m);
    assert.equal(frame, GOLDEN);
    assert.equal(m.size, GOLDEN.length);
  });

  it('unpacks the golden CALL into every field', async () => {
    const m = await unpack(GOLDEN);
    assert.equal(m.seq, 1);
    assert.equal(m.mtype, MType.Call);
    assert.equal(m.serviceMethod, '/p/divide');
    assert.deepEqual(m.status, { code: 0, msg: '', cause: '' });
    assert.deepEqual(m.meta, {});
    assert.equal(m.bodyCodec, 106);
    assert.equal(text(m.body), '{"A":10,"B":2}');
    assert.deepEqual(m.pipe, []);
    assert.equal(m.size, GOLDEN.length);
  });

  it('is a text proto with id j', () => {
    const p = jsonProto();
    assert.equal(p.id, 0x6a);
    assert.equal(p.name, 'json');
    assert.equal(p.binary, false);
  });

  it('also unpacks the frame as UTF-8 bytes (a binary WebSocket message)', async () => {
    assert.equal(text((await unpack(bytes(GOLDEN))).body), '{"A":10,"B":2}');
  });
});

describe('json sub-protocol: frames written by Go', () => {
  it('decodes a body where Go escaped only the quotes (<, >, &, non-ASCII left raw)', async () => {
    const frame =
      '{"seq":7,"mtype":3,"serviceMethod":"/chat/msg","meta":"{\\"k\\":\\"v\\"}","bodyCodec":106,"body":"{\\"t\\":\\"<b>&é😀\\"}","ptf":[]}';
    const m = await unpack(frame);
    assert.equal(text(m.body), '{"t":"<b>&é😀"}');
    assert.deepEqual(m.meta, { k: 'v' });
  });

  it('decodes raw control characters Go leaves in a body (a plain-codec text with newlines and tabs)', async () => {
    const frame = '{"seq":1,"mtype":3,"serviceMethod":"/log","meta":"{}","bodyCodec":115,"body":"line1\nline2\tend\r\n","ptf":[]}';
    assert.ok(frame.includes('\n')); // a raw newline, not an escape: invalid JSON, but what Go writes
    assert.equal(text((await unpack(frame)).body), 'line1\nline2\tend\r\n');
  });

  it("decodes strconv.Quote's escapes (%q) in serviceMethod and meta: \\x7f, \\a, \\U000e0067", async () => {
    const frame =
      '{"seq":1,"mtype":3,"serviceMethod":"/flag\\U000e0067\\a","meta":"{\\"k\\":\\"a\\x7fb\\"}","bodyCodec":115,"body":"x","ptf":[]}';
    const m = await unpack(frame);
    assert.equal(m.serviceMethod, '/flag\u{e0067}\x07');
    assert.deepEqual(m.meta, { k: 'a\x7fb' });
  });

  it('decodes meta sent as a JSON object (drpc reads it with gconv.Map), non-string values as JSON text', async () => {
    const m = await unpack(
      '{"seq":2,"mtype":1,"serviceMethod":"/a","meta":{"X-Real-IP":"1.2.3.4","n":5},"bodyCodec":0,"body":"","ptf":[]}',
    );
    assert.deepEqual(m.meta, { 'X-Real-IP': '1.2.3.4', n: '5' });
  });

  it('decodes numbers written as strings (gjson converts them)', async () => {
    const m = await unpack('{"seq":"-5","mtype":"2","serviceMethod":"","meta":"{}","bodyCodec":"115","body":"hi","ptf":[]}');
    assert.equal(m.seq, -5);
    assert.equal(m.mtype, 2);
    assert.equal(m.bodyCodec, 115);
  });

  it('reads missing fields as drpc zero values (seq 0, empty method, empty meta, no pipe)', async () => {
    const m = await unpack('{"mtype":3}');
    assert.equal(m.seq, 0);
    assert.equal(m.serviceMethod, '');
    assert.deepEqual(m.meta, {});
    assert.equal(m.bodyCodec, 0);
    assert.equal(m.body.length, 0);
    assert.deepEqual(m.pipe, []);
  });

  it("ignores erpc's empty query meta and unknown keys", async () => {
    const m = await unpack('{"seq":1,"mtype":1,"serviceMethod":"/x","meta":"","bodyCodec":106,"body":"1","xferPipe":[],"extra":true}');
    assert.deepEqual(m.meta, {});
    assert.equal(text(m.body), '1');
  });
});

describe('json sub-protocol: status extension', () => {
  const failed = () =>
    createMessage({ seq: 9, mtype: MType.Reply, status: { code: 404, msg: 'Not Found', cause: 'no route "/x"' }, meta: { a: '<' } });

  it('adds a "status" key (status JSON as a string) on non-OK messages only', async () => {
    assert.ok(!(await jsonProto().pack(divide())).toString().includes('"status"'));
    const frame = await jsonProto().pack(failed());
    assert.equal(
      frame,
      '{"seq":9,"mtype":2,"status":"{\\"code\\":404,\\"msg\\":\\"Not Found\\",\\"cause\\":\\"no route \\\\\\"/x\\\\\\"\\"}","serviceMethod":"","meta":"{\\"a\\":\\"\\\\u003c\\"}","bodyCodec":0,"body":"","ptf":[]}',
    );
    const back = await unpack(frame);
    assert.deepEqual(back.status, failed().status);
    assert.deepEqual(back.meta, { a: '<' });
  });

  it('leaves the key out when statusExtension is false (plain drpc: the error is lost)', async () => {
    const frame = (await jsonProto({ statusExtension: false }).pack(failed())) as string;
    assert.ok(!frame.includes('status'));
    assert.deepEqual((await unpack(frame)).status, { code: 0, msg: '', cause: '' });
  });

  it('reads a status given as an object too', async () => {
    const m = await unpack('{"seq":1,"mtype":2,"status":{"code":401,"msg":"Unauthorized","cause":"x"}}');
    assert.deepEqual(m.status, { code: 401, msg: 'Unauthorized', cause: 'x' });
  });

  it('reads a null status as OK', async () => {
    assert.deepEqual((await unpack('{"seq":1,"mtype":2,"status":null}')).status, { code: 0, msg: '', cause: '' });
  });
});

describe('json sub-protocol: bodies and filters', () => {
  it('escapes bodies fully (backslashes, controls), unlike Go, so they survive', async () => {
    const body = '{"path":"C:\\\\dir","nl":"a\\nb"}\n\t\u0001';
    const m = createMessage({ seq: 3, mtype: 1, serviceMethod: '/s', bodyCodec: 115, body: bytes(body) });
    const frame = (await jsonProto().pack(m)) as string;
    assert.doesNotThrow(() => JSON.parse(frame));
    assert.equal(text((await unpack(frame)).body), body);
  });

  it('applies the filter pipe to the body only, and lists it in "ptf"', async () => {
    const proto = jsonProto({ filters: createFilters(base64) });
    const m = createMessage({ seq: 4, mtype: 3, serviceMethod: '/b', bodyCodec: 106, body: bytes('{"v":"ü"}'), pipe: [0x62] });
    const frame = (await proto.pack(m)) as string;
    const raw = JSON.parse(frame) as { body: string; ptf: number[]; serviceMethod: string };
    assert.equal(raw.body, Buffer.from('{"v":"ü"}').toString('base64'));
    assert.deepEqual(raw.ptf, [0x62]);
    assert.equal(raw.serviceMethod, '/b');
    const back = await proto.unpack(frame);
    assert.equal(text(back.body), '{"v":"ü"}');
    assert.deepEqual(back.pipe, [0x62]);
  });

  it('refuses at pack time, with a clear 400, a body that is binary after filters (gzip)', async () => {
    const m = createMessage({ seq: 5, mtype: 1, serviceMethod: '/z', bodyCodec: 106, body: bytes('{"a":1}'), pipe: [0x7a] });
    await assert.rejects(
      async () => jsonProto({ filters: createFilters() }).pack(m),
      bad400(/^json sub-protocol carries text bodies only: the body \(after filters\) is not valid UTF-8$/),
    );
  });

  it('refuses at pack time a binary body with no filter at all', async () => {
    const m = createMessage({ seq: 5, mtype: 1, serviceMethod: '/z', bodyCodec: 112, body: new Uint8Array([0x08, 0x96, 0x01, 0xff]) });
    await assert.rejects(async () => jsonProto().pack(m), bad400(/carries text bodies only/));
  });

  it('refuses to pack an unknown filter id with a 400 naming it', async () => {
    const m = createMessage({ mtype: 1, serviceMethod: '/z', body: bytes('x'), pipe: [0x61] });
    await assert.rejects(async () => jsonProto().pack(m), bad400(/^unsupported transfer filter id 97/));
  });
});

describe('json sub-protocol: bad input', () => {
  const cases: [string, string | Uint8Array, RegExp][] = [
    ['not JSON', '{"seq":1,', /^json frame is not valid JSON \(.+\)/],
    ['JSON but not an object (array)', '[1,2]', /^json frame is not an object: "\[1,2\]"/],
    ['JSON but not an object (string)', '"frame"', /^json frame is not an object/],
    ['JSON null', 'null', /^json frame is not an object/],
    ['seq above int32', '{"seq":2147483648,"mtype":1}', /^json frame "seq" is out of range: "2147483648"/],
    ['seq below int32', '{"seq":"-2147483649","mtype":1}', /^json frame "seq" is out of range: .*-2147483649/],
    ['seq not an integer', '{"seq":1.5,"mtype":1}', /^json frame "seq" is out of range/],
    ['seq as non-numeric text', '{"seq":"one","mtype":1}', /^json frame "seq" is out of range: .*one/],
    ['mtype above a byte', '{"seq":1,"mtype":256}', /^json frame "mtype" is out of range: "256"/],
    ['bodyCodec negative', '{"seq":1,"mtype":1,"bodyCodec":-1}', /^json frame "bodyCodec" is out of range: "-1"/],
    ['serviceMethod not a string', '{"seq":1,"mtype":1,"serviceMethod":5}', /^json frame "serviceMethod" is not a string/],
    ['body not a string', '{"seq":1,"mtype":1,"body":{"A":1}}', /^json frame "body" is not a string/],
    ['ptf not an array', '{"seq":1,"mtype":1,"ptf":"z"}', /^json frame "ptf" is not an array of filter ids: "\\"z\\""/],
    ['ptf with a non-byte', '{"seq":1,"mtype":1,"ptf":[122,256]}', /^json frame "ptf" is not an array of filter ids: "\[122,256\]"/],
    ['ptf with a string', '{"seq":1,"mtype":1,"ptf":["z"]}', /^json frame "ptf" is not an array of filter ids/],
    ['unknown filter id', '{"seq":1,"mtype":1,"body":"x","ptf":[97]}', /^unsupported transfer filter id 97/],
    ['bad meta text', '{"seq":1,"mtype":1,"meta":"{oops"}', /^meta is not valid JSON/],
    ['meta an array', '{"seq":1,"mtype":1,"meta":[1]}', /^meta is not a JSON object/],
    ['bad status text', '{"seq":1,"mtype":2,"status":"{\\"code\\":\\"x\\"}"}', /^status code is not an int32/],
    ['invalid UTF-8 bytes', new Uint8Array([0x7b, 0xff, 0x7d]), /^json frame is not valid UTF-8/],
    ['md5 mismatch after the pipe', '{"seq":1,"mtype":1,"body":"0123456789abcdef0","ptf":[53]}', /^md5 filter: digest mismatch/],
  ];

  for (const [what, frame, re] of cases) {
    it(`${what} → 400 naming the problem`, async () => {
      await assert.rejects(async () => unpack(frame), bad400(re));
    });
  }

  it('refuses a frame over maxFrameSize with a 400 naming both sizes', async () => {
    const proto = jsonProto({ maxFrameSize: GOLDEN.length - 1 });
    await assert.rejects(
      async () => proto.unpack(GOLDEN),
      bad400(new RegExp(`^frame of ${GOLDEN.length} bytes exceeds the ${GOLDEN.length - 1}-byte limit`)),
    );
    await assert.rejects(async () => proto.unpack(bytes(GOLDEN)), bad400(/exceeds the/));
    assert.equal((await jsonProto({ maxFrameSize: GOLDEN.length }).unpack(GOLDEN)).seq, 1);
  });
});

describe('json sub-protocol: round trip', () => {
  it('keeps every field of a text message', async () => {
    const m: Message = createMessage({
      seq: -2147483648,
      mtype: MType.AuthReply,
      serviceMethod: '/ü/"quoted"\\path\u2028',
      status: { code: 1234, msg: 'm\x01"', cause: '😀\n' },
      meta: { 'X-Accept-Body-Codec': '115', '<k>': 'v&\u0000' },
      bodyCodec: 115,
      body: bytes('line1\nline2 "q" \\ 中'),
    });
    const back = await unpack(await jsonProto().pack(m));
    for (const k of ['seq', 'mtype', 'serviceMethod', 'status', 'meta', 'bodyCodec', 'pipe'] as const) assert.deepEqual(back[k], m[k], k);
    assert.equal(text(back.body), text(m.body));
  });
});
