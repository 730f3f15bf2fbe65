/**
 * Resume time after a forced disconnect: one subscriber, the endpoint drops its connection and at
 * once publishes a message; we time until the subscriber has it (detect the close, redial with the
 * client's backoff, re-subscribe from the last offset, replay). Reported for the default backoff
 * (min 500 ms, full jitter) and for a tight one (min 10 ms), p50/p99 over many drops.
 *   Run: npm run bench:resume [-- --drops 200]
 */
import { connect } from '../src/index.ts';
import { createEndpoint } from '../adapters/node/index.ts';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const DROPS = arg('drops', 200);
const kill = { code: 500, msg: 'Internal Server Error', cause: 'bench drop' };

async function run(label: string, min: number, drops: number): Promise<string> {
  const ep = createEndpoint({ onError: () => {} });
  ep.topic('/t');
  const { url } = await ep.listen({ path: '/rpc' });
  const c = connect(url, { heartbeat: false, reconnect: { min, max: Math.max(min * 4, 40) } });
  c.on('state', () => {});
  let last = 0;
  let notify: (() => void) | undefined;
  await c.subscribe('/t', (m) => {
    last = m as number;
    notify?.();
  }).ready;
  const times: number[] = [];
  for (let i = 1; i <= drops; i++) {
    const s = ep.sessions.list()[0]!;
    const got = new Promise<void>((r) => (notify = () => last === i && r()));
    const t0 = performance.now();
    ep.sessions.kick(s.id, kill);
    ep.publish('/t', i);
    await got;
    times.push(performance.now() - t0);
    while (ep.sessions.count === 0) await new Promise((r) => setTimeout(r, 1));
  }
  await c.close();
  await ep.close({ drain: 0 });
  times.sort((a, b) => a - b);
  const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))]!.toFixed(1);
  return `| ${label} | ${drops} | ${q(0.5)} ms | ${q(0.99)} ms | ${times.at(-1)!.toFixed(1)} ms |`;
}

console.log(`Node ${process.version}; one subscriber; each drop followed at once by one publish\n`);
console.log('| client backoff | drops | resume p50 | p99 | max |\n| --- | ---: | ---: | ---: | ---: |');
console.log(await run('default (min 500 ms, full jitter)', 500, Math.min(DROPS, 60)));
console.log(await run('tight (min 10 ms, full jitter)', 10, DROPS));
