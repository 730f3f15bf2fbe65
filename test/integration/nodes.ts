/**
 * Nodes for the scale-out tests: endpoints with a Redis broker each (as on separate machines; each
 * test its own key prefix) on one redis-server or a Redis Cluster (DRPC_TEST_REDIS=cluster), a node
 * in a child process that a test can kill, and a TCP switch that moves clients between nodes as a
 * load balancer would.
 */
import { spawn } from 'node:child_process';
import { after, before, type TestContext } from 'node:test';
import { createEndpoint, type Endpoint, type EndpointOptions } from '../../adapters/node/endpoint.ts';
import { redisBroker, type RedisBroker, type RedisBrokerOptions } from '../../adapters/redis/broker.ts';
import { Code, type DrpcError } from '../../src/status.ts';
import type { Client } from '../../src/client.ts';
import { Harness, withSuiteAuth } from './helpers.ts';
import { faultProxy } from '../../adapters/node/fault-proxy.ts';
import { RedisServer } from '../redis-server.ts';
import { RedisCluster } from '../redis-cluster.ts';

let prefixes = 0;

/** Where the tests' brokers connect: one redis-server, or with DRPC_TEST_REDIS=cluster a Redis Cluster. */
export const ON_CLUSTER = process.env.DRPC_TEST_REDIS === 'cluster';
/** For tests that drive one redis-server directly (CLIENT KILL, a raw PUBLISH). */
export const STANDALONE_ONLY = ON_CLUSTER ? { skip: 'one redis-server only (it drives the server directly)' } : {};

export interface Backend {
  /** The `redis` or `cluster` option of redisBroker(). */
  target: Pick<RedisBrokerOptions, 'redis' | 'cluster'>;
  /** The environment a node in a child process reads it from. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** Starts what the tests' brokers connect to (see ON_CLUSTER); `standalone` is started either way. */
export async function startBackend(standalone: RedisServer): Promise<Backend> {
  if (!ON_CLUSTER) return { target: { redis: standalone.url }, env: { REDIS_URL: standalone.url }, stop: async () => {} };
  const cluster = await RedisCluster.start();
  return { target: { cluster: cluster.nodes }, env: { REDIS_CLUSTER: JSON.stringify(cluster.nodes) }, stop: () => cluster.stop() };
}

/** A redis-server, and the backend the tests' brokers use (see ON_CLUSTER), for the tests of one file: started before them, stopped after. */
export function backendPerFile(): { redis: () => RedisServer; backend: () => Backend } {
  let redis: RedisServer | undefined;
  let backend: Backend | undefined;
  before(async () => {
    redis = await RedisServer.start();
    backend = await startBackend(redis);
  });
  after(async () => {
    await backend?.stop();
    await redis?.stop();
  });
  return { redis: () => redis!, backend: () => backend! };
}

/** The nodes of a test cluster on `backend()` (read when a node starts). */
export function nodesOn(backend: () => Backend) {
  const node = (h: Harness, prefix: string, options: EndpointOptions = {}, brokerOptions: RedisBrokerOptions = {}) =>
    startNode(h, backend().target, prefix, options, brokerOptions);
  return {
    /** A key and channel prefix no other test uses. */
    nextPrefix: () => `t${++prefixes}:`,
    node,
    childNode: (h: Harness, prefix: string, heartbeatMs: number, env: Record<string, string> = {}) =>
      childNode(h, { ...backend().env, ...env }, prefix, heartbeatMs),
    /** Two nodes on one Redis, sharing a prefix of their own. */
    async twoNodes(
      t: TestContext,
      options: EndpointOptions = {},
      brokerOptions: RedisBrokerOptions = {},
    ): Promise<{ h: Harness; a: Node; b: Node; prefix: string }> {
      const h = new Harness(t);
      const prefix = `t${++prefixes}:`;
      return { h, prefix, a: await node(h, prefix, options, brokerOptions), b: await node(h, prefix, options, brokerOptions) };
    },
  };
}

export type Node = { ep: Endpoint<never, Promise<number>>; broker: RedisBroker; port: number; url: string; errors: DrpcError[] };

/** An endpoint with a Redis broker of its own, as on a separate node; all nodes of a test share one prefix. */
async function startNode(
  h: Harness,
  target: Backend['target'],
  prefix: string,
  options: EndpointOptions = {},
  brokerOptions: RedisBrokerOptions = {},
): Promise<Node> {
  const errors: DrpcError[] = [];
  const broker = redisBroker({ ...target, prefix, onError: (e) => errors.push(e), ...brokerOptions });
  h.defer(() => broker.close());
  const ep = createEndpoint(withSuiteAuth({ broker, onError: (e) => errors.push(e), ...options })) as unknown as Node['ep'];
  h.defer(() => ep.close({ drain: 0 }));
  const { port, url } = await ep.listen({ path: '/rpc' });
  return { ep, broker, port, url, errors };
}

/** A node in a child process (scale-out-node.ts), which a test can kill as a crash would. */
async function childNode(
  h: Harness,
  env: Record<string, string>,
  prefix: string,
  heartbeatMs: number,
): Promise<{ url: string; kill(): void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/integration/scale-out-node.ts'], {
    env: { ...process.env, ...env, DRPC_PREFIX: prefix, HEARTBEAT_MS: String(heartbeatMs) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const kill = () => void child.kill('SIGKILL');
  h.defer(kill);
  process.once('exit', kill);
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      const m = /listening (\d+)/.exec((out += d.toString()));
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`the child node exited (${code}) before listening: ${out}`)));
  });
  return { url: `ws://127.0.0.1:${port}/rpc`, kill };
}

/**
 * Waits until session `id` is reachable from `ep` (its node listens to its channel: a few ms after it
 * opened or was renamed, longer on a cluster's first sharded subscription): probes with a push that
 * `client`, the session's client, listens to.
 */
export async function reachable(ep: Node['ep'], id: string, client: Client): Promise<void> {
  client.onPush('/probe', () => {});
  for (const end = Date.now() + 5000; ; await new Promise((r) => setTimeout(r, 20))) {
    try {
      return await ep.push(id, '/probe' as never, null as never);
    } catch (err) {
      if ((err as DrpcError).code !== Code.NotFound || Date.now() > end) throw err;
    }
  }
}

/**
 * A load balancer in front of the nodes (faultProxy from drpc/node): `to(port)` sends new connections
 * there and cuts the current ones; `cut()` only cuts them; `pause()` cuts them and refuses new ones
 * until `to()`.
 */
export async function tcpSwitch(
  h: Harness,
  port: number,
  next?: () => number,
): Promise<{ url: string; to(port: number): void; cut(): void; pause(): void; counts: ReadonlyMap<number, number> }> {
  const proxy = await faultProxy({ target: next ?? port });
  h.defer(() => proxy.close());
  return { url: proxy.url('/rpc'), to: (p) => proxy.to(p), cut: () => proxy.cut(), pause: () => proxy.refuse(), counts: proxy.accepted };
}
