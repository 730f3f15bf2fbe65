/**
 * Byte-exactness judged by DMicro itself: random messages are packed by our protos and by DMicro's
 * own Go code (test/interop/cmd/vectors), then each side unpacks the other's frames.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { rawProto } from '../../src/proto/raw.ts';
import { jsonProto } from '../../src/proto/json.ts';
import { filters } from '../../src/filter/index.ts'; // gzip and md5: the vectors use them
import { createMessage, type Message } from '../../src/message.ts';
import { goVectors } from './go.ts';
import { hex, unhex } from '../helpers.ts';

const GZIP = 0x7a;
const MD5 = 0x35;

interface GoMessage {
  seq: number;
  mtype: number;
  serviceMethod: string;
  status: { code: number; msg: string; cause: string };
  meta: Record<string, string>;
  bodyCodec: number;
  bodyHex: string;
  pipe: number[];
  error?: string;
  frameHex?: string;
}

// Printable text Go's strconv.Quote and ours write identically (no control characters).
const printable = fc.string({ unit: fc.constantFrom(...Array.from('abcXYZ019 /_-.:"\\<>&é中😀\u2028')), maxLength: 12 });
const anyText = fc.string({ unit: 'binary', maxLength: 12 });

const message = (text: fc.Arbitrary<string>, body: fc.Arbitrary<Uint8Array>) =>
  fc.record({
    seq: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
    mtype: fc.integer({ min: 1, max: 5 }),
    serviceMethod: text,
    status: fc.option(fc.record({ code: fc.integer({ min: -1, max: 5000 }), msg: text, cause: text }), { nil: undefined }),
    meta: fc.dictionary(text, text, { maxKeys: 4 }),
    bodyCodec: fc.constantFrom(0, 106, 112, 115),
    body,
    pipe: fc.constantFrom<number[]>([], [MD5], [GZIP], [GZIP, MD5], [MD5, GZIP]),
  });

const toGo = (m: Message, proto: string) => ({
  op: 'pack',
  proto,
  seq: m.seq,
  mtype: m.mtype,
  serviceMethod: m.serviceMethod,
  status: m.status.code || m.status.msg || m.status.cause ? m.status : null,
  meta: m.meta,
  bodyCodec: m.bodyCodec,
  bodyHex: hex(m.body),
  pipe: m.pipe,
});

/** True when JSON needs an escape Go does not write (a backslash or a control character). */
const hasEscapes = (s: string) => [...s].some((c) => c === '\\' || c.charCodeAt(0) < 0x20);

function assertSameFields(go: GoMessage, m: Message, label: string, withStatus = true) {
  assert.equal(go.error, undefined, `${label}: Go failed: ${go.error}`);
  assert.equal(go.seq, m.seq, `${label}: seq`);
  assert.equal(go.mtype, m.mtype, `${label}: mtype`);
  assert.equal(go.serviceMethod, m.serviceMethod, `${label}: serviceMethod`);
  if (withStatus) assert.deepEqual(go.status, m.status, `${label}: status`);
  assert.deepEqual(go.meta ?? {}, m.meta, `${label}: meta`);
  assert.equal(go.bodyCodec, m.bodyCodec, `${label}: bodyCodec`);
  assert.equal(go.bodyHex, hex(m.body), `${label}: body`);
  assert.deepEqual(go.pipe ?? [], [...m.pipe], `${label}: pipe`);
}

function sample(arb: fc.Arbitrary<Parameters<typeof createMessage>[0]>, n: number, seed: number): Message[] {
  // fast-check builds null-prototype records; plain objects compare cleanly with what Go returns.
  return fc.sample(arb, { numRuns: n, seed }).map((f) => createMessage({ ...f, meta: { ...f.meta }, status: f.status && { ...f.status } }));
}

describe('interop: DMicro golden vectors (Go packs and unpacks)', () => {
  it('the drpc-model.md examples come out of DMicro exactly as we pack them', async () => {
    const m = createMessage({
      seq: 1,
      mtype: 1,
      serviceMethod: '/p/divide',
      bodyCodec: 106,
      body: new TextEncoder().encode('{"A":10,"B":2}'),
    });
    const [raw, json] = goVectors<GoMessage>([toGo(m, 'raw'), toGo(m, 'json')]);
    assert.equal(raw!.frameHex, hex((await rawProto({ filters }).pack(m)) as Uint8Array));
    assert.equal(Buffer.from(json!.frameHex!, 'hex').toString(), await jsonProto({ filters }).pack(m));
  });

  it('RAW: 300 random messages: same bytes without gzip, and each side decodes the other', async () => {
    const msgs = sample(message(printable, fc.uint8Array({ maxLength: 300 })), 300, 42);
    const proto = rawProto({ filters });
    const ours = await Promise.all(msgs.map((m) => proto.pack(m) as Promise<Uint8Array> | Uint8Array));
    const goPacked = goVectors<GoMessage>(msgs.map((m) => toGo(m, 'raw')));
    const goUnpacked = goVectors<GoMessage>(ours.map((f) => ({ op: 'unpack', proto: 'raw', frameHex: hex(f) })));
    for (let i = 0; i < msgs.length; i++) {
      const m = msgs[i]!;
      const label = `message ${i} ${JSON.stringify({ ...m, body: hex(m.body) })}`;
      if (!m.pipe.includes(GZIP)) assert.equal(goPacked[i]!.frameHex, hex(ours[i]!), `${label}: frame bytes`);
      assertSameFields(goUnpacked[i]!, m, `${label} (Go unpacks ours)`);
      const back = await proto.unpack(unhex(goPacked[i]!.frameHex!));
      assert.deepEqual(
        { ...back, size: undefined, pipe: [...back.pipe] },
        { ...m, size: undefined, pipe: [...m.pipe] },
        `${label} (we unpack Go's)`,
      );
    }
  });

  it('RAW: any Unicode text (control characters included) survives both directions', async () => {
    const msgs = sample(message(anyText, fc.uint8Array({ maxLength: 50 })), 200, 7);
    const ours = await Promise.all(msgs.map((m) => rawProto({ filters }).pack(m) as Promise<Uint8Array> | Uint8Array));
    const goUnpacked = goVectors<GoMessage>(ours.map((f) => ({ op: 'unpack', proto: 'raw', frameHex: hex(f) })));
    msgs.forEach((m, i) => assertSameFields(goUnpacked[i]!, m, `message ${i}`));
  });

  it('JSON sub-protocol: same text for plain bodies; Go reads our fully escaped bodies', async () => {
    const textBody = fc.string({ unit: 'grapheme', maxLength: 80 }).map((s) => new TextEncoder().encode(s));
    const msgs = sample(
      message(printable, textBody).map((r) => ({ ...r, pipe: [], status: undefined })),
      200,
      9,
    );
    const proto = jsonProto({ filters });
    const ours = msgs.map((m) => proto.pack(m) as string);
    const goPacked = goVectors<GoMessage>(msgs.map((m) => toGo(m, 'json')));
    const goUnpacked = goVectors<GoMessage>(ours.map((f) => ({ op: 'unpack', proto: 'json', frameHex: hex(new TextEncoder().encode(f)) })));
    for (let i = 0; i < msgs.length; i++) {
      const m = msgs[i]!;
      const label = `message ${i}`;
      const body = new TextDecoder().decode(m.body);
      // Go escapes only '"' in bodies; with no backslash or control character the texts agree.
      if (!hasEscapes(body)) assert.equal(Buffer.from(goPacked[i]!.frameHex!, 'hex').toString(), ours[i], `${label}: frame text`);
      assertSameFields(goUnpacked[i]!, m, `${label} (Go unpacks ours)`, false);
    }
  });
});
