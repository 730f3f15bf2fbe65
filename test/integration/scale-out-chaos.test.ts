/**
 * The scale-out promise under fire: a client behind a load balancer that sends each new connection
 * to a random one of two nodes (one Redis), its connection cut at random moments, many times, while
 * both nodes publish to one topic and the client makes counted, non-idempotent durable calls. Every
 * topic message arrives exactly once and in offset order (or inside a reported gap), whichever node
 * the client is on; every call takes effect exactly once, wherever it ran; nothing hangs. Over
 * WebSocket each cut moves the client to a node; over the HTTP fallback its session stays where it
 * opened and the requests that reach the other node are relayed (both run in CI).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Gap } from '../../src/topics.ts';
import { backendPerFile, nodesOn, tcpSwitch } from './nodes.ts';
import { TRANSPORT, delay, prng, underChaos } from './helpers.ts';

const { twoNodes } = nodesOn(backendPerFile().backend);

describe('scale-out chaos: random cuts and random nodes during a two-node stream and non-idempotent calls', { timeout: 60_000 }, () => {
  test('exactly once, in order, on whichever node, nothing lost silently, nothing hangs', async (t) => {
    const seed = Number(process.env['CHAOS_SEED'] ?? 20261203);
    const random = prng(seed);
    const { h, a, b } = await twoNodes(t);
    const effects = new Map<number, number>();
    for (const n of [a, b]) {
      n.ep.topic('/stream' as never, { history: { count: 100_000 } });
      n.ep.route(
        '/count' as never,
        (async (x: number) => {
          effects.set(x, (effects.get(x) ?? 0) + 1); // the non-idempotent effect, counted over both nodes
          await delay(Math.floor(random() * 4));
          return x;
        }) as never,
      );
    }
    const lb = await tcpSwitch(h, a.port, () => (random() < 0.5 ? a.port : b.port));
    const { client: c, log } = h.logged(lb.url, { reconnect: { min: 2, max: 15 } });
    const got: number[] = [];
    const gaps: Gap[] = [];
    c.on('gap', (g) => void gaps.push(g));
    await c.subscribe('/stream', (_m, i) => void got.push(i.offset)).ready;

    let published = 0;
    const failedPublishes: unknown[] = [];
    let streaming = true;
    const publisher = (async () => {
      const inFlight: Promise<unknown>[] = [];
      while (streaming) {
        const from = random() < 0.5 ? a : b;
        inFlight.push(
          from.ep.publish('/stream' as never, published as never).then(
            () => published++,
            (e: unknown) => failedPublishes.push(e),
          ),
        );
        await delay(1);
      }
      await Promise.all(inFlight);
    })();
    const CALLS = 120;
    await c.call('/count', 0); // its reply comes after the HELLO: the client knows calls may be re-sent
    let cuts = 0;
    const chaos = (async () => {
      for (let k = 0; k < 20; k++) {
        await delay(10 + Math.floor(random() * 30));
        lb.cut(); // the next connection goes to a random node
        cuts++;
      }
    })();
    const stop = () => ((streaming = false), publisher);
    const received = () => got.length;
    const values = await underChaos({ client: c, count: CALLS, random, chaos, stop, received, gaps, published: () => published, seed });

    assert.deepEqual(failedPublishes, [], 'every publish went through Redis');
    assert.ok(
      lb.counts.get(a.port)! >= 3 && lb.counts.get(b.port)! >= 3,
      `the client was on both nodes: ${[...lb.counts.values()].join(', ')}`,
    );
    // Over WebSocket each cut is a reconnect to a random node. Over HTTP the session stays on its
    // node: the stream and the POSTs reopen through the balancer, and what reaches the other node
    // is relayed to it through Redis.
    // (A cut that lands while the client is still dialing after the previous one counts once.)
    if (TRANSPORT === 'websocket')
      assert.ok(log.states.filter((s) => s === 'reconnecting').length >= 6, `the client reconnected after most cuts (${cuts} cuts)`);
    assert.deepEqual(
      values,
      Array.from({ length: CALLS }, (_, i) => i + 1),
      'every call resolved with its own result',
    );
    for (let n = 1; n <= CALLS; n++) assert.equal(effects.get(n), 1, `call ${n} took effect exactly once, on either node (seed ${seed})`);
    assert.deepEqual(gaps, [], 'the history reached back every time: no gap');
    assert.deepEqual(
      got,
      Array.from({ length: published }, (_, i) => i + 1),
      `every offset once, in order (seed ${seed})`,
    );
    assert.deepEqual([...a.errors, ...b.errors], []);
  });
});
