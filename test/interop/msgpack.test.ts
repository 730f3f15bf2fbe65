/**
 * The msgpack codec ('m', 109) against a real Go peer: DMicro with a msgpack codec of the same id
 * (internal/mpcodec, github.com/vmihailenco/msgpack/v5). Our client sends values at every msgpack
 * format boundary to cmd/server's CALL /msgpack/typed, which decodes them into typed Go fields and
 * replies with what Go saw, the formats we wrote (read byte by byte in Go) and the struct echoed in
 * Go's own formats. DMicro's client (cmd/client -checks msgpack) does the reverse against our endpoint.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { connect, createCodecs, type Client } from '../../src/index.ts';
import { msgpack } from '../../src/codec/msgpack.ts';
import { filters } from '../../src/filter/index.ts';
import { DrpcError } from '../../src/status.ts';
import { createEndpoint, type Endpoint } from '../../adapters/node/endpoint.ts';
import { goBinary } from './go.ts';
import { freePort, runGoChecks, startGo, type GoProcess } from './peers.ts';

interface Inner {
  name: string;
  level: number;
  tags: string[] | null;
}

/** mpcodec.Typed as our client sends it (keys are the Go struct's msgpack tags). */
interface Typed {
  i64: number | bigint;
  u64: number | bigint;
  i32: number;
  f64: number;
  str: unknown;
  bin: unknown;
  flag: boolean;
  at: Date;
  counts: unknown;
  list: string[];
  inner: Inner;
  ptr?: Inner | null;
  ints: (number | bigint)[];
  floats: number[];
  times: Date[];
  [extra: string]: unknown;
}

/** What cmd/server's /msgpack/typed replies (see TypedReply there). */
interface TypedReply {
  echo: Record<string, any>;
  codec: number;
  wire: Record<string, any>;
  seen: Record<string, string>;
  binLen: number;
  binSha256: string;
  atUnixNano: number | bigint;
  timesUnix: string[];
  countsSum: number | bigint;
  listInfo: string[];
  listQuoted: string[];
  f64Bits: string;
  floatsBits: string[];
  f32: number;
  narrow: (number | bigint)[];
  narrowWire: string[];
  compact: (number | bigint)[];
  compactWire: string[];
}

const zero = (): Typed => ({
  i64: 0,
  u64: 0,
  i32: 0,
  f64: 0,
  str: '',
  bin: new Uint8Array(0),
  flag: false,
  at: new Date(0),
  counts: {},
  list: [],
  inner: { name: '', level: 0, tags: [] },
  ptr: null,
  ints: [],
  floats: [],
  times: [],
});

/** A 64-bit integer as our decoder gives it back: a number when exact, else a bigint. */
const decoded = (n: number | bigint): number | bigint => (typeof n === 'bigint' && Number.isSafeInteger(Number(n)) ? Number(n) : n);

const bits = (f: number) => {
  const v = new DataView(new ArrayBuffer(8));
  v.setFloat64(0, f);
  return v.getBigUint64(0).toString(16).padStart(16, '0');
};

/** The msgpack str header our encoder must choose for `bytes` bytes of UTF-8 (the smallest). */
const strHead = (bytes: number) => (bytes < 32 ? (0xa0 | bytes).toString(16) : bytes < 256 ? 'd9' : bytes < 65536 ? 'da' : 'db');
const binHead = (bytes: number) => (bytes < 256 ? 'c4' : bytes < 65536 ? 'c5' : 'c6');

/** `${seconds}.${nanoseconds}` of a Date, as Go prints a time.Time in cmd/server. */
const unixText = (d: Date) => {
  const ms = d.getTime();
  const sec = Math.floor(ms / 1000);
  return `${sec}.${String((ms - sec * 1000) * 1e6).padStart(9, '0')}`;
};

let server: GoProcess;
let wsPort: number;

// A test, not a hook: a Go build failure is then a failed test with the build's message.
it('builds cmd/server (msgpack codec registered) and starts it on a free port', async () => {
  const bin = goBinary('server');
  let last: unknown;
  for (let attempt = 0; attempt < 3 && !server; attempt++) {
    wsPort = await freePort();
    try {
      server = await startGo(bin, ['-ws-raw', `${wsPort}`, '-quiet']);
    } catch (err) {
      last = err;
    }
  }
  assert.ok(server, String(last));
});

after(() => server?.stop());

describe('interop: msgpack, TypeScript client → DMicro server (/msgpack/typed)', { timeout: 30_000 }, () => {
  let client: Client;

  before(async () => {
    client = connect(`ws://127.0.0.1:${wsPort}/ws`, {
      proto: 'raw',
      codecs: createCodecs(msgpack),
      codec: 'msgpack',
      filters,
      reconnect: false,
      heartbeat: false,
      timeout: 10_000,
    });
    await client.ready();
  });
  after(() => client?.close());

  /** Sends zero() with `fields` over it; the reply must be msgpack too, and Go must have read msgpack. */
  async function send(fields: Partial<Typed>): Promise<TypedReply> {
    const r = await client.callReply('/msgpack/typed', { ...zero(), ...fields });
    const reply = r.value as TypedReply;
    assert.equal(r.bodyCodec, 109, "the reply's codec follows the request's");
    assert.equal(reply.codec, 109, 'DMicro read the body as msgpack');
    return reply;
  }

  it('integers at every format boundary reach a Go []int64 exactly, each in the smallest format', async () => {
    const ints: [number | bigint, string][] = [
      [0, '00 int8 0'],
      [127, '7f int8 127'],
      [128, 'cc uint8 128'],
      [255, 'cc uint8 255'],
      [256, 'cd uint16 256'],
      [65535, 'cd uint16 65535'],
      [65536, 'ce uint32 65536'],
      [2 ** 31 - 1, 'ce uint32 2147483647'],
      [2 ** 32 - 1, 'ce uint32 4294967295'],
      [2 ** 32, 'cf uint64 4294967296'],
      [2 ** 53 - 1, 'cf uint64 9007199254740991'],
      [-1, 'ff int8 -1'],
      [-32, 'e0 int8 -32'],
      [-33, 'd0 int8 -33'],
      [-128, 'd0 int8 -128'],
      [-129, 'd1 int16 -129'],
      [-32768, 'd1 int16 -32768'],
      [-32769, 'd2 int32 -32769'],
      [-(2 ** 31), 'd2 int32 -2147483648'],
      [-(2 ** 31) - 1, 'd3 int64 -2147483649'],
      [-(2 ** 53 - 1), 'd3 int64 -9007199254740991'],
      // a bigint is always written in a 64-bit form, whatever its size
      [5n, 'cf uint64 5'],
      [-5n, 'd3 int64 -5'],
      [2n ** 53n + 1n, 'cf uint64 9007199254740993'],
      [2n ** 63n - 1n, 'cf uint64 9223372036854775807'],
      [-(2n ** 63n), 'd3 int64 -9223372036854775808'],
    ];
    const values = ints.map(([v]) => v);
    const r = await send({ ints: values });
    assert.deepEqual(
      r.wire.ints,
      ints.map(([, w]) => w),
    );
    assert.equal(r.seen.ints, `[]int64/[${values.join(' ')}]`);
    // Go's replies: every int64 in 0xd3, then each in its own Go type's format, then compacted
    const back = values.map(decoded);
    assert.deepEqual(r.echo.ints, back);
    assert.deepEqual(r.narrow, back);
    assert.deepEqual(r.compact, back);
    // the reply really used those formats (else the three lines above test one path three times)
    assert.deepEqual(new Set(r.narrowWire.map((w) => w.slice(0, 2))), new Set(['cc', 'cd', 'ce', 'cf', 'd0', 'd1', 'd2', 'd3']));
    // for numbers our choice is the one Go's compact encoder makes
    const numbers = ints.filter(([v]) => typeof v === 'number').map(([, w]) => w);
    assert.deepEqual(r.compactWire.slice(0, numbers.length), numbers);
  });

  it('int64, uint64 and int32 fields at their limits: bigints beyond 2^53 land exactly and come back as bigints', async () => {
    let r = await send({ i64: -(2n ** 63n), u64: 2n ** 64n - 1n, i32: -(2 ** 31) });
    assert.deepEqual(
      [r.seen.i64, r.seen.u64, r.seen.i32],
      ['int64/-9223372036854775808', 'uint64/18446744073709551615', 'int32/-2147483648'],
    );
    assert.deepEqual(
      [r.wire.i64, r.wire.u64, r.wire.i32],
      ['d3 int64 -9223372036854775808', 'cf uint64 18446744073709551615', 'd2 int32 -2147483648'],
    );
    assert.deepEqual([r.echo.i64, r.echo.u64, r.echo.i32], [-(2n ** 63n), 2n ** 64n - 1n, -(2 ** 31)]);

    r = await send({ i64: Number.MAX_SAFE_INTEGER, u64: 2n ** 53n + 1n, i32: 2 ** 31 - 1 });
    assert.deepEqual([r.seen.i64, r.seen.u64, r.seen.i32], ['int64/9007199254740991', 'uint64/9007199254740993', 'int32/2147483647']);
    // Go writes 0xd3/0xcf: the exact one is a number again, the other a bigint
    assert.deepEqual([r.echo.i64, r.echo.u64, r.echo.i32], [Number.MAX_SAFE_INTEGER, 2n ** 53n + 1n, 2 ** 31 - 1]);
  });

  it('floats arrive bit for bit as float64 (an integral number as an integer, which a Go float64 accepts)', async () => {
    const floats = [0.1, -2.5, 1e300, 5e-324, -Number.MAX_VALUE, Infinity, -Infinity, NaN, 2 ** 53, 3];
    const r = await send({ f64: 0.1, floats });
    assert.deepEqual([r.seen.f64, r.wire.f64, r.f64Bits], ['float64/0.1', 'cb float64 0.1', '3fb999999999999a']);
    assert.deepEqual(r.floatsBits, floats.map(bits));
    assert.deepEqual(
      r.wire.floats.map((w: string) => w.slice(0, 2)),
      [...Array<string>(9).fill('cb'), '03'],
    );
    assert.deepEqual(r.echo.floats, floats); // Go writes 0xcb
    assert.equal(r.echo.f64, 0.1);
    assert.equal(r.f32, Math.fround(0.1), 'a float32 (0xca) from Go');
  });

  it('strings: every str format, non-ASCII and lone surrogates arrive as the same UTF-8 in Go', async () => {
    const list = [
      '',
      'a'.repeat(31),
      'a'.repeat(32),
      'a'.repeat(255),
      'a'.repeat(256),
      'a'.repeat(65535),
      'a'.repeat(65536),
      'é',
      '😀',
      'é'.repeat(11), // 22 bytes: the header sized for 33 shrinks back to a fixstr
      'é'.repeat(16), // 32 bytes from 16 characters: str 8
      '😀'.repeat(8),
      'x'.repeat(40) + 'é'.repeat(20), // under 64 characters: encoded by hand
      'é'.repeat(128), // 256 bytes: str 16
      '中'.repeat(21846), // 65538 bytes from 21846 characters: str 32
      'a😀é中\u0000\n"\\',
      '\ud800x\udc00', // lone surrogates: U+FFFD, as TextEncoder writes them
      '\ud800'.repeat(30), // the same past 64 characters (TextEncoder's path)
    ];
    const r = await send({ str: 'héllo 😀', list });
    assert.equal(r.seen.str, 'string/"h\\u00e9llo \\U0001f600"');
    const wellFormed = list.map((s) => s.replace(/\p{Cs}/gu, '\ufffd'));
    assert.deepEqual(
      r.listInfo,
      wellFormed.map((s) => `${Buffer.byteLength(s)} ${[...s].length} true`),
    );
    assert.deepEqual(
      r.wire.list,
      wellFormed.map((s) => `${strHead(Buffer.byteLength(s))} str ${Buffer.byteLength(s)}`),
    );
    assert.deepEqual(
      [r.listQuoted[7], r.listQuoted[8], r.listQuoted[15], r.listQuoted[16]],
      ['"\\u00e9"', '"\\U0001f600"', '"a\\U0001f600\\u00e9\\u4e2d\\x00\\n\\"\\\\"', '"\\ufffdx\\ufffd"'],
    );
    assert.deepEqual(r.echo.list, wellFormed);
    assert.equal(r.echo.str, 'héllo 😀');
  });

  it('bytes: every bin format, and views with an offset, arrive byte for byte', async () => {
    const big = new Uint8Array(randomBytes(70_000));
    const pool = new Uint8Array(randomBytes(400));
    const cases: [string, ArrayBufferView | ArrayBuffer, Uint8Array][] = [
      ['70,000 bytes', big, big],
      ['empty', new Uint8Array(0), new Uint8Array(0)],
      ['255 bytes', big.slice(0, 255), big.slice(0, 255)],
      ['256 bytes', big.slice(0, 256), big.slice(0, 256)],
      ['65,535 bytes', big.slice(0, 65535), big.slice(0, 65535)],
      ['65,536 bytes', big.slice(0, 65536), big.slice(0, 65536)],
      ['a subarray', pool.subarray(3, 303), pool.slice(3, 303)],
      ['a Buffer (from the pool, at an offset)', Buffer.from('pooled bytes'), new TextEncoder().encode('pooled bytes')],
      ['a DataView', new DataView(pool.buffer, 10, 20), pool.slice(10, 30)],
      ['an ArrayBuffer', pool.buffer.slice(0, 5), pool.slice(0, 5)],
    ];
    for (const [what, bin, bytes] of cases) {
      const r = await send({ bin });
      const sha = createHash('sha256').update(bytes).digest('hex');
      assert.deepEqual([r.seen.bin, r.binLen, r.binSha256], [`[]uint8/${bytes.length}`, bytes.length, sha], what);
      assert.equal(r.wire.bin, `${binHead(bytes.length)} bin ${bytes.length}`, what);
      assert.equal(Object.getPrototypeOf(r.echo.bin), Uint8Array.prototype, what);
      assert.equal(r.echo.bin.buffer.byteLength, bytes.length, `${what}: a copy, not a view of the frame`);
      assert.deepEqual(r.echo.bin, bytes, what);
    }
  });

  it('dates: each timestamp form (32, 64, 96-bit), before 1970 and after 2106, arrive as the same instant', async () => {
    const times: [Date, string][] = [
      [new Date(0), 'd6 ext -1 4'],
      [new Date(Date.UTC(2024, 0, 2, 3, 4, 5)), 'd6 ext -1 4'], // whole seconds
      [new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678)), 'd7 ext -1 8'], // milliseconds
      [new Date((2 ** 32 - 1) * 1000), 'd6 ext -1 4'], // 2106-02-07, the last 32-bit second
      [new Date(2 ** 32 * 1000), 'd7 ext -1 8'], // whole, but past 32 bits
      [new Date((2 ** 34 - 1) * 1000 + 999), 'd7 ext -1 8'], // the last 64-bit instant (year 2514)
      [new Date(2 ** 34 * 1000), 'c7 ext -1 12'],
      [new Date(Date.UTC(1969, 6, 20, 20, 17, 40)), 'c7 ext -1 12'], // before 1970, whole seconds
      [new Date(-1), 'c7 ext -1 12'], // 1969-12-31T23:59:59.999
      [new Date(-1500), 'c7 ext -1 12'],
      [new Date(-8.64e15), 'c7 ext -1 12'], // the first and last Dates there are
      [new Date(8.64e15), 'c7 ext -1 12'],
    ];
    const dates = times.map(([d]) => d);
    const at = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678));
    let r = await send({ at, times: dates });
    assert.deepEqual(
      r.wire.times,
      times.map(([, w]) => w),
    );
    assert.deepEqual(r.timesUnix, dates.map(unixText));
    assert.deepEqual(r.echo.times, dates); // Go's own forms decoded by ours
    assert.deepEqual([r.seen.at, r.atUnixNano, r.echo.at], ['time.Time/2024-01-02T03:04:05.678Z', 1704164645678000000n, at]);

    const before1970 = new Date(-1500);
    r = await send({ at: before1970 });
    assert.deepEqual([r.seen.at, r.atUnixNano, r.echo.at], ['time.Time/1969-12-31T23:59:58.5Z', -1_500_000_000, before1970]);
  });

  it('maps, Maps, lists, the nested struct and the pointer (nil or not) reach the right Go fields', async () => {
    const counts: Record<string, number | bigint | undefined> = { big: 2n ** 62n, é: -5, '😀': 2 ** 40, gone: undefined };
    for (let i = 0; i < 17; i++) counts[`k${String(i).padStart(2, '0')}`] = i * 1000;
    counts.gone2 = undefined; // 22 keys, 20 written: a map 16 whose count is lowered after the fact
    const kept = Object.entries(counts).filter(([, v]) => v !== undefined) as [string, number | bigint][];
    const inner = { name: 'n', level: -7, tags: ['a', 'b'] };
    let r = await send({
      counts,
      list: ['x', 'y'],
      inner,
      ptr: null,
      flag: true,
      str: { toJSON: () => 'from toJSON' },
      extra: undefined, // dropped, as JSON drops it: Go refuses unknown keys
      fn: () => 1,
    });
    assert.equal(Object.keys(r.wire.counts).length, 20);
    assert.equal(r.wire.counts.big, 'cf uint64 4611686018427387904');
    const goMap = kept
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${k}:${v}`)
      .join(' ');
    assert.equal(r.seen.counts, `map[string]int64/map[${goMap}]`);
    assert.equal(r.countsSum, decoded(kept.reduce((s, [, v]) => s + BigInt(v), 0n)));
    assert.deepEqual(r.echo.counts, Object.fromEntries(kept.map(([k, v]) => [k, decoded(v)])));
    assert.deepEqual(
      [r.seen.list, r.seen.inner, r.seen.ptr, r.seen.flag, r.seen.str],
      ['[]string/2', 'mpcodec.Inner/{Name:n Level:-7 Tags:[a b]}', '*mpcodec.Inner/<nil>', 'bool/true', 'string/"from toJSON"'],
    );
    assert.deepEqual([r.echo.list, r.echo.inner, r.echo.ptr, r.echo.flag], [['x', 'y'], inner, null, true]);

    const ptr = { name: 'p', level: 2 ** 31 - 1, tags: [] };
    r = await send({
      counts: new Map<string, number>([
        ['a', 1],
        ['b', -2],
      ]),
      ptr,
    });
    assert.deepEqual([r.seen.counts, r.seen.ptr], ['map[string]int64/map[a:1 b:-2]', '*mpcodec.Inner/&{Name:p Level:2147483647 Tags:[]}']);
    assert.deepEqual([r.echo.counts, r.echo.ptr], [{ a: 1, b: -2 }, ptr]);

    const omitted = zero();
    delete omitted.ptr; // no key at all: Go's pointer stays nil
    r = (await client.call('/msgpack/typed', omitted)) as TypedReply;
    assert.deepEqual([r.seen.ptr, r.echo.ptr], ['*mpcodec.Inner/<nil>', null]);
  });

  it('a key Go does not know is refused (so the dropped keys above really were not written)', async () => {
    const err = await client.call('/msgpack/typed', { ...zero(), bogus: 1 }).then(
      () => assert.fail('expected a rejection'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof DrpcError);
    assert.equal(err.code, 400);
    assert.match(err.causeText, /unknown field "bogus"/);
  });
});

describe('interop: msgpack, DMicro Go client → our endpoint (cmd/client -checks msgpack)', { timeout: 60_000 }, () => {
  let ep: Endpoint;
  let port: number;
  const received: unknown[] = [];
  const errors: string[] = [];

  before(async () => {
    ep = createEndpoint({ codecs: createCodecs(msgpack), onError: (e) => void errors.push(`${e.code} ${e.message} ${e.causeText}`) });
    ep.route('/msgpack/echo', (body) => {
      received.push(body);
      return body; // replied in msgpack: the request's codec
    });
    port = (await ep.listenTcp()).port;
  });
  after(() => ep?.close({ drain: 500 }));

  it("Go's struct arrives as the JavaScript values the README promises, and goes back to Go unchanged", async () => {
    const run = await runGoChecks(goBinary('client'), ['-addr', `127.0.0.1:${port}`, '-mode', 'tcp', '-checks', 'msgpack']);
    const report = `exit ${run.code}; endpoint errors: ${errors.join(' | ') || 'none'}\n${run.lines.map((l) => `${l.ok ? 'ok' : 'FAIL'} ${l.name}: ${l.detail}`).join('\n')}\n${run.log.slice(-2000)}`;
    assert.equal(run.code, 0, report);
    assert.deepEqual(
      run.lines.map((l) => [l.name, l.ok]),
      [
        ['tcp msgpack echo', true],
        ['tcp msgpack reply formats', true],
      ],
      report,
    );

    // what our decoder made of Go's formats (cmd/client's msgpackSample)
    assert.equal(received.length, 1);
    const bin = Uint8Array.from({ length: 300 }, (_, i) => i % 256);
    assert.deepEqual(received[0], {
      i64: -(2n ** 63n),
      u64: 2n ** 64n - 1n,
      i32: -(2 ** 31),
      f64: -0.1,
      str: 'héllo 😀 中',
      bin,
      flag: true,
      at: new Date(1_700_000_000_123), // Go's 123456789 ns: a Date keeps whole milliseconds
      counts: { a: -1, é: 2 ** 40, max: 2n ** 63n - 1n },
      list: ['', 'x', 'é'.repeat(200), 'z'.repeat(70000)],
      inner: { name: 'in', level: -5, tags: null },
      ptr: { name: 'p', level: 2 ** 31 - 1, tags: ['t'] },
      ints: [
        0,
        127,
        128,
        255,
        256,
        65535,
        65536,
        2 ** 32 - 1,
        2 ** 32,
        2 ** 53 - 1,
        2n ** 53n,
        2n ** 53n + 1n,
        2n ** 63n - 1n,
        -1,
        -32,
        -33,
        -128,
        -129,
        -32768,
        -32769,
        -(2 ** 31),
        -(2 ** 31) - 1,
        -(2 ** 53 - 1),
        -(2n ** 53n),
        -(2n ** 63n),
      ],
      floats: [0.1, -2.5, 1e300, 5e-324, -Infinity, 3],
      times: [
        new Date(0),
        new Date(-1000),
        new Date(-1500), // -2 s + 500000001 ns
        new Date(2 ** 32 * 1000),
        new Date(2 ** 34 * 1000 + 999),
        new Date(-62135596800000), // 0001-01-01, Go's zero time
      ],
    });
  });
});
