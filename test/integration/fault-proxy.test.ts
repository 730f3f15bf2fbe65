/**
 * faultProxy() (drpc/node), used as a user's tests would use it: a client reaches a real endpoint
 * through the proxy, and the proxy breaks the network on command. What each fault does to the
 * connection, and that the client comes through each: once, in order, nothing lost.
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import type { Client } from '../../src/client.ts';
import { faultProxy, type FaultProxy } from '../../adapters/node/fault-proxy.ts';
import { Code, DrpcError } from '../../src/status.ts';
import { Harness, TRANSPORT, delay, until } from './helpers.ts';

async function proxied(h: Harness, target: number): Promise<FaultProxy> {
  const proxy = await faultProxy({ target });
  h.defer(() => proxy.close());
  return proxy;
}

/** An endpoint serving `/echo`, a proxy in front of it, and a client through the proxy. */
async function echoThroughProxy(t: TestContext): Promise<{ proxy: FaultProxy; c: Client }> {
  const h = new Harness(t);
  const { ep, port } = await h.endpoint();
  ep.route('/echo', (x) => x);
  const proxy = await proxied(h, port);
  return { proxy, c: h.client(proxy.url('/rpc')) };
}

describe('faultProxy: a network that fails on command, for tests', { timeout: 30_000 }, () => {
  test('cut: the client reconnects through the proxy, and a durable call that was running is answered once', async (t) => {
    const h = new Harness(t);
    const { ep, port } = await h.endpoint();
    let runs = 0;
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    ep.route('/ping', () => 'pong');
    ep.route('/slow', async () => (runs++, await gate, 'done'));
    const proxy = await proxied(h, port);
    const { client: c, log } = h.logged(proxy.url('/rpc'));
    assert.equal(await c.call('/ping'), 'pong');
    const slow = c.call('/slow');
    await until(() => runs === 1, 'the call running');
    proxy.cut();
    if (TRANSPORT === 'websocket') await log.waitFor('reconnecting');
    await until(() => proxy.open >= 1 && c.state === 'open', 'connected again through the proxy');
    open();
    assert.equal(await slow, 'done');
    assert.equal(runs, 1, 'the re-sent copy did not run again');
    assert.ok(proxy.accepted.get(port)! >= 2, 'a second connection');
  });

  test('freeze, then heal: nothing passes while frozen and nothing is lost; what was held arrives in order', async (t) => {
    const h = new Harness(t);
    const { ep, port } = await h.endpoint();
    const seen: number[] = [];
    ep.route('/note', (n: any) => (seen.push(n), n));
    const proxy = await proxied(h, port);
    const c = h.client(proxy.url('/rpc'));
    assert.equal(await c.call('/note', 0), 0);
    proxy.freeze();
    const calls = [1, 2, 3].map((n) => c.call('/note', n));
    await delay(100);
    assert.deepEqual(seen, [0], 'nothing reached the endpoint while frozen');
    proxy.heal();
    assert.deepEqual(await Promise.all(calls), [1, 2, 3]);
    assert.deepEqual(seen, [0, 1, 2, 3]);
  });

  test(
    'freeze without heal (half-open): the heartbeat finds the dead connection and the client reconnects',
    { skip: TRANSPORT === 'http' ? 'the WebSocket heartbeat (the HTTP fallback has its own stream timeouts)' : false },
    async (t) => {
      const h = new Harness(t);
      const { ep, port } = await h.endpoint();
      ep.route('/ping', () => 'pong');
      const proxy = await proxied(h, port);
      const { client: c, log } = h.logged(proxy.url('/rpc'), { heartbeat: { rate: 3 } });
      assert.equal(await c.call('/ping'), 'pong');
      proxy.freeze();
      const lost = await log.waitFor('reconnecting', 0, 10_000);
      assert.match(lost.reason, /heartbeat|no frame/);
      proxy.heal();
      await until(() => c.state === 'open', 'open again', 5000);
      assert.equal(await c.call('/ping'), 'pong');
    },
  );

  test('refuse, then heal: nothing gets through while refused (the client redials, its call waits), then the call is sent', async (t) => {
    const { proxy, c } = await echoThroughProxy(t);
    await c.ready();
    proxy.refuse();
    // Over WebSocket the client redials at once; over HTTP it retries its requests for a while first.
    if (TRANSPORT === 'websocket') await until(() => c.state === 'reconnecting', 'the client lost its connection');
    let settled = false;
    const queued = c.call('/echo', 'kept').finally(() => (settled = true));
    await delay(150);
    assert.equal(settled, false, 'every connection refused: the call waits');
    proxy.heal();
    assert.equal(await queued, 'kept');
  });

  test('latency: each way waits; heal takes it away', async (t) => {
    const { proxy, c } = await echoThroughProxy(t);
    assert.equal(await c.call('/echo', 'warm'), 'warm');
    proxy.latency(60);
    const started = Date.now();
    assert.equal(await c.call('/echo', 'slow'), 'slow');
    assert.ok(Date.now() - started >= 110, `the call waited both ways (${Date.now() - started} ms)`);
    proxy.heal();
    assert.equal(await c.call('/echo', 'fast'), 'fast');
  });

  test('to(): new connections go to another endpoint (a deploy), open ones are cut and follow', async (t) => {
    const h = new Harness(t);
    const a = await h.endpoint();
    const b = await h.endpoint();
    a.ep.route('/who', () => 'a');
    b.ep.route('/who', () => 'b');
    const proxy = await proxied(h, a.port);
    const c = h.client(proxy.url('/rpc'));
    assert.equal(await c.call('/who'), 'a');
    proxy.to(b.port);
    await until(() => b.ep.sessions.count === 1, 'the client on b', 5000);
    assert.equal(await c.call('/who'), 'b');
    assert.deepEqual([proxy.accepted.get(a.port)! >= 1, proxy.accepted.get(b.port)! >= 1], [true, true]);
  });

  test('bad input: a latency or a target out of range is a 400 naming it', async () => {
    await assert.rejects(
      faultProxy({ target: 0 }),
      (e: unknown) => e instanceof DrpcError && e.code === Code.BadMessage && /target/.test(e.message),
    );
    const proxy = await faultProxy({ target: 1 });
    try {
      assert.throws(
        () => proxy.latency(-5),
        (e: unknown) => e instanceof DrpcError && /latency must be a number of ms ≥ 0, got -5/.test(e.message),
      );
    } finally {
      await proxy.close();
    }
  });
});
