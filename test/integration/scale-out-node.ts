/**
 * A node in a process of its own, for the scale-out test that kills one (SIGKILL, as a crash): an
 * endpoint with a Redis broker, from REDIS_URL (or REDIS_CLUSTER: startup nodes as JSON),
 * DRPC_PREFIX, HEARTBEAT_MS and KEEP_REPLIES. It prints `listening <port>` once it serves; `/name`
 * gives the calling session the id it is sent; `/incr` counts in Redis how often it ran (counter.ts).
 */
import { createEndpoint } from '../../adapters/node/endpoint.ts';
import { redisBroker } from '../../adapters/redis/broker.ts';
import { counterRedis, routeIncr } from './counter.ts';
import { withSuiteAuth } from './helpers.ts';

const cluster = process.env.REDIS_CLUSTER ? (JSON.parse(process.env.REDIS_CLUSTER) as { host: string; port: number }[]) : undefined;
const broker = redisBroker({
  redis: process.env.REDIS_URL,
  cluster,
  prefix: process.env.DRPC_PREFIX,
  heartbeatMs: Number(process.env.HEARTBEAT_MS),
  keepReplies: process.env.KEEP_REPLIES === '1',
});
const ep = createEndpoint(withSuiteAuth({ broker }));
ep.route('/name', (id: unknown, ctx) => {
  ctx.session.setId(String(id));
  return ctx.session.id;
});
routeIncr(ep as never, counterRedis({ redis: process.env.REDIS_URL, cluster }));
const { port } = await ep.listen({ path: '/rpc' });
console.log(`listening ${port}`);
