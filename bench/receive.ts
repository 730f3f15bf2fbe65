/**
 * The client's receive path for one pushed message, without sockets: a RAW PUSH frame (as `ws`
 * hands it: a slice of a larger Buffer) into Session.receiveFrame → unpack → route → json decode →
 * the handler. Nanoseconds and JS-heap bytes allocated per message (counted over 1,000 messages
 * right after a full GC, so that no scavenge runs while it counts). A fan-out client receives thousands
 * of these a second, so what each one allocates is what its GC pauses are made of.
 *   Run: npm run bench:receive [-- --messages 2000000]
 */
import v8 from 'node:v8';
import { PerformanceObserver } from 'node:perf_hooks';
import { Session, autoProto, createMessage, jsonCodec, MType, rawProto } from '../src/index.ts';
import type { Transport } from '../src/transport/transport.ts';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const N = arg('messages', 2_000_000);

const body = jsonCodec.encode({ seq: 1, t: 123456789.123, a: 73, b: 1500 });
const frame = rawProto().pack(createMessage({ mtype: MType.Push, seq: 123456, serviceMethod: '/msg', bodyCodec: 106, body })) as Uint8Array;
const pool = Buffer.allocUnsafe(8192);
pool.set(frame, 100);
const buf = pool.subarray(100, 100 + frame.length);

const transport = { kind: 'websocket', remoteAddress: 'bench', listen() {}, send() {}, close() {} } as unknown as Transport;
const session = new Session(transport, { proto: autoProto({ initial: 'raw', learn: false }) });
let sum = 0;
session.router.routePush('/msg', (m) => void (sum += (m as { a: number }).a));

let gcs = 0;
let gcMs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gcs++;
    gcMs += e.duration;
  }
}).observe({ entryTypes: ['gc'] });

for (let i = 0; i < 200_000; i++) session.receiveFrame(buf); // warm-up
const gc = (globalThis as { gc?: () => void }).gc;
const allocated = (): number => {
  gc?.();
  gcs = 0;
  const before = v8.getHeapStatistics().used_heap_size;
  for (let i = 0; i < 1000; i++) session.receiveFrame(buf);
  const after = v8.getHeapStatistics().used_heap_size;
  return (after - before) / 1000;
};
await new Promise((r) => setTimeout(r, 20));
let bytes = allocated();
for (let tries = 0; tries < 5 && gcs > 1; tries++) bytes = allocated(); // a scavenge ran meanwhile: count again
await new Promise((r) => setTimeout(r, 20));
gc?.();
await new Promise((r) => setTimeout(r, 20));
gcs = gcMs = 0;
const t0 = performance.now();
for (let i = 0; i < N; i++) session.receiveFrame(buf);
const ms = performance.now() - t0;
await new Promise((r) => setTimeout(r, 20));
console.log(`Node ${process.version}; a ${frame.length}-byte RAW PUSH, json body, ${N.toLocaleString('en')} messages`);
console.log(`| ns per message | heap bytes allocated per message | GCs (their ms) |\n| ---: | ---: | ---: |`);
console.log(`| ${Math.round((ms * 1e6) / N)} | ${gc ? Math.round(bytes) : 'run with --expose-gc'} | ${gcs} (${gcMs.toFixed(0)} ms) |`);
if (sum === 0) throw new Error('the handler never ran');
