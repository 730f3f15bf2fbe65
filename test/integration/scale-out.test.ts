/**
 * Scale-out: endpoints on two "nodes" (two endpoints in this process, each with its own broker and
 * Redis connections) share one real redis-server. A client reaches them through a TCP switch, so a
 * test can move it from one node to the other as a load balancer would.
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { createEndpoint } from '../../adapters/node/endpoint.ts';
import { redisBroker } from '../../adapters/redis/broker.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveCalls } from '../../src/serve.ts';
import type { Session } from '../../src/session.ts';
import { http } from '../../src/transport/http.ts';
import { Code, DrpcError } from '../../src/status.ts';
import type { Gap } from '../../src/topics.ts';
import { RedisServer } from '../redis-server.ts';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { HELLO_METHOD, HELLO_QUERY } from '../../src/extensions.ts';
import { Garbage } from './garbage.ts';
import { MType } from '../../src/message.ts';
import { Harness, RAW_WS_ONLY, TRANSPORT, type RawPeer, byUser, chargeAs, decodeJson, delay, rejection, until } from './helpers.ts';
import { backendPerFile, nodesOn, reachable, tcpSwitch, ON_CLUSTER, STANDALONE_ONLY } from './nodes.ts';

const { redis, backend } = backendPerFile();

/** How long a closing node's broker serves other nodes in the rolling-restart test. */
const LINGER = Number(process.env.SCALE_OUT_LINGER ?? 1000);
const kicked = { code: 1403, msg: 'Forbidden', cause: 'kicked from node B' };
/** An HTTP session does not move to another node: its requests are relayed to its node instead (tested below). */
const NO_MOVE_OVER_HTTP = TRANSPORT === 'http' ? { skip: 'WebSocket only: an HTTP session stays on its node' } : {};
const { node, twoNodes, nextPrefix } = nodesOn(backend);

/**
 * Two nodes, a client behind a TCP switch on node A, and a durable call `/slow` running on A until
 * `open()`; `runs()` counts how often its handler ran, on either node.
 */
async function slowCallOnA(t: TestContext) {
  const { h, a, b } = await twoNodes(t);
  let runs = 0;
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  for (const n of [a, b])
    n.ep.route('/ping' as never, (() => 'pong') as never).route(
      '/slow' as never,
      (async (x: number) => {
        runs++;
        await gate;
        return `done-${x}`;
      }) as never,
    );
  const lb = await tcpSwitch(h, a.port);
  const c = h.client(lb.url);
  await c.call('/ping'); // its reply comes after the endpoint's HELLO: the client knows calls may be re-sent
  const result = c.call('/slow', 1);
  result.catch(() => {}); // awaited by the test; a failure shows there
  await until(() => runs === 1, 'the call running on A');
  return { h, a, b, lb, result, runs: () => runs, open };
}

describe('scale-out over Redis: topics and session pushes across nodes', { timeout: 60_000 }, () => {
  test('a message published on one node reaches subscribers on every node, with one offset sequence and one epoch', async (t) => {
    const { h, a, b } = await twoNodes(t);
    for (const n of [a, b]) n.ep.topic('/prices' as never);
    const onA: [unknown, number, string][] = [];
    const onB: [unknown, number, string][] = [];
    await h.client(a.url).subscribe('/prices', (m, i) => void onA.push([m, i.offset, i.epoch])).ready;
    await h.client(b.url).subscribe('/prices', (m, i) => void onB.push([m, i.offset, i.epoch])).ready;
    const offsets = [];
    for (const [n, p] of [
      [a, 1],
      [b, 2],
      [a, 3],
    ] as const)
      offsets.push(await n.ep.publish('/prices' as never, { p } as never));
    assert.deepEqual(offsets, [1, 2, 3], 'offsets come from Redis, one sequence for both nodes');
    await until(() => onA.length === 3 && onB.length === 3, 'three messages on each node');
    for (const got of [onA, onB])
      assert.deepEqual(
        got.map(([m, o]) => [m, o]),
        [
          [{ p: 1 }, 1],
          [{ p: 2 }, 2],
          [{ p: 3 }, 3],
        ],
      );
    assert.equal(new Set([...onA, ...onB].map(([, , e]) => e)).size, 1, 'one epoch on every node');
    assert.equal(a.ep.topic('/prices' as never).epoch, onA[0]![2]);
    assert.deepEqual([...a.errors, ...b.errors], []);
  });

  test('a client that moves to another node resumes there: what was published meanwhile arrives once, in order', async (t) => {
    const { h, a, b } = await twoNodes(t);
    for (const n of [a, b]) n.ep.topic('/feed' as never);
    const lb = await tcpSwitch(h, a.port);
    const { client: c, log } = h.logged(lb.url);
    const got: number[] = [];
    const gaps: Gap[] = [];
    c.on('gap', (g) => void gaps.push(g));
    await c.subscribe('/feed', (m) => void got.push(m as number)).ready;
    for (let i = 1; i <= 3; i++) await a.ep.publish('/feed' as never, i as never);
    await until(() => got.length === 3, 'the first three, through node A');
    lb.to(b.port); // node A "goes away" for this client
    if (TRANSPORT === 'websocket') await log.waitFor('reconnecting');
    for (let i = 4; i <= 6; i++) await a.ep.publish('/feed' as never, i as never); // still published on A
    // Over WebSocket the client opens a session on B and resumes there; over HTTP its session stays on
    // A and B relays its requests there (the no-sticky test below): either way nothing is lost.
    await until(() => got.length === 6, 'the replay (or the relayed stream) through node B', 5000);
    if (TRANSPORT === 'websocket') assert.equal(b.ep.sessions.count, 1);
    for (let i = 7; i <= 8; i++) await a.ep.publish('/feed' as never, i as never);
    await until(() => got.length === 8, 'live again, published on A, delivered by B');
    await delay(30);
    assert.deepEqual(got, [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(gaps, []);
  });

  test("a family's topics are made on each node on demand and share one history; a node drops its idle copy without losing it", async (t) => {
    const { h, a, b } = await twoNodes(t);
    for (const n of [a, b]) n.ep.topic('/room/*' as never, { maxTopics: 2 } as never);
    const c = h.client(b.url);
    const got: number[] = [];
    const sub = c.subscribe('/room/7', (m) => void got.push(m as number));
    await sub.ready;
    assert.equal(await a.ep.publish('/room/7' as never, 1 as never), 1, 'made on node A by its publish');
    await until(() => got.length === 1, 'the message published on A, through node B');
    await sub.unsubscribe();
    await b.ep.publish('/room/8' as never, 2 as never);
    await b.ep.publish('/room/9' as never, 3 as never); // node B, full, drops its copy of /room/7 (nobody subscribes there)
    assert.equal(b.ep.topics.get('/room/7'), undefined);
    await a.ep.publish('/room/7' as never, 4 as never);
    const again: number[] = [];
    const gaps: Gap[] = [];
    const resumed = c.subscribe('/room/7', (m) => void again.push(m as number), { since: 0 });
    resumed.onGap((g) => void gaps.push(g));
    await resumed.ready;
    assert.deepEqual(again, [1, 4], 'the history is in Redis: nothing was lost with the copy');
    assert.deepEqual(gaps, []);
    assert.deepEqual([...a.errors, ...b.errors], []);
  });

  test('history limits hold across nodes: since 0 on another node gets what Redis keeps, and a gap for the rest', async (t) => {
    const { h, a, b } = await twoNodes(t);
    a.ep.topic('/log' as never, { history: { count: 3 } });
    b.ep.topic('/log' as never, { history: { count: 3 } });
    for (let i = 1; i <= 5; i++) await a.ep.publish('/log' as never, i as never);
    const got: number[] = [];
    const gaps: Gap[] = [];
    const sub = h.client(b.url).subscribe('/log', (m) => void got.push(m as number), { since: 0 });
    sub.onGap((g) => void gaps.push(g));
    await sub.ready;
    await until(() => got.length === 3, 'the kept three');
    assert.deepEqual(got, [3, 4, 5]);
    assert.deepEqual(
      gaps.map((g) => [g.from, g.to]),
      [[1, 2]],
    );
    const state = await b.ep.topic('/log' as never).read(3);
    assert.deepEqual(
      state.entries.map((e) => [e.offset, e.payload]),
      [
        [4, 4],
        [5, 5],
      ],
    );
    assert.throws(() => b.ep.topic('/log' as never).history, /keeps its history in a broker: use await topic\.read\(0\)/);
  });

  for (const when of ['still running', 'finished'] as const)
    test(
      `a durable call re-sent to another node after a move runs once: its previous node ${when === 'finished' ? 'hands over its reply' : 'forwards the reply when it finishes'}`,
      NO_MOVE_OVER_HTTP,
      async (t) => {
        const { a, b, lb, result, runs, open } = await slowCallOnA(t);
        if (when === 'finished') {
          lb.pause(); // the reply cannot reach the client: node A keeps it
          await delay(30);
          open();
          await delay(30);
        }
        lb.to(b.port);
        await until(() => b.ep.sessions.count === 1, 'the client on node B', 5000);
        await delay(50);
        assert.equal(runs(), 1, 'node B did not run the re-sent copy');
        open();
        assert.equal(await result, 'done-1');
        assert.equal(runs(), 1);
        assert.deepEqual([...a.errors, ...b.errors], []);
      },
    );

  test('a rolling restart: a node closes, its broker lingers, and a durable call running there is answered once on the next node', async (t) => {
    const { a, b, lb, result, runs, open } = await slowCallOnA(t);
    lb.to(b.port); // the load balancer sends the clients of A to B
    await a.ep.close({ drain: 0 }); // the durable call runs on
    const closing = a.broker.close({ lingerMs: LINGER });
    await until(() => b.ep.sessions.count === 1, 'the client on node B', 5000);
    await delay(50);
    open();
    assert.equal(await result, 'done-1', "A's reply, forwarded while its broker lingered");
    assert.equal(runs(), 1);
    await closing;
  });

  test('the HTTP fallback needs no sticky sessions: the requests of one session spread over both nodes act as one', async (t) => {
    // Streams are replaced often: each new one may reach the other node.
    const { h, a, b } = await twoNodes(t, { http: { maxAgeMs: 150 } });
    for (const n of [a, b]) {
      n.ep.topic('/feed' as never);
      n.ep.route('/echo' as never, ((x: number) => x) as never);
    }
    let turn = 0;
    const rr = await tcpSwitch(h, a.port, () => [a.port, b.port][turn++ % 2]!); // round robin per TCP connection
    const c = h.client(rr.url, { transports: [http] });
    const got: number[] = [];
    const gaps: Gap[] = [];
    c.on('gap', (g) => void gaps.push(g));
    await c.subscribe('/feed', (m) => void got.push(m as number)).ready;
    for (let i = 1; i <= 40; i++) {
      assert.equal(await c.call('/echo', i, { timeout: 3000 }), i);
      await a.ep.publish('/feed' as never, i as never);
      if (i % 10 === 0) await delay(100); // let streams be replaced
    }
    await until(() => got.length === 40, 'every message', 5000);
    assert.deepEqual(
      got,
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
    assert.deepEqual(gaps, []);
    assert.equal(a.ep.sessions.count + b.ep.sessions.count, 1, 'one session, on the node that opened it');
    assert.ok(
      (rr.counts.get(a.port) ?? 0) > 0 && (rr.counts.get(b.port) ?? 0) > 0,
      `connections reached both nodes: ${[...rr.counts.values()]}`,
    );
    assert.equal(c.state, 'open');
    assert.deepEqual([...a.errors, ...b.errors], []);
  });

  test(
    "calls sent as a client connects (they wait for its claim) run once the session is known: in the hub, after 'session'",
    RAW_WS_ONLY,
    async (t) => {
      const { h, a } = await twoNodes(t);
      const seen: string[] = [];
      a.ep.on('session', () => void seen.push('session'));
      const known = (_b: unknown, ctx: { session: Session }) => (seen.push('call'), a.ep.sessions.get(ctx.session.id) === ctx.session);
      a.ep.route('/known' as never, known as never);
      // A peer that dialed with a client id and calls at once: its frames wait while node A claims it.
      const raw = await h.raw(`${a.url}?${HELLO_QUERY}=eager-client-0000001`);
      for (const seq of [1, 2, 3]) raw.send({ seq, mtype: MType.Call, serviceMethod: '/known' });
      await until(() => raw.messages.filter((m) => m.mtype === MType.Reply).length === 3, 'three replies');
      const replies = raw.messages.filter((m) => m.mtype === MType.Reply);
      assert.deepEqual(
        replies.map((m) => [m.seq, m.status.code, decodeJson(m)]),
        [1, 2, 3].map((seq) => [seq, 0, true]),
      );
      assert.deepEqual(seen, ['session', 'call', 'call', 'call']);
    },
  );

  test('a client on HTTP whose WebSocket probe opens on the other node moves over with calls in flight: each runs once, none fails', async (t) => {
    let blocked = true;
    const { h, a, b } = await twoNodes(t, {
      verifyUpgrade: ({ transport }) => {
        if (blocked && transport === 'websocket') throw new DrpcError(Code.Unauthorized, 'Unauthorized', 'websocket blocked by the test');
      },
    });
    const effects = new Map<number, number>();
    for (const n of [a, b])
      n.ep.route(
        '/charge' as never,
        (async (x: number) => {
          effects.set(x, (effects.get(x) ?? 0) + 1);
          await delay(5 + (x % 4) * 5);
          return x;
        }) as never,
      );
    const lb = await tcpSwitch(h, a.port);
    const { client: c, log } = h.logged(lb.url, { transports: ['websocket', http], upgradeInterval: 100 });
    await c.ready();
    assert.equal(c.transport, 'http');
    await c.call('/charge', 0); // after the HELLO: the client knows its calls may be re-sent
    lb.to(b.port); // the probe's WebSocket (and the HTTP requests, relayed to node A) reach node B
    blocked = false;
    const results: Promise<unknown>[] = [];
    let x = 0;
    const on = () => c.transport;
    while (on() !== 'websocket' && x < 2000) {
      results.push(c.call('/charge', ++x));
      await delay(2);
    }
    for (let i = 0; i < 5; i++) results.push(c.call('/charge', ++x));
    assert.equal(on(), 'websocket', 'moved over to WebSocket');
    assert.deepEqual(
      await Promise.all(results),
      Array.from({ length: x }, (_, i) => i + 1),
      'every call resolved with its own result',
    );
    for (let n = 1; n <= x; n++) assert.equal(effects.get(n), 1, `call ${n} ran once`);
    assert.ok(log.events.some((e) => e.state === 'open' && /moved to websocket/.test(e.reason)));
    assert.equal(b.ep.sessions.count, 1, 'the session is on node B now');
  });

  test(
    "a call still on its way to the client's previous node when it moved is not run there: its copy runs once on the new node",
    RAW_WS_ONLY,
    async (t) => {
      const { h, a, b } = await twoNodes(t);
      const ran: string[] = [];
      for (const [name, n] of [
        ['A', a],
        ['B', b],
      ] as const)
        n.ep.route('/count' as never, ((x: number) => (ran.push(`${name}${x}`), x)) as never);
      const call = async (peer: RawPeer, seq: number) => {
        peer.send({ seq, mtype: MType.Call, serviceMethod: '/count' }, seq);
        return (await peer.replyTo(seq)).status;
      };
      const hello = (peer: RawPeer) =>
        until(() => peer.messages.some((m) => m.serviceMethod === HELLO_METHOD), 'the HELLO: the claim is done');
      // The old connection made calls on node A (A keeps a record of the client), or none yet.
      for (const [id, calledBefore] of [
        ['moving-client-00000001', true],
        ['moving-client-00000002', false],
      ] as const) {
        ran.length = 0;
        const old = await h.raw(`${a.url}?${HELLO_QUERY}=${id}`);
        await hello(old);
        if (calledBefore) assert.equal((await call(old, 1)).code, 0);
        const next = await h.raw(`${b.url}?${HELLO_QUERY}=${id}`); // the client reconnected to node B
        await hello(next);
        // A frame of the old connection that node A reads only now (it was in its buffers).
        const late = await call(old, 2);
        assert.equal(late.code, Code.WrongConn);
        assert.match(late.cause, /moved to another node: its call was not run here/);
        assert.equal((await call(next, 2)).code, 0);
        assert.deepEqual(ran, calledBefore ? ['A1', 'B2'] : ['B2'], `${id}: each call ran once`);
        // The client back on node A with a new connection: its calls run there again.
        const back = await h.raw(`${a.url}?${HELLO_QUERY}=${id}`);
        await hello(back);
        assert.equal((await call(back, 3)).code, 0);
        assert.equal(ran.at(-1), 'A3');
      }
      assert.deepEqual([...a.errors, ...b.errors], []);
    },
  );

  test(
    'a client id bound to a principal moves between nodes with its replies; under other credentials it finds nothing on either node',
    RAW_WS_ONLY,
    async (t) => {
      const { h, a, b } = await twoNodes(t, byUser);
      let effects = 0;
      for (const n of [a, b])
        n.ep.route(
          '/charge' as never,
          ((_b: unknown, ctx: { session: Session }) => `${ctx.session.data.get('user')}:${++effects}`) as never,
        );
      const id = 'alices-client-id-000000000002';
      assert.equal(await chargeAs(h, a.url, id, 'alice'), 'alice:1');
      assert.equal(await chargeAs(h, b.url, id, 'mallory'), 'mallory:2', 'node B did not take over what node A holds of alice');
      assert.equal(await chargeAs(h, b.url, id, 'alice'), 'alice:1', "node B claimed alice's reply from node A");
      assert.equal(await chargeAs(h, a.url, id, 'mallory'), 'mallory:2', "mallory's own reply, claimed back from node B");
      assert.equal(effects, 2);
      assert.deepEqual([...a.errors, ...b.errors], []);
    },
  );

  test('a client gone while its node claims it leaves no session behind in the hub', { ...RAW_WS_ONLY, ...STANDALONE_ONLY }, async (t) => {
    const { h, a } = await twoNodes(t);
    const announced: Session[] = [];
    a.ep.on('session', (s) => void announced.push(s));
    assert.match(await redis().command('CLIENT', 'PAUSE', '300', 'ALL'), /OK/); // node A's claim waits for Redis
    const raw = await h.raw(`${a.url}?${HELLO_QUERY}=gone-client-00000001`);
    raw.ws.terminate();
    await until(() => announced.length === 1 && announced[0]!.state === 'closed', 'the session announced, then closed', 3000);
    await delay(50);
    assert.equal(a.ep.sessions.count, 0);
  });

  test('sessions that were renamed, pushed to and kicked from another node are garbage once they end', async (t) => {
    const { h, a, b } = await twoNodes(t);
    const garbage = new Garbage();
    for (const n of [a, b]) n.ep.on('session', (s) => garbage.watch('endpoint session', s));
    a.ep.route('/ping' as never, (() => 'pong') as never);
    const once = async (i: number): Promise<void> => {
      const c = h.connectLoose(a.url);
      garbage.watch('client', c);
      try {
        const notes: unknown[] = [];
        c.onPush('/note', (m) => void notes.push(m));
        c.subscribe('/news', () => {});
        assert.equal(await c.call('/ping'), 'pong');
        const first = a.ep.sessions.list()[0]!;
        first.setId(`user-${i}`);
        await reachable(b.ep, `user-${i}`, c);
        await b.ep.push(`user-${i}`, '/note' as never, i as never);
        await until(() => notes.length === 1, 'the relayed push');
        assert.equal(await b.ep.kick(`user-${i}`, { code: 500, msg: 'Internal Server Error', cause: 'moved' }), true);
        await until(() => a.ep.sessions.count === 1 && a.ep.sessions.list()[0] !== first, 'the client back on a new session');
      } finally {
        await c.close();
      }
      await until(() => a.ep.sessions.count === 0, 'the session gone');
    };
    for (let i = 0; i < 4; i++) await once(i);
    const alive = await garbage.survivors();
    assert.deepEqual(alive, [], `still reachable:\n${alive.join('\n')}`);
  });

  test('a push to (or a kick of) a session id reaches the node that holds it; an id no node holds is a 404 (false for a kick)', async (t) => {
    const { h, a, b } = await twoNodes(t);
    const c = h.client(a.url);
    const notes: unknown[] = [];
    c.onPush('/note', (m) => void notes.push(m));
    await c.ready();
    await until(() => a.ep.sessions.count === 1, 'the session on A');
    const session = a.ep.sessions.list()[0]!;
    session.setId('user-42');
    await reachable(b.ep, 'user-42', c); // node A listens to the renamed session's channel
    await b.ep.push('user-42', '/note' as never, { hi: 'from B' } as never, { meta: { k: 'v' } });
    await until(() => notes.length === 1, 'the relayed push');
    assert.deepEqual(notes, [{ hi: 'from B' }]);
    assert.equal(await b.ep.kick('nobody', kicked), false, 'no node holds it');
    const missing = await rejection(b.ep.push('nobody', '/note' as never, 1 as never));
    assert.equal(missing.code, Code.NotFound);
    assert.match(missing.causeText, /no session "nobody" on any node/);
    const reasons: string[] = [];
    c.on('state', (info) => void reasons.push(`${info.state}: ${info.reason ?? ''}`));
    assert.equal(await b.ep.kick('user-42', kicked), true, 'node B kicks the session node A holds');
    await until(() => a.ep.sessions.list().every((s) => s.id !== 'user-42'), 'the session closed on A');
    await until(() => reasons.some((r) => r.includes('kicked from node B')), `the client told why: ${reasons.join(' | ')}`);
    await c.close();
    await until(() => a.ep.sessions.count === 0, 'the session gone');
    await delay(50);
    assert.equal((await rejection(b.ep.push('user-42', '/note' as never, 2 as never))).code, Code.NotFound, 'released when it closed');
  });

  test('a server → client call to a session on another node: its reply, its error status, a timeout, a 404', async (t) => {
    const { h, a, b } = await twoNodes(t);
    const c = h.client(a.url, { serve: serveCalls });
    c.route('/ui/confirm', (q) => `yes to ${q as string}`);
    c.route('/ui/refuse', () => {
      throw new DrpcError(1409, 'refused', 'the user said no');
    });
    c.route('/ui/never', () => new Promise(() => {}));
    await c.ready();
    await until(() => a.ep.sessions.count === 1, 'the session on A');
    a.ep.sessions.list()[0]!.setId('user-7');
    await reachable(b.ep, 'user-7', c); // node A listens to the renamed session's channel
    assert.equal(await b.ep.call('user-7', '/ui/confirm' as never, 'ship it?' as never), 'yes to ship it?');
    const refused = await rejection(b.ep.call('user-7', '/ui/refuse' as never, null as never));
    assert.deepEqual([refused.code, refused.message, refused.causeText], [1409, 'refused', 'the user said no']);
    const slow = await rejection(b.ep.call('user-7', '/ui/never' as never, null as never, { timeout: 200 }));
    assert.equal(slow.code, Code.HandleTimeout);
    const missing = await rejection(b.ep.call('nobody', '/ui/confirm' as never, 'x' as never));
    assert.equal(missing.code, Code.NotFound);
    assert.match(missing.causeText, /no session "nobody" on any node/);
    const ac = new AbortController();
    const aborted = rejection(b.ep.call('user-7', '/ui/never' as never, null as never, { signal: ac.signal }));
    ac.abort();
    assert.equal((await aborted).code, Code.Canceled);
  });

  test('a broadcast to everyone or to a room reaches the sessions of every node, once; local: true stays on this node', async (t) => {
    const { h, a, b } = await twoNodes(t);
    const got = new Map<string, unknown[]>();
    for (const [name, n] of [
      ['a1', a],
      ['a2', a],
      ['b1', b],
      ['b2', b],
    ] as const) {
      const c = h.client(n.url);
      got.set(name, []);
      c.onPush('/news', (m) => void got.get(name)!.push(m));
      await c.ready();
    }
    await until(() => a.ep.sessions.count === 2 && b.ep.sessions.count === 2, 'two sessions on each node');
    a.ep.rooms.join(a.ep.sessions.list()[0]!, 'ops');
    b.ep.rooms.join(b.ep.sessions.list()[1]!, 'ops');
    const result = a.ep.broadcast('/news' as never, 'all' as never);
    assert.equal(result.sent, 2, "the result counts this node's sessions");
    b.ep.broadcast('/news' as never, 'ops only' as never, { room: 'ops' });
    a.ep.broadcast('/news' as never, 'A only' as never, { local: true });
    await until(() => [...got.values()].flat().length === 8, 'all 4, the room 2, A only 2');
    await delay(50); // nothing more comes
    const all = [...got.values()];
    assert.deepEqual(
      all.map((m) => m.filter((x) => x === 'all').length),
      [1, 1, 1, 1],
      'everyone, once',
    );
    assert.equal(all.flat().filter((x) => x === 'ops only').length, 2, 'the room on both nodes');
    assert.deepEqual(
      all.map((m) => m.includes('A only')),
      [true, true, false, false],
    );
    assert.deepEqual([...a.errors, ...b.errors], []);
  });

  test("presence lists the sessions of every node (or of a room, or a topic's subscribers), and counts a node that does not answer as missing", async (t) => {
    const { h, a, b, prefix } = await twoNodes(t);
    for (const n of [a, b])
      n.ep.route('/name' as never, ((id: string, ctx: { session: { setId(id: string): void } }) => ctx.session.setId(id)) as never);
    for (const [id, n] of [
      ['ann', a],
      ['bob', b],
      ['cid', b],
    ] as const)
      await h.client(n.url).call('/name', id);
    a.ep.rooms.join(a.ep.sessions.get('ann')!, 'ops');
    b.ep.rooms.join(b.ep.sessions.get('cid')!, 'ops');
    const byId = (p: { sessions: { id: string; rooms: string[] }[] }) => p.sessions.map((s) => `${s.id}:${s.rooms.join(',')}`).sort();
    for (const n of [a, b]) {
      const everyone = await n.ep.presence();
      assert.deepEqual(byId(everyone), ['ann:ops', 'bob:', 'cid:ops']);
      assert.equal(everyone.missing, 0);
      assert.deepEqual(byId(await n.ep.presence({ room: 'ops' })), ['ann:ops', 'cid:ops']);
    }
    assert.deepEqual((await a.ep.presence({ room: 'nobody-here' })).sessions, []);
    b.ep.sessions.get('cid')!.data.set('name', { first: 'Cid' });
    const named = await a.ep.presence({ room: 'ops', fields: ['name'] });
    assert.deepEqual(
      named.sessions.map((s) => [s.id, s.data]).sort(),
      [
        ['ann', {}],
        ['cid', { name: { first: 'Cid' } }],
      ],
      'session data of another node, as JSON',
    );
    assert.deepEqual(
      a.ep.sessions.list().map((s) => s.id),
      ['ann'],
      '`sessions` stays this node only',
    );

    // A node that takes the request but never answers (hung): the others' answers come after waitMs, and it is counted.
    const hung = redisBroker({ ...backend().target, prefix });
    h.defer(() => hung.close());
    await hung.onGather(() => new Promise(() => {}));
    const partial = await a.ep.presence({ waitMs: 300 });
    assert.deepEqual(byId(partial), ['ann:ops', 'bob:', 'cid:ops']);
    assert.equal(partial.missing, 1);

    const bad = await rejection(a.ep.presence({ room: '' }));
    assert.equal(bad.code, Code.BadMessage);
    assert.match(bad.causeText, /presence: room must be a non-empty string/);
    assert.equal((await rejection(a.ep.presence({ waitMs: Infinity }))).code, Code.BadMessage);
    // A topic's subscribers, on every node: who is in a chat room.
    for (const n of [a, b]) n.ep.topic('/room/*' as never);
    const viewers = { ann: h.client(a.url), cid: h.client(b.url) };
    for (const [id, c] of Object.entries(viewers)) {
      await c.call('/name', `${id}-viewer`);
      await c.subscribe('/room/7', () => {}).ready;
    }
    for (const n of [a, b]) {
      const inRoom = await n.ep.presence({ topic: '/room/7', waitMs: 300 }); // the hung node above stays missing
      assert.deepEqual(byId(inRoom), ['ann-viewer:', 'cid-viewer:'], 'the subscribers on both nodes');
    }
    assert.deepEqual([...a.errors, ...b.errors], []);
  });

  test(
    'through a Sentinel: brokers that find their Redis by asking a Sentinel share topics, pushes and presence',
    STANDALONE_ONLY,
    async (t) => {
      const dir = mkdtempSync(join(tmpdir(), 'drpc-sentinel-'));
      const sentinel = await RedisServer.sentinel(redis(), 'drpc-main', join(dir, 'sentinel.conf'));
      t.after(async () => {
        await sentinel.stop();
        rmSync(dir, { recursive: true, force: true });
      });
      const viaSentinel = { redis: { sentinels: [{ host: '127.0.0.1', port: sentinel.port }], name: 'drpc-main' } };
      const { h, a, b } = await twoNodes(t, {}, viaSentinel);
      for (const n of [a, b]) {
        n.ep.topic('/feed' as never);
        n.ep.route('/name' as never, ((id: string, ctx: { session: { setId(id: string): void } }) => ctx.session.setId(id)) as never);
      }
      const c = h.client(a.url);
      const got: number[] = [];
      const notes: unknown[] = [];
      c.onPush('/note', (m) => void notes.push(m));
      await c.call('/name', 'via-sentinel');
      await c.subscribe('/feed', (m) => void got.push(m as number)).ready;
      assert.equal(await b.ep.publish('/feed' as never, 1 as never), 1);
      await reachable(b.ep, 'via-sentinel', c);
      await b.ep.push('via-sentinel', '/note' as never, 'from B' as never);
      await until(() => got.length === 1 && notes.length === 1, 'the topic message and the push, through the Redis the Sentinel named');
      assert.deepEqual([got, notes], [[1], ['from B']]);
      assert.deepEqual(
        (await b.ep.presence()).sessions.map((x) => x.id),
        ['via-sentinel'],
      );
      assert.deepEqual([...a.errors, ...b.errors], []);
    },
  );

  test('bad input: out-of-range options are a 400 naming them; a payload JSON cannot carry is a 400', async (t) => {
    assert.throws(
      () => redisBroker({ timeoutMs: -1, redis: redis().url }),
      (e: unknown) => e instanceof DrpcError && e.code === Code.BadMessage && /timeoutMs/.test(e.message + e.causeText),
    );
    assert.throws(
      () => redisBroker({ heartbeatMs: 1, redis: redis().url }),
      (e: unknown) => e instanceof DrpcError && /heartbeatMs must be a number ≥ 10, got 1/.test(e.message + e.causeText),
    );
    const h = new Harness(t);
    const a = await node(h, nextPrefix());
    a.ep.topic('/t' as never);
    const bad = await rejection(a.ep.publish('/t' as never, { n: 1n } as never));
    assert.equal(bad.code, Code.BadMessage);
    assert.match(bad.causeText, /publish to "\/t": the payload cannot go through the broker: .*BigInt/);
    assert.equal(await a.ep.publish('/t' as never, 'fine' as never), 1, 'nothing was taken by the failed one');
    // One broker answers for one endpoint (its sessions, replies and presence): a second is refused, until the first closes.
    assert.throws(
      () => createEndpoint({ broker: a.broker }),
      (e: unknown) =>
        e instanceof DrpcError && e.code === Code.BadMessage && /already serves another endpoint/.test(e.message + e.causeText),
    );
    await a.ep.close({ drain: 0 });
    await createEndpoint({ broker: a.broker }).close({ drain: 0 });
  });

  test(
    'the README example (examples/two-nodes.ts) runs against a real Redis',
    { skip: TRANSPORT === 'http' || ON_CLUSTER ? 'runs once' : false },
    async () => {
      const run = promisify(execFile);
      const { stdout } = await run(process.execPath, ['--import', 'tsx', 'examples/two-nodes.ts'], {
        env: { ...process.env, REDIS_URL: redis().url },
        timeout: 30_000,
      });
      assert.match(stdout, /client {2}got offset 1: hello from B\n/);
      assert.match(stdout, /client {2}got a push from node B: .*relayed through Redis/);
      assert.match(stdout, /client {2}on node B resumed at offset 3: published while the client was away/);
    },
  );
});
