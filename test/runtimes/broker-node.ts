/**
 * A node of a brokered cluster inside whatever runtime loads this file (Deno, Bun): createEndpoint
 * with redisBroker (drpc/redis, ioredis) on the Redis and prefix given as arguments, the topic
 * `/feed`, and `/name` (gives the calling session an id) and `/publish` (publishes to `/feed` from
 * this node). Prints `{ runtime, url }`, serves until its standard input closes, then closes the
 * endpoint and the broker and prints `{ closed: true, errors }`. Startup failures print `{ fatal }`.
 *
 *   node_modules/.bin/bun test/runtimes/broker-node.ts redis://127.0.0.1:6379 prefix:
 *   node_modules/.bin/deno run --allow-net=127.0.0.1 --allow-env test/runtimes/broker-node.ts …
 */
import process from 'node:process';
import { createEndpoint } from '../../adapters/node/endpoint.ts';
import { redisBroker } from '../../adapters/redis/broker.ts';
import { runtimeName } from './contract.ts';

const line = (v: unknown) => console.log(JSON.stringify(v));
const fail = (what: string) => (err: unknown) => line({ [what]: String((err as Error)?.stack ?? err) });
process.on('uncaughtException', fail('uncaught'));
process.on('unhandledRejection', fail('unhandled'));

try {
  const [redis, prefix] = process.argv.slice(2);
  const errors: string[] = [];
  const broker = redisBroker({ redis, prefix, onError: (err) => void errors.push(err.detail) });
  const ep = createEndpoint({ broker, onError: (err) => void errors.push(err.detail) });
  ep.topic('/feed');
  ep.route('/name', (id: unknown, ctx) => (ctx.session.setId(String(id)), ctx.session.id));
  ep.route('/publish', (n: unknown) => ep.publish('/feed', n));
  const { url } = await ep.listen({ path: '/rpc' });
  line({ runtime: runtimeName(), url });
  process.stdin.resume();
  process.stdin.on('end', async () => {
    await ep.close({ drain: 0 });
    await broker.close();
    line({ closed: true, errors });
    process.exit(0);
  });
} catch (err) {
  fail('fatal')(err);
  process.exit(1);
}
