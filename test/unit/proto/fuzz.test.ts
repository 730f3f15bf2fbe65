/**
 * Hostile input: random and mutated frames (bit flips, truncations, lying length fields) through every
 * proto's unpack, and through a live Session. Every failure must be a 400 DrpcError with a message;
 * nothing else may be thrown or left as an unhandled rejection.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { rawProto, erpcRawProto } from '../../../src/proto/raw.ts';
import { jsonProto } from '../../../src/proto/json.ts';
import type { Frame, Proto } from '../../../src/proto/proto.ts';
import { createMessage, isInt32, MType } from '../../../src/message.ts';
import { FilterRegistry } from '../../../src/filter/filter.ts';
import { gzipFilter } from '../../../src/filter/gzip.ts';
import { md5Filter } from '../../../src/filter/md5.ts';
import { Session } from '../../../src/session.ts';
import { memoryPair } from '../../../src/transport/memory.ts';
import { ManualClock } from '../../../src/clock.ts';
import { DrpcError } from '../../../src/status.ts';
import { bytes, tick } from '../../helpers.ts';
import { serveCalls } from '../../../src/serve.ts';

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => void unhandled.push(reason);
before(() => void process.on('unhandledRejection', onUnhandled));
after(async () => {
  await tick();
  await tick();
  process.off('unhandledRejection', onUnhandled);
  assert.deepEqual(unhandled, [], 'no unhandled rejections');
});

const webFilters = new FilterRegistry([gzipFilter({ webStreams: true }), md5Filter]);
const small = { maxFrameSize: 64 * 1024 };
const protos: [string, Proto][] = [
  ['rawProto', rawProto(small)],
  ['erpcRawProto', erpcRawProto(small)],
  ['jsonProto', jsonProto(small)],
];

const str = (maxLength: number) => fc.string({ unit: 'binary', maxLength });

/** Valid messages to pack and then damage; text bodies so the JSON proto can pack them too. */
const validMessage = fc
  .record({
    seq: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
    mtype: fc.integer({ min: 0, max: 6 }),
    serviceMethod: str(20),
    code: fc.constantFrom(0, 400, 1234),
    msg: str(10),
    meta: fc.dictionary(str(5), str(8), { maxKeys: 3, noNullPrototype: true }),
    bodyCodec: fc.constantFrom(0, 106, 115),
    body: str(60),
    pipe: fc.constantFrom<number[]>([], [], [0x7a], [0x35], [0x7a, 0x35], [0x35, 0x7a]),
  })
  .map((r) =>
    createMessage({
      seq: r.seq,
      mtype: r.mtype,
      serviceMethod: r.serviceMethod,
      status: r.code ? { code: r.code, msg: r.msg, cause: '' } : undefined,
      meta: r.meta,
      bodyCodec: r.bodyCodec,
      body: bytes(r.body),
      pipe: r.pipe,
    }),
  );

type Mutation =
  | { kind: 'flip'; bits: number[] }
  | { kind: 'truncate'; at: number }
  | { kind: 'length'; value: number }
  | { kind: 'lengthDelta'; delta: number }
  | { kind: 'splice'; at: number; remove: number; insert: Uint8Array }
  | { kind: 'overwrite'; at: number; byte: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), bits: fc.array(fc.nat(), { minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('length' as const), value: fc.nat({ max: 0xffffffff }) }),
  fc.record({ kind: fc.constant('lengthDelta' as const), delta: fc.integer({ min: -8, max: 8 }) }),
  fc.record({ kind: fc.constant('splice' as const), at: fc.nat(), remove: fc.nat({ max: 4 }), insert: fc.uint8Array({ maxLength: 4 }) }),
  fc.record({ kind: fc.constant('overwrite' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
);

function mutate(frame: Uint8Array, m: Mutation): Uint8Array {
  const out = frame.slice();
  const n = out.length;
  switch (m.kind) {
    case 'flip':
      for (const b of m.bits) out[(b >> 3) % n]! ^= 1 << (b & 7);
      return out;
    case 'truncate':
      return out.subarray(0, m.at % n);
    case 'length':
    case 'lengthDelta': {
      if (n < 4) return out;
      const view = new DataView(out.buffer, out.byteOffset);
      view.setUint32(0, m.kind === 'length' ? m.value : (view.getUint32(0) + m.delta) >>> 0);
      return out;
    }
    case 'splice': {
      const at = m.at % (n + 1);
      return Uint8Array.from([...out.subarray(0, at), ...m.insert, ...out.subarray(at + m.remove)]);
    }
    case 'overwrite':
      out[m.at % n] = m.byte;
      return out;
  }
}

/** A length-prefixed raw frame made of the given body (the length field is right, the rest is noise). */
const randomRaw = fc.uint8Array({ maxLength: 200 }).map((b) => {
  const out = new Uint8Array(b.length + 4);
  new DataView(out.buffer).setUint32(0, out.length);
  out.set(b, 4);
  return out;
});

const tally = { rejected: 0, accepted: 0 };

/** Unpacks `frame`; a failure must be a 400 DrpcError with a message, a success a well-formed message. */
async function unpackCleanly(proto: Proto, frame: Frame): Promise<boolean> {
  let m;
  try {
    m = await proto.unpack(frame);
  } catch (e) {
    assert.ok(e instanceof DrpcError, `${proto.name}: threw a ${(e as Error)?.constructor?.name}: ${String(e)}`);
    assert.equal(e.code, 400, `${proto.name}: code ${e.code} (${e.message})`);
    assert.ok(e.message.length > 0, 'a non-empty message');
    tally.rejected++;
    return false;
  }
  tally.accepted++;
  assert.ok(isInt32(m.seq));
  assert.ok(Number.isInteger(m.mtype) && m.mtype >= 0 && m.mtype <= 255);
  assert.ok(Number.isInteger(m.bodyCodec) && m.bodyCodec >= 0 && m.bodyCodec <= 255);
  assert.equal(typeof m.serviceMethod, 'string');
  assert.ok(isInt32(m.status.code));
  assert.ok(m.body instanceof Uint8Array);
  for (const v of Object.values(m.meta)) assert.equal(typeof v, 'string');
  return true;
}

const asBytes = (f: Frame) => (typeof f === 'string' ? bytes(f) : f);
const asFrame = (proto: Proto, b: Uint8Array): Frame => (proto.binary ? b : new TextDecoder().decode(b));

describe('fuzz: proto unpack', () => {
  for (const [name, proto] of protos) {
    it(`${name}: mutated valid frames fail only with 400 DrpcErrors`, async () => {
      const before = { ...tally };
      await fc.assert(
        fc.asyncProperty(validMessage, fc.array(mutation, { minLength: 1, maxLength: 3 }), async (m, mutations) => {
          let frame: Frame;
          try {
            frame = await proto.pack(m);
          } catch {
            return; // e.g. a JSON message whose filtered body is binary; not what this test is about
          }
          let b = asBytes(frame);
          for (const mu of mutations) b = mutate(b, mu);
          await unpackCleanly(proto, proto.binary ? b : asFrame(proto, b));
          if (!proto.binary) await unpackCleanly(proto, b); // the same text as a binary WebSocket message
        }),
        { numRuns: 1500 },
      );
      assert.ok(tally.rejected - before.rejected > 300, 'most mutations are caught');
    });

    it(`${name}: random frames fail only with 400 DrpcErrors`, async () => {
      const frames: fc.Arbitrary<Frame> = proto.binary
        ? fc.oneof(fc.uint8Array({ maxLength: 120 }), randomRaw)
        : fc.oneof(
            str(120),
            fc.uint8Array({ maxLength: 120 }),
            fc.jsonValue().map((v) => JSON.stringify(v)),
            fc
              .dictionary(
                fc.constantFrom('seq', 'mtype', 'serviceMethod', 'meta', 'bodyCodec', 'body', 'ptf', 'status'),
                fc.jsonValue({ maxDepth: 2 }),
                { noNullPrototype: true },
              )
              .map((o) => JSON.stringify(o)),
          );
      await fc.assert(
        fc.asyncProperty(frames, async (f) => void (await unpackCleanly(proto, f))),
        { numRuns: 1500 },
      );
    });
  }

  it('raw protos with the web-streams gzip (async path): mutated frames reject cleanly', async () => {
    const asyncProtos = [rawProto({ filters: webFilters, ...small }), erpcRawProto({ filters: webFilters, ...small })];
    await fc.assert(
      fc.asyncProperty(validMessage, fc.array(mutation, { minLength: 1, maxLength: 2 }), fc.nat(1), async (m, mutations, which) => {
        const proto = asyncProtos[which]!;
        m.pipe = [0x7a, ...m.pipe.filter((id) => id !== 0x7a)];
        let b = (await proto.pack(m)) as Uint8Array;
        for (const mu of mutations) b = mutate(b, mu);
        await unpackCleanly(proto, b);
      }),
      { numRuns: 300 },
    );
  });

  it('rejects a text frame on the raw protos', async () => {
    for (const proto of [rawProto(), erpcRawProto()])
      await assert.rejects(async () => proto.unpack('text'), /raw frame must be binary, got text/);
  });

  it('both outcomes were exercised', () => {
    assert.ok(tally.rejected > 1000, `rejected ${tally.rejected}`);
    assert.ok(tally.accepted > 50, `accepted ${tally.accepted}`);
  });
});

describe('fuzz: a Session fed random frames', () => {
  const ALLOWED = new Set<number>([MType.Call, MType.Reply, MType.Push]);

  for (const [name, proto] of protos) {
    it(`${name}: closes cleanly, reporting DrpcErrors through onError, never throwing`, async () => {
      const check = proto.binary ? rawProto(small) : jsonProto(small);
      const pool = validMessage.map((msg) => ((msg.pipe = []), msg));
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(pool, fc.option(mutation, { nil: undefined })), { minLength: 1, maxLength: 6 }),
          async (items) => {
            const [ta, tb] = memoryPair();
            const errors: unknown[] = [];
            const clock = new ManualClock();
            const server = new Session(tb, {
              serve: serveCalls,
              proto: name === 'erpcRawProto' ? erpcRawProto(small) : check,
              clock,
              onError: (e) => void errors.push(e),
            });
            server.router.route('/echo', (b) => b);
            const events: string[] = [];
            server.on('close', (info) => void events.push(info.reason));
            let expectSelfClose = false;
            const closeCodes = new Set([400, 405]); // plus the status of a failed AUTH_REPLY (the peer's auth verdict)
            for (const [m, mu] of items) {
              let frame = await Promise.resolve()
                .then(() => proto.pack(m))
                .catch(() => undefined);
              if (frame === undefined) continue;
              if (mu) frame = asFrame(proto, mutate(asBytes(frame), mu));
              const parsed = await Promise.resolve()
                .then(() => (name === 'erpcRawProto' ? erpcRawProto(small) : check).unpack(frame))
                .catch(() => undefined);
              if (!parsed || !ALLOWED.has(parsed.mtype)) expectSelfClose = true;
              if (parsed?.mtype === 5 && parsed.status.code !== 0) closeCodes.add(parsed.status.code);
              try {
                ta.send(frame);
              } catch {
                break; // the server already closed the connection
              }
            }
            for (let i = 0; i < 20 && server.state !== 'closed'; i++) await tick();
            if (expectSelfClose) assert.equal(server.state, 'closed', 'a bad frame or a disallowed mtype closes the session');
            ta.close('test over');
            await server.closed;
            assert.equal(server.state, 'closed');
            assert.equal(events.length, 1, 'close fires once');
            for (const e of errors) assert.ok(e instanceof DrpcError, `onError got ${String(e)}`);
            if (expectSelfClose) assert.ok(errors.some((e) => closeCodes.has((e as DrpcError).code)));
            assert.equal(server.pendingCalls, 0);
            assert.equal(clock.pending, 0);
          },
        ),
        { numRuns: 150 },
      );
    });
  }

  it('stops reading at a bad frame: frames behind it in the same batch are not handled', async () => {
    const [ta, tb] = memoryPair();
    const errors: DrpcError[] = [];
    const server = new Session(tb, { serve: serveCalls, onError: (e) => void errors.push(e) });
    let handled = 0;
    server.router.route('/x', () => ++handled);
    server.router.routePush('/p', () => void handled++);
    const call = (await rawProto().pack(createMessage({ seq: 5, mtype: MType.Call, serviceMethod: '/x' }))) as Uint8Array;
    const push = (await rawProto().pack(createMessage({ seq: 6, mtype: MType.Push, serviceMethod: '/p' }))) as Uint8Array;
    ta.send(new Uint8Array([0, 0, 0, 9, 1, 0, 5, 0xff, 0xff]));
    ta.send(call);
    ta.send(push);
    await server.closed;
    await tick();
    assert.equal(handled, 0);
    assert.deepEqual(
      errors.map((e) => e.code),
      [400],
    );
  });

  it('stops reading at a disallowed mtype (405) the same way', async () => {
    const [ta, tb] = memoryPair();
    const errors: DrpcError[] = [];
    const server = new Session(tb, { serve: serveCalls, onError: (e) => void errors.push(e) });
    let handled = 0;
    server.router.route('/x', () => ++handled);
    const auth = (await rawProto().pack(createMessage({ seq: 1, mtype: MType.AuthCall }))) as Uint8Array;
    const call = (await rawProto().pack(createMessage({ seq: 2, mtype: MType.Call, serviceMethod: '/x' }))) as Uint8Array;
    ta.send(auth); // both arrive in one batch
    ta.send(call);
    await server.closed;
    await tick();
    assert.equal(handled, 0);
    assert.deepEqual(
      errors.map((e) => e.code),
      [405],
    );
    assert.equal(tb.sent.length, 0, 'nothing is sent back');
  });
});
