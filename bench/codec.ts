/**
 * Codec/proto micro-benchmark: how many messages per second go through encode+pack and
 * unpack+decode, for RAW+json, RAW+msgpack and the JSON sub-protocol, against JSON.stringify +
 * JSON.parse of the same object (the floor any JSON RPC pays). One process, one run, cases
 * interleaved over repetitions; figures are medians.   Run: npm run bench:codec [-- --ms 1000 --reps 5]
 */
import { createMessage, MType, jsonCodec, rawProto, jsonProto, type Message, type Proto, type Codec } from '../src/index.ts';
import { msgpack } from '../src/codec/msgpack.ts';
// The reference msgpack library (a devDependency, here only to compare with our codec).
import { Packr } from 'msgpackr';

const packr = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true });

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const MS = arg('ms', 700);
const REPS = arg('reps', 5);

const small = { a: 73, b: 1500 };
const medium = {
  id: 123456789,
  name: 'benchmark payload',
  tags: ['alpha', 'beta', 'gamma', 'delta'],
  nested: { x: 1.5, y: -2.25, ok: true, note: 'lorem ipsum dolor sit amet, consectetur adipiscing elit' },
  list: Array.from({ length: 12 }, (_, i) => ({ i, v: `value-${i}`, f: i / 3 })),
};

interface Case {
  name: string;
  run(obj: unknown): unknown;
}

function protoCase(name: string, proto: Proto, codec: Codec): Case {
  const meta = { 'x-trace': 'abc123' };
  return {
    name,
    run(obj) {
      const m: Message = createMessage({
        seq: 42,
        mtype: MType.Call,
        serviceMethod: '/bench/echo',
        meta,
        bodyCodec: codec.id,
        body: codec.encode(obj),
      });
      const frame = proto.pack(m) as Uint8Array | string;
      const back = proto.unpack(frame) as Message;
      return codec.decode(back.body);
    },
  };
}

const cases: Case[] = [
  { name: 'JSON.stringify+parse (baseline)', run: (obj) => JSON.parse(JSON.stringify(obj)) },
  {
    // What the raw-ws peer in bench/peers does per message: a JSON envelope, as UTF-8 bytes.
    name: 'JSON envelope [id,method,params] as bytes',
    run: (obj) =>
      (JSON.parse(new TextDecoder().decode(new TextEncoder().encode(JSON.stringify([42, '/bench/echo', obj])))) as unknown[])[2],
  },
  protoCase('RAW + json', rawProto(), jsonCodec),
  protoCase('RAW + msgpack', rawProto(), msgpack),
  protoCase('JSON sub-proto + json', jsonProto(), jsonCodec),
  { name: 'msgpack body only: drpc/msgpack encode+decode', run: (obj) => msgpack.decode(msgpack.encode(obj)) },
  { name: 'msgpack body only: msgpackr pack+unpack (reference)', run: (obj) => packr.unpack(packr.pack(obj)) },
];

function measure(c: Case, obj: unknown): number {
  let n = 0;
  const end = performance.now() + MS;
  while (performance.now() < end) {
    for (let i = 0; i < 200; i++) c.run(obj);
    n += 200;
  }
  return (n / MS) * 1000;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rows: string[] = [];
for (const [pname, obj] of [
  ['small', small],
  ['medium', medium],
] as const) {
  for (const c of cases) measure(c, obj); // warm-up (JIT)
  const results = new Map<string, number[]>();
  for (let r = 0; r < REPS; r++) {
    const order = r % 2 ? [...cases].reverse() : cases;
    for (const c of order) {
      const list = results.get(c.name) ?? [];
      list.push(measure(c, obj));
      results.set(c.name, list);
    }
  }
  const base = median(results.get(cases[0]!.name)!);
  for (const c of cases) {
    const v = median(results.get(c.name)!);
    rows.push(
      `| ${pname} (${JSON.stringify(obj).length} B JSON) | ${c.name} | ${Math.round(v).toLocaleString('en')} | ${(v / base).toFixed(2)}× |`,
    );
  }
}
console.log(`Node ${process.version}; ${REPS} repetitions × ${MS} ms per case; round trip = encode body + pack + unpack + decode body\n`);
console.log('| payload | case | round trips/s (median) | × baseline |\n| --- | --- | ---: | ---: |');
console.log(rows.join('\n'));
