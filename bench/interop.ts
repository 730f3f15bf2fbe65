/**
 * Calls/s of our client against a real Go DMicro server and against our Node endpoint, same load,
 * one run: `/math/add` over WebSocket (RAW frames) and over TCP, closed loop, at 1 connection × 1
 * in flight, 1 × 64 pipelined and 8 × 16. Each server runs in its own process pinned to CPU 0
 * (Go with GOMAXPROCS=1), the client in this process pinned to CPU 1; cases are interleaved over
 * repetitions and figures are medians.   Run: npm run bench:interop [-- --ms 2000 --reps 3]
 */
import { spawn, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connect, type Session } from '../src/index.ts';
import { dialTcp } from '../adapters/node/index.ts';
import { goBinary } from '../test/interop/go.ts';
import { freePort, startGo, type GoProcess } from '../test/interop/peers.ts';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const MS = arg('ms', 2000);
const REPS = arg('reps', 3);
const pin = (() => {
  try {
    execFileSync('taskset', ['-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

interface Target {
  name: string;
  ws: string;
  tcp: number;
}

async function startNode(wsPort: number, tcpPort: number): Promise<GoProcess> {
  const script = fileURLToPath(new URL('./interop-endpoint.ts', import.meta.url));
  const args = ['--import', 'tsx', script, String(wsPort), String(tcpPort)];
  const child = pin
    ? spawn('taskset', ['-c', '0', process.execPath, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
    : spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => /READY/.test(d.toString()) && resolve());
    child.once('exit', (c) => reject(new Error(`node endpoint exited (${c})`)));
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return { pid: child.pid!, log: () => '', stop: () => (child.kill('SIGTERM'), exited) };
}

type Caller = { call(m: string, b: unknown): Promise<unknown>; close(): unknown };

async function open(kind: 'ws' | 'tcp', t: Target, n: number): Promise<Caller[]> {
  const out: Caller[] = [];
  for (let i = 0; i < n; i++) {
    if (kind === 'ws') {
      const c = connect(t.ws, { heartbeat: false, reconnect: false });
      await c.ready();
      out.push({ call: (m, b) => c.call(m, b), close: () => c.close() });
    } else {
      const s: Session = await dialTcp({ port: t.tcp, onError: () => {} });
      out.push({ call: (m, b) => s.call(m, b), close: () => s.close() });
    }
  }
  return out;
}

async function measure(callers: Caller[], inflight: number): Promise<number> {
  let n = 0;
  let running = true;
  const loop = async (c: Caller) => {
    while (running) {
      const r = (await c.call('/math/add', { a: 73, b: 1500 })) as number;
      if (r !== 1573) throw new Error(`bad reply ${r}`);
      n++;
    }
  };
  const warm = Date.now() + 300;
  const loops = callers.flatMap((c) => Array.from({ length: inflight }, () => loop(c)));
  while (Date.now() < warm) await new Promise((r) => setTimeout(r, 20));
  const start = n;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, MS));
  const got = n - start;
  const dt = performance.now() - t0;
  running = false;
  await Promise.all(loops);
  return (got / dt) * 1000;
}

const cells: [string, number, number][] = [
  ['1x1', 1, 1],
  ['1x64', 1, 64],
  ['8x16', 8, 16],
];

const [gw, gt, nw, nt] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
process.env.GOMAXPROCS = '1'; // one core for the Go server, as the Node endpoint has
const goBin = goBinary('server');
const go = await startGo(pin ? 'taskset' : goBin, [
  ...(pin ? ['-c', '0', goBin] : []),
  '-ws-raw',
  String(gw),
  '-tcp',
  String(gt),
  '-quiet',
]);
const node = await startNode(nw, nt);
const targets: Target[] = [
  { name: 'Go DMicro server', ws: `ws://127.0.0.1:${gw}/ws`, tcp: gt },
  { name: 'Node endpoint (ours)', ws: `ws://127.0.0.1:${nw}/ws`, tcp: nt },
];
const results = new Map<string, number[]>();
try {
  for (let r = 0; r < REPS; r++) {
    for (const [cell, conns, inflight] of cells) {
      for (const kind of ['ws', 'tcp'] as const) {
        const order = r % 2 ? [...targets].reverse() : targets;
        for (const t of order) {
          const callers = await open(kind, t, conns);
          const rate = await measure(callers, inflight);
          await Promise.all(callers.map((c) => c.close()));
          const key = `${kind}|${cell}|${t.name}`;
          results.set(key, [...(results.get(key) ?? []), rate]);
        }
      }
    }
  }
} finally {
  await go.stop();
  await node.stop();
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`Node ${process.version}; ${REPS} repetitions × ${MS} ms per case; pinned: ${pin}; Go server GOMAXPROCS=1\n`);
console.log('| transport | cell | Go DMicro server calls/s | Node endpoint calls/s | Node ÷ Go |\n| --- | --- | ---: | ---: | ---: |');
for (const kind of ['ws', 'tcp'] as const)
  for (const [cell] of cells) {
    const g = median(results.get(`${kind}|${cell}|Go DMicro server`)!);
    const n = median(results.get(`${kind}|${cell}|Node endpoint (ours)`)!);
    console.log(
      `| ${kind === 'ws' ? 'WebSocket (RAW frames)' : 'TCP (RAW)'} | ${cell} | ${Math.round(g).toLocaleString('en')} | ${Math.round(n).toLocaleString('en')} | ${(n / g).toFixed(2)}× |`,
    );
  }
