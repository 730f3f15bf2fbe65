/**
 * Two endpoints (two "nodes", here in one process) share topics and session pushes through Redis.
 * A client subscribed on node A gets what node B publishes, moves to node B and resumes there, and
 * receives a push that node B addresses to its session id.
 *
 *   redis-server --port 6379 --save '' --appendonly no &
 *   REDIS_URL=redis://127.0.0.1:6379 node --import tsx examples/two-nodes.ts
 */
import { connect } from '../src/index.ts';
import { createEndpoint } from '../adapters/node/index.ts';
import { redisBroker } from '../adapters/redis/index.ts';

const redis = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `example-${process.pid}:`; // keys of this run only
const nodes = await Promise.all(
  ['A', 'B'].map(async (name) => {
    const broker = redisBroker({ redis, prefix });
    const ep = createEndpoint({ broker });
    ep.topic('/chat/lobby', { history: { count: 100 } });
    const { url } = await ep.listen({ path: '/rpc' });
    ep.on('session', (s) => s.setId(`user-${s.transport.remoteAddress.split(':').pop()}`));
    return { name, broker, ep, url };
  }),
);
const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];

// A client on node A, subscribed to the lobby.
const client = connect(a.url, { heartbeat: false });
const seen: string[] = [];
const sub = client.subscribe('/chat/lobby', (msg, { offset }) => {
  seen.push(`${offset}:${(msg as { text: string }).text}`);
  console.log(`client  got offset ${offset}: ${(msg as { text: string }).text}`);
});
client.onPush('/note', (msg) => console.log('client  got a push from node B:', msg));
await sub.ready;

// Node B publishes: Redis gives the offset, every node delivers it.
console.log('node B  published at offset', await b.ep.publish('/chat/lobby', { text: 'hello from B' }));
console.log('node A  published at offset', await a.ep.publish('/chat/lobby', { text: 'hello from A' }));
while (seen.length < 2) await new Promise((r) => setTimeout(r, 10));

// Node B pushes to the client's session, which node A holds.
const id = a.ep.sessions.list()[0]!.id;
await new Promise((r) => setTimeout(r, 50)); // node A listens to the renamed session's channel
await b.ep.push(id, '/note', { text: `to ${id}, relayed through Redis` });
await new Promise((r) => setTimeout(r, 50));

// The client moves to node B (node A closes; a load balancer would send it on): it resumes there.
await a.ep.close({ drain: 0 });
await b.ep.publish('/chat/lobby', { text: 'published while the client was away' });
const moved = connect(b.url, { heartbeat: false });
const resumed = moved.subscribe(
  '/chat/lobby',
  (msg, { offset }) => console.log(`client  on node B resumed at offset ${offset}: ${(msg as { text: string }).text}`),
  { since: sub.offset },
);
await resumed.ready;
await new Promise((r) => setTimeout(r, 50));

await Promise.all([client.close(), moved.close()]);
await b.ep.close({ drain: 0 });
await Promise.all(nodes.map((n) => n.broker.close()));
