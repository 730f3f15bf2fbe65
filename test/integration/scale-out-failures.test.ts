/**
 * Scale-out when things fail: a node that dies (a crash, or its whole machine), a node whose Redis
 * subscription drops, junk on the broker's channels, and Redis itself down. Two nodes on one real
 * Redis (or a Redis Cluster, DRPC_TEST_REDIS=cluster), as in scale-out.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { createEndpoint } from '../../adapters/node/endpoint.ts';
import { redisBroker } from '../../adapters/redis/broker.ts';
import { serveCalls } from '../../src/serve.ts';
import { Code, DrpcError } from '../../src/status.ts';
import type { Gap } from '../../src/topics.ts';
import type { TopicMessageInfo } from '../../src/subscriptions.ts';
import { RedisServer } from '../redis-server.ts';
import { Harness, TRANSPORT, delay, rejection, until, withSuiteAuth } from './helpers.ts';
import { backendPerFile, nodesOn, reachable, tcpSwitch, ON_CLUSTER, STANDALONE_ONLY } from './nodes.ts';
import { RedisCluster } from '../redis-cluster.ts';

const { redis, backend } = backendPerFile();
const { childNode, twoNodes, nextPrefix, node } = nodesOn(backend);
/** An HTTP session does not move to another node: its requests are relayed to its node instead. */
const NO_MOVE_OVER_HTTP = TRANSPORT === 'http' ? { skip: 'WebSocket only: an HTTP session stays on its node' } : {};

describe('scale-out over Redis when a node, its machine, its subscription or Redis fails', { timeout: 60_000 }, () => {
  test(
    'a client whose previous node went silent (a dead machine: its Redis connection still open) is served on the next node at once, without waiting for a hand-off',
    { ...NO_MOVE_OVER_HTTP, ...STANDALONE_ONLY },
    async (t) => {
      const { h, a, b, prefix } = await twoNodes(t, {}, { timeoutMs: 4000 });
      for (const n of [a, b]) n.ep.route('/ping' as never, (() => 'pong') as never);
      const lb = await tcpSwitch(h, a.port);
      const c = h.client(lb.url);
      assert.equal(await c.call('/ping'), 'pong');
      // A node that died with its machine: Redis still counts its subscriber, but it beats no more.
      const ghost = `${prefix}r:ghost`;
      const listener = new Redis(redis().url);
      h.defer(() => listener.disconnect());
      await listener.subscribe(ghost);
      assert.equal(await redis().command('SET', `${prefix}o:{${c.id}}`, ghost), '+OK\r\n');
      const cut = Date.now();
      lb.to(b.port);
      await until(() => b.ep.sessions.count === 1, 'the client on node B', 5000);
      assert.equal(await c.call('/ping'), 'pong');
      const took = Date.now() - cut;
      assert.ok(took < 2000, `served in ${took} ms, not after the broker's 4000 ms wait for the ghost`);
    },
  );

  test('a relayed call settles when the node holding its session dies (102), even without a timeout', async (t) => {
    const h = new Harness(t);
    const prefix = nextPrefix();
    const b = await node(h, prefix, {}, { heartbeatMs: 100 });
    const a = await childNode(h, prefix, 100);
    const c = h.client(a.url, { serve: serveCalls, reconnect: false });
    let asked = 0;
    let answer = () => {};
    c.route('/ui/never', () => (asked++, new Promise<void>((r) => (answer = r))));
    h.defer(() => answer(), true); // before the client closes (which waits for running handlers)
    assert.equal(await c.call('/name', 'user-9'), 'user-9');
    await reachable(b.ep, 'user-9', c); // node A listens to the renamed session's channel
    const call = rejection(b.ep.call('user-9', '/ui/never' as never, null as never, { timeout: 0 }));
    await until(() => asked === 1, 'the call reaching the client through node A');
    a.kill(); // a crash: no goodbye to Redis, the session's channel and A's key just go silent
    const gone = await call;
    assert.equal(gone.code, Code.ConnClosed);
    assert.match(gone.causeText, /call "\/ui\/never" on session "user-9": the node holding the session is gone/);
  });

  test('a node whose Redis subscription drops reads back what it missed: nothing lost, no gap', STANDALONE_ONLY, async (t) => {
    const { h, a, b } = await twoNodes(t);
    for (const n of [a, b]) n.ep.topic('/ticks' as never);
    const got: number[] = [];
    const gaps: Gap[] = [];
    const c = h.client(a.url);
    c.on('gap', (g) => void gaps.push(g));
    await c.subscribe('/ticks', (m) => void got.push(m as number)).ready;
    await b.ep.publish('/ticks' as never, 1 as never);
    await until(() => got.length === 1, 'the first');
    assert.match(await redis().command('CLIENT', 'KILL', 'TYPE', 'pubsub'), /^:[1-9]/, 'the subscriber connections were cut');
    for (let i = 2; i <= 5; i++) await b.ep.publish('/ticks' as never, i as never); // nobody listens on the channel now
    await until(() => got.length === 5, 'the catch-up after the subscriber reconnected');
    await b.ep.publish('/ticks' as never, 6 as never);
    await until(() => got.length === 6, 'live again');
    await delay(30);
    assert.deepEqual(got, [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(gaps, []);
  });

  test("a malformed message on the broker's channels is reported, never thrown, and delivery goes on", STANDALONE_ONLY, async (t) => {
    const { h, a, b } = await twoNodes(t);
    for (const n of [a, b]) n.ep.topic('/ticks' as never);
    const got: number[] = [];
    const c = h.client(a.url);
    await c.subscribe('/ticks', (m) => void got.push(m as number)).ready;
    await until(() => a.ep.sessions.count === 1, 'the session on A');
    const id = a.ep.sessions.list()[0]!.id;
    await delay(50); // node A listens to the session's channel
    const prefix = a.broker.prefix;
    for (const [channel, junk] of [
      [`${prefix}{t:/ticks}:c`, 'no-offset-here'],
      [`${prefix}{t:/ticks}:c`, 'x:e:{}'],
      [`${prefix}s:${id}`, '"not a list"'],
      [`${prefix}b`, '{'],
    ] as const)
      assert.match(await redis().command('PUBLISH', channel, junk), /^:[1-9]/, `someone heard ${channel}`);
    await b.ep.publish('/ticks' as never, 1 as never);
    await until(() => got.length === 1, 'delivery after the junk');
    assert.deepEqual(got, [1]);
    const reported = a.errors.filter((e) => /could not be read/.test(e.causeText));
    assert.ok(reported.length >= 3, `each junk message reported: ${a.errors.map((e) => e.causeText).join(' | ')}`);
  });

  test('Redis down: publish and subscribe fail with 502 naming what failed, within timeoutMs; when it is back (empty) the reset is a gap', async (t) => {
    const h = new Harness(t);
    const own = await RedisServer.start();
    t.after(() => own.stop());
    const errors: DrpcError[] = [];
    const broker = redisBroker({ redis: own.url, timeoutMs: 300, onError: (e) => errors.push(e) });
    h.defer(() => broker.close());
    const ep = createEndpoint(withSuiteAuth({ broker }));
    h.defer(() => ep.close({ drain: 0 }));
    const { url } = await ep.listen({ path: '/rpc' });
    ep.topic('/news');
    const got: number[] = [];
    const gaps: Gap[] = [];
    const c = h.client(url);
    c.on('gap', (g) => void gaps.push(g));
    await c.subscribe('/news', (m) => void got.push(m as number)).ready;
    assert.equal(await ep.publish('/news', 1), 1);
    await until(() => got.length === 1, 'the first');

    await own.stop();
    const started = Date.now();
    const failed = await rejection(ep.publish('/news', 2));
    assert.ok(failed instanceof DrpcError);
    assert.equal(failed.code, Code.BadGateway);
    assert.match(failed.causeText, /^publish to "\/news": redis: /);
    assert.ok(Date.now() - started < 3000, 'bounded by timeoutMs, not a hang');
    ep.topic('/other');
    const refused = await rejection(h.client(url).subscribe('/other', () => {}).ready);
    assert.equal(refused.code, Code.BadGateway);
    assert.ok(
      errors.some((e) => e.code === Code.BadGateway),
      'the lost connection was reported',
    );

    await own.start(); // same port, no data: the topic's history is gone
    let offset = 0;
    for (const end = Date.now() + 5000; !offset && Date.now() < end;)
      offset = await ep.publish('/news', 3).catch(() => delay(50).then(() => 0));
    await until(() => got.length === 2, 'the new epoch reached the client').catch((err: Error) => {
      throw new Error(
        `${err.message}: got ${JSON.stringify(got)}, gaps ${JSON.stringify(gaps)}, errors ${errors.map((e) => e.detail).join('; ')}`,
      );
    });
    assert.deepEqual(got, [1, 3]);
    const lost = errors.filter((e) => /^(commands|subscriber) connection: /.test(e.causeText));
    assert.ok(lost.length >= 1 && lost.length <= 2, `one report per connection and outage, not one per retry: ${lost.length}`);
    assert.equal(gaps[0]!.epochChanged, true, 'the lost history is reported, never silent');
    assert.equal(offset, 1, 'offsets start over in the new epoch');
  });

  test('Redis down: new connections are served at once (no wait for the broker), and their calls work', async (t) => {
    const h = new Harness(t);
    const own = await RedisServer.start();
    t.after(() => own.stop());
    const broker = redisBroker({ redis: own.url, timeoutMs: 60_000, onError: () => {} });
    h.defer(() => broker.close());
    const ep = createEndpoint(withSuiteAuth({ broker }));
    h.defer(() => ep.close({ drain: 0 }));
    ep.route('/echo', (x) => x);
    const { url } = await ep.listen({ path: '/rpc' });
    await own.stop();
    // Were the connection held until the broker answered, this call would time out (the broker waits 60 s).
    assert.equal(await h.client(url).call('/echo', 'still here', { timeout: 5000 }), 'still here');
  });

  test(
    'a Redis Cluster failover (a replica promoted): topic delivery resumes by itself, and what the channel lost meanwhile is read back, each once, in order',
    ON_CLUSTER ? {} : { skip: 'a Redis Cluster only (DRPC_TEST_REDIS=cluster)' },
    async (t) => {
      const cluster = await RedisCluster.start(3, 1);
      t.after(() => cluster.stop());
      const h = new Harness(t);
      const prefix = nextPrefix();
      const a = await node(h, prefix, {}, { cluster: cluster.nodes });
      const b = await node(h, prefix, {}, { cluster: cluster.nodes });
      for (const n of [a, b]) n.ep.topic('/ticks' as never);
      const c = h.client(b.url);
      const got: TopicMessageInfo[] = [];
      const gaps: Gap[] = [];
      c.on('gap', (g) => void gaps.push(g));
      await c.subscribe('/ticks', (_m, i) => void got.push(i)).ready;
      const offsets: number[] = [];
      let streaming = true;
      const publisher = (async () => {
        const inFlight: Promise<unknown>[] = [];
        for (let k = 1; streaming; k++) {
          inFlight.push(
            a.ep.publish('/ticks' as never, k as never).then(
              (o) => offsets.push(o),
              () => {},
            ),
          ); // a 502 during the switch is explicit
          await delay(5);
        }
        await Promise.all(inFlight);
      })();
      await until(() => got.length >= 20, 'delivery before the failover', 5000);
      const hash = `${prefix}{t:/ticks}:m`; // the topic's epoch and last offset (adapters/redis/scripts.ts)
      const epoch = await cluster.call('HGET', hash, 'epoch');
      await cluster.failover(hash); // the shard holding the topic's keys and channel
      const switched = offsets.length;
      await until(() => offsets.length > switched + 100, 'publishes after the failover', 10_000);
      streaming = false;
      await publisher;
      const [now, last] = [await cluster.call('HGET', hash, 'epoch'), Number(await cluster.call('HGET', hash, 'offset'))];
      const seen = () => got.filter((i) => i.epoch === now).length;
      await until(() => seen() >= last, `every message up to ${last} on node B (got ${seen()})`, 15_000);
      const inOrder = (list: TopicMessageInfo[]) => list.map((i) => i.offset);
      const from1 = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
      if (now === epoch) {
        assert.deepEqual(inOrder(got), from1(got.length), 'every offset once, in order');
        assert.deepEqual(gaps, [], 'the lost channel messages were read back: no gap');
        return;
      }
      // A manual failover should keep every write, yet once in about 50 CI runs the promoted replica
      // held none of the topic's keys (Redis's doing: a new epoch means the hash was gone). Then the
      // promise is the other one: the reset is reported as a gap, and nothing is lost or repeated in
      // either history.
      t.diagnostic(`the failover lost the topic's keys in Redis (epoch ${epoch} → ${now}): checking the reset is reported`);
      const reset = got.findIndex((i) => i.epoch === now);
      assert.ok(reset > 0, 'the old epoch was delivered first');
      assert.deepEqual(inOrder(got.slice(0, reset)), from1(reset), 'the old epoch: every offset once, in order');
      assert.deepEqual(inOrder(got.slice(reset)), from1(got.length - reset), 'the new epoch from its start: once, in order');
      assert.equal(gaps.filter((g) => g.epochChanged).length, 1, 'the reset reported as one gap');
    },
  );
});
