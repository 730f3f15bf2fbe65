/**
 * What the Redis broker costs a topic: the same publishers and subscribers on one node in memory,
 * on one node through Redis, and on two nodes through Redis (publishing on node A, half of the
 * subscribers on node B). Throughput: messages published with up to `--window` unanswered, until
 * every subscriber has every one (as many handlers publishing at once would: ioredis pipelines them); latency: one publish at a time until every subscriber has it.
 * Then a server → client call to a session on another node, against the same call on its own node;
 * and a client's durable call on a node with a broker, without and with `keepReplies`.
 * Starts its own redis-server on a free port (REDIS_URL to use yours).
 *   Run: npm run bench:scale-out [-- --messages 5000 --subscribers 10 --window 100]
 */
import { connect, serveCalls, type Client } from '../src/index.ts';
import { createEndpoint, type Endpoint } from '../adapters/node/index.ts';
import { redisBroker, type RedisBroker } from '../adapters/redis/index.ts';
import { RedisServer } from '../test/redis-server.ts';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const MESSAGES = arg('messages', 5000);
const SUBSCRIBERS = arg('subscribers', 10);
const WINDOW = arg('window', 100);
const ROUND_TRIPS = arg('round-trips', 500);

type Publish = (n: number) => number | Promise<number>;

async function scenario(label: string, nodes: number, redis: string | undefined): Promise<string> {
  const brokers: RedisBroker[] = [];
  const eps: Endpoint<never, number | Promise<number>>[] = [];
  const urls: string[] = [];
  const prefix = `bench-${process.pid}-${label.replace(/\W+/g, '-')}:`;
  for (let i = 0; i < nodes; i++) {
    const broker = redis ? redisBroker({ redis, prefix }) : undefined;
    if (broker) brokers.push(broker);
    const ep = createEndpoint(broker ? { broker, onError: () => {} } : { onError: () => {} }) as unknown as Endpoint<
      never,
      number | Promise<number>
    >;
    ep.topic('/t' as never, { history: { count: 1000 } });
    eps.push(ep);
    urls.push((await ep.listen({ path: '/rpc' })).url);
  }
  let received = 0;
  const clients: Client[] = [];
  for (let i = 0; i < SUBSCRIBERS; i++) {
    const c = connect(urls[i % nodes]!, { heartbeat: false });
    await c.subscribe('/t', () => void received++).ready;
    clients.push(c);
  }
  const publish: Publish = (n) => eps[0]!.publish('/t' as never, { n, text: 'a small chat message of some length' } as never);
  const waitFor = async (total: number) => {
    while (received < total) await new Promise((r) => setImmediate(r));
  };

  // Throughput: up to WINDOW publishes unanswered by the subscribers.
  received = 0;
  const t0 = performance.now();
  const unanswered = new Set<Promise<number>>();
  for (let n = 1; n <= MESSAGES; n++) {
    const p = publish(n);
    if (p instanceof Promise) {
      unanswered.add(p);
      void p.then(() => unanswered.delete(p));
      if (unanswered.size >= WINDOW) await Promise.race(unanswered);
    }
    if (n - received / SUBSCRIBERS > WINDOW) await waitFor((n - WINDOW) * SUBSCRIBERS);
  }
  await Promise.all(unanswered);
  await waitFor(MESSAGES * SUBSCRIBERS);
  const rate = MESSAGES / ((performance.now() - t0) / 1000);

  // Latency: one message at a time, until every subscriber has it.
  const times: number[] = [];
  for (let n = 1; n <= ROUND_TRIPS; n++) {
    received = 0;
    const t = performance.now();
    await publish(n);
    await waitFor(SUBSCRIBERS);
    times.push(performance.now() - t);
  }
  times.sort((x, y) => x - y);
  const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))]!.toFixed(2);

  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(eps.map((ep) => ep.close({ drain: 0 })));
  await Promise.all(brokers.map((b) => b.close()));
  return `| ${label} | ${Math.round(rate).toLocaleString('en')} msg/s | ${Math.round(rate * SUBSCRIBERS).toLocaleString('en')} | ${q(0.5)} ms | ${q(0.99)} ms |`;
}

/**
 * What a server → client call costs when the session is on another node: node A calls a client of
 * node B by its session id (published on the session's channel, taken, answered through A's node
 * channel), one call at a time, against the same call made on the node that holds the session.
 */
async function relayedCalls(redis: string): Promise<string[]> {
  const prefix = `bench-${process.pid}-calls:`;
  const brokers = [redisBroker({ redis, prefix }), redisBroker({ redis, prefix })];
  const [a, b] = brokers.map((broker) => createEndpoint({ broker, onError: () => {} }));
  const { url } = await b!.listen({ path: '/rpc' });
  const c = connect(url, { heartbeat: false, serve: serveCalls });
  c.route('/ui/echo', (x) => x);
  b!.route('/name', (id: unknown, ctx) => ctx.session.setId(String(id)));
  await c.call('/name', 'bench-user');
  for (;;) {
    try {
      await a!.call('bench-user', '/ui/echo' as never, 0 as never); // reachable from A: B listens to the renamed session
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  const row = (label: string, from: typeof a) => timed(label, (n) => from!.call('bench-user', '/ui/echo' as never, n as never));
  try {
    return [await row('on the node holding the session', b), await row('from another node, through Redis', a)];
  } finally {
    await c.close();
    await Promise.all([a!.close({ drain: 0 }), b!.close({ drain: 0 })]);
    await Promise.all(brokers.map((broker) => broker.close()));
  }
}

/** Sequential timings of `call`: rate, p50, p99 as a table row. */
async function timed(label: string, call: (n: number) => Promise<unknown>): Promise<string> {
  const times: number[] = [];
  const t0 = performance.now();
  for (let n = 1; n <= ROUND_TRIPS; n++) {
    const t = performance.now();
    await call(n);
    times.push(performance.now() - t);
  }
  const rate = ROUND_TRIPS / ((performance.now() - t0) / 1000);
  times.sort((x, y) => x - y);
  const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))]!.toFixed(2);
  return `| ${label} | ${Math.round(rate).toLocaleString('en')} calls/s | ${q(0.5)} ms | ${q(0.99)} ms |`;
}

/** A client's durable call (the default) on a node with a Redis broker, without and with `keepReplies` (one write before the handler, one after). */
async function durableCalls(redis: string): Promise<string[]> {
  const rows: string[] = [];
  for (const keepReplies of [false, true]) {
    const broker = redisBroker({ redis, prefix: `bench-${process.pid}-durable-${keepReplies}:`, keepReplies });
    const ep = createEndpoint({ broker, onError: () => {} });
    ep.route('/echo', (x) => x);
    const { url } = await ep.listen({ path: '/rpc' });
    const c = connect(url, { heartbeat: false });
    try {
      await c.call('/echo', 0);
      rows.push(await timed(keepReplies ? 'durable call, keepReplies' : 'durable call (default)', (n) => c.call('/echo', n)));
    } finally {
      await c.close();
      await ep.close({ drain: 0 });
      await broker.close();
    }
  }
  return rows;
}

let server: RedisServer | undefined;
const url = process.env.REDIS_URL ?? (server = await RedisServer.start()).url;
console.log(
  `Node ${process.version}; ${SUBSCRIBERS} subscribers (WebSocket clients), ${MESSAGES} messages, window ${WINDOW}; latency over ${ROUND_TRIPS} single publishes\n`,
);
console.log('| setup | published | delivered/s | latency p50 | p99 |\n| --- | ---: | ---: | ---: | ---: |');
try {
  console.log(await scenario('one node, memory', 1, undefined));
  console.log(await scenario('one node, Redis broker', 1, url));
  console.log(await scenario('two nodes, Redis broker', 2, url));
  console.log(`\nServer → client calls, one at a time (${ROUND_TRIPS}):\n`);
  console.log('| call | rate | p50 | p99 |\n| --- | ---: | ---: | ---: |');
  for (const line of await relayedCalls(url)) console.log(line);
  console.log(`\nClient → server durable calls, one at a time (${ROUND_TRIPS}), on a node with the Redis broker:\n`);
  console.log('| call | rate | p50 | p99 |\n| --- | ---: | ---: | ---: |');
  for (const line of await durableCalls(url)) console.log(line);
} finally {
  await server?.stop();
}
