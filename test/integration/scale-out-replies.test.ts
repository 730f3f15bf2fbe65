/**
 * Durable calls when the node that ran them crashes (redisBroker `keepReplies`): the client's re-sent
 * call is answered on the next node from what Redis recorded, or refused with 409 when it was still
 * running on the crashed node; it never runs twice. Without the option it runs again (the documented
 * default). A node in a child process is killed with SIGKILL; over WebSocket and the HTTP fallback, on
 * one redis-server or a Redis Cluster.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { faultProxy } from '../../adapters/node/fault-proxy.ts';
import { Code } from '../../src/status.ts';
import { Harness, TRANSPORT, delay, rejection, until } from './helpers.ts';
import { backendPerFile, nodesOn } from './nodes.ts';
import { counterRedis, routeIncr } from './counter.ts';

const { backend } = backendPerFile();
const { childNode, nextPrefix, node } = nodesOn(backend);
/** A move needs a new connection on the other node: an HTTP session stays on its node (its requests are relayed). */
const MOVES = TRANSPORT === 'http' ? { skip: 'WebSocket only: an HTTP session stays on its node' } : {};

/**
 * Node A in a child process and node B here, both with `keepReplies` (or not), the `/incr` route on
 * both, and a client reaching A through a proxy. `crash()` kills A and sends the client to B.
 */
async function crashSetup(h: Harness, keepReplies: boolean) {
  const prefix = nextPrefix();
  const counter = counterRedis(backend().target);
  h.defer(() => void counter.disconnect());
  const b = await node(h, prefix, {}, { heartbeatMs: 100, keepReplies });
  routeIncr(b.ep as never, counter);
  const a = await childNode(h, prefix, 100, keepReplies ? { KEEP_REPLIES: '1' } : {});
  const proxy = await faultProxy({ target: Number(new URL(a.url).port) });
  h.defer(() => proxy.close());
  const c = h.client(proxy.url('/rpc'));
  // Its reply comes after the endpoint's HELLO: the client knows its calls may be re-sent (a cut
  // before the HELLO arrives settles calls in flight with 102, as with a plain drpc peer).
  await c.call('/incr', { key: `${prefix}warm-up` });
  const key = `${prefix}count`;
  const count = async () => Number(await counter.get(key));
  return {
    c,
    b,
    key,
    count,
    /** Nothing passes between the client and node A any more (what A sends stays in the proxy). */
    freeze: () => proxy.freeze(),
    /** Waits until the stored record of the client's calls satisfies `ok` (keepReplies). */
    stored: (ok: (fields: string[]) => boolean) =>
      until(async () => ok(Object.values(await counter.hgetall(`${prefix}r:{${c.id}}`))), 'the record in Redis', 5000),
    /** Sends the client to node B while node A lives on (a move, not a crash). */
    move: () => proxy.to(b.port),
    kill: () => a.kill(),
    crash() {
      a.kill();
      proxy.to(b.port);
      proxy.heal();
    },
  };
}

describe('durable calls when their node crashes (redisBroker keepReplies)', { timeout: 60_000 }, () => {
  test('a call whose reply was lost with its node is answered from Redis on the next node: it ran once', async (t) => {
    const h = new Harness(t);
    const { c, b, key, count, freeze, stored, crash } = await crashSetup(h, true);
    assert.equal(await c.call('/incr', { key }), 1);
    // The handler has counted and answers 300 ms later: its reply is recorded, but never reaches the client.
    const call = c.call('/incr', { key, then: 300 });
    await until(async () => (await count()) === 2, 'the second call ran on node A');
    freeze();
    // The second call's reply: status OK, body `2` (base64 "Mg==").
    await stored((fields) => fields.some((v) => v.startsWith('[0,') && v.endsWith(',"Mg=="]')));
    crash();
    assert.equal(await call, 2, 'the reply node A recorded');
    assert.equal(await count(), 2, 'the call did not run again on node B');
    assert.equal(b.ep.sessions.count, 1);
    assert.equal(await c.call('/incr', { key }), 3, 'new calls run on node B');
  });

  test('a call still running when its node crashed is refused with 409 on the next node, not run again', async (t) => {
    const h = new Harness(t);
    const { c, key, count, freeze, stored, crash } = await crashSetup(h, true);
    const call = rejection(c.call('/incr', { key, then: 'hang' }));
    await until(async () => (await count()) === 1, 'the call ran on node A');
    await stored((fields) => fields.includes('')); // recorded as running
    freeze();
    crash();
    const err = await call;
    assert.equal(err.code, Code.Conflict);
    assert.equal(err.message, 'call outcome unknown');
    assert.match(err.causeText, /previous node, which is gone; it may have taken effect/);
    assert.equal(await count(), 1, 'it did not run again');
    assert.equal(await c.call('/incr', { key }), 2, 'the client goes on');
  });

  for (const keepReplies of [true, false])
    test(
      `a call handed over by its node, which then crashes, settles at once with 409, not after maxAgeMs${keepReplies ? '' : ' (without keepReplies too)'}`,
      MOVES,
      async (t) => {
        const h = new Harness(t);
        const { c, b, key, count, move, kill } = await crashSetup(h, keepReplies);
        const call = rejection(c.call('/incr', { key, then: 'hang' }));
        await until(async () => (await count()) === 1, 'the call ran on node A');
        move(); // node A is alive: it hands the running call over to node B, which waits for its reply
        await until(() => b.ep.sessions.count === 1, 'the client on node B', 5000);
        await delay(100); // the re-sent copy waits on node B
        const killed = Date.now();
        kill();
        const err = await call;
        assert.equal(err.code, Code.Conflict);
        assert.match(err.causeText, /previous node, which is gone/);
        const took = Date.now() - killed;
        assert.ok(took < 5000, `settled ${took} ms after the crash (the beat is 100 ms; maxAgeMs is 60000)`);
        assert.equal(await count(), 1, 'it did not run again');
      },
    );

  test('without keepReplies such a call runs again on the next node (at least once: the default)', async (t) => {
    const h = new Harness(t);
    const { c, key, count, freeze, crash } = await crashSetup(h, false);
    const call = c.call('/incr', { key, then: 300 });
    await until(async () => (await count()) === 1, 'the call ran on node A');
    freeze();
    await delay(400); // its reply is held in the proxy
    crash();
    assert.equal(await call, 2, 'the copy ran on node B');
    assert.equal(await count(), 2);
  });
});
