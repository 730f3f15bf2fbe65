/**
 * Heartbeat as drpc: `/heartbeat` with meta `hb_` = rate. The endpoint closes a session that announced
 * a rate and then went silent for 2 × rate; the client finds a frozen server by its unanswered CALL.
 * Three tests run in real time (rate 3 s, concurrently); the rest move a ManualClock over real sockets.
 */
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { describe, test } from 'node:test';
import { WebSocketServer } from 'ws';
import { createEndpoint } from '../../adapters/node/endpoint.ts';
import { ManualClock } from '../../src/clock.ts';
import type { Plugin } from '../../src/hooks.ts';
import { MType, type Message } from '../../src/message.ts';
import { Code } from '../../src/status.ts';
import { Harness, decodeJson, delay, onlySession, unpackRaw, until, within, WS_ONLY, RAW_WS_ONLY } from './helpers.ts';

/** A server that accepts WebSocket connections and never answers a drpc frame. */
async function frozenServer(h: Harness): Promise<{ url: string; frames: Message[]; connections: () => number }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const frames: Message[] = [];
  let connections = 0;
  wss.on('connection', (ws) => {
    connections++;
    ws.on('message', (data: Buffer) => frames.push(unpackRaw(data)));
  });
  h.defer(async () => {
    for (const ws of wss.clients) ws.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
  });
  const { port } = wss.address() as { port: number };
  return { url: `ws://127.0.0.1:${port}/rpc`, frames, connections: () => connections };
}

const isHeartbeat = (m: Message) => m.serviceMethod === '/heartbeat';

describe('heartbeat in real time (rate 3 s)', { concurrency: true, timeout: 30_000 }, () => {
  test('the endpoint closes a peer that announced rate 3 and froze, within 2 × rate; others are unaffected', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    ep.route('/ping', () => 'pong');
    const healthy = h.client(url); // no heartbeat: never checked, as in drpc
    await healthy.ready();
    const healthySession = await onlySession(ep);
    const frozen = await h.raw(url);
    frozen.send({ seq: 1, mtype: MType.Push, serviceMethod: '/heartbeat', meta: { hb_: '3' } });
    await until(() => ep.sessions.count === 2, 'both sessions');
    const victim = ep.sessions.list().find((s) => s !== healthySession)!;
    (frozen.ws as unknown as { _socket: Socket })._socket.pause(); // stops reading: it will not even answer the close
    const announced = Date.now();
    await within(victim.closed, 10_000, 'the silent session to be closed');
    const took = Date.now() - announced;
    assert.ok(took >= 5900 && took < 8500, `closed after ${took} ms (2 × rate = 6000, checked every second)`);
    assert.equal(ep.sessions.count, 1);
    assert.equal(await healthy.call('/ping'), 'pong');
    // the frozen peer never answers the close handshake; closing the endpoint must not wait ws's 30 s for it
    const t0 = Date.now();
    await within(ep.close({ drain: 0 }), 5000, 'ep.close() with a frozen peer');
    assert.ok(Date.now() - t0 < 5000);
  });

  test('the client finds a server that accepts and never answers, and goes reconnecting within ~2 × rate', RAW_WS_ONLY, async (t) => {
    const h = new Harness(t);
    const server = await frozenServer(h);
    const { client: c, log } = h.logged(server.url, { heartbeat: { rate: 3 }, reconnect: { min: 10_000, max: 10_000 } });
    await c.ready();
    const opened = Date.now();
    const lost = await log.waitFor('reconnecting', 0, 8000);
    const took = Date.now() - opened;
    assert.ok(took >= 4500 && took < 7500, `found dead after ${took} ms`);
    assert.equal(lost.status?.code, Code.ConnClosed);
    assert.match(lost.reason, /heartbeat|no frame/);
    const pings = server.frames.filter(isHeartbeat);
    assert.ok(pings.length >= 1);
    assert.equal(pings[0]!.mtype, MType.Call, 'sent as a CALL so that the missing REPLY tells');
    assert.equal(pings[0]!.meta.hb_, '3');
  });

  test('the client finds an endpoint whose socket stopped reading, redials, and is served again', WS_ONLY, async (t) => {
    const h = new Harness(t);
    const { server, port } = await h.httpServer();
    const sockets: Socket[] = [];
    server.on('upgrade', (_req, socket: Socket) => void sockets.push(socket));
    const ep = createEndpoint({ onError: () => {} }).attach(server, { path: '/rpc' });
    h.defer(async () => {
      for (const s of sockets) s.resume();
      await ep.close({ drain: 0 });
    });
    ep.route('/ping', () => 'pong');
    const { client: c, log } = h.logged(`ws://127.0.0.1:${port}/rpc`, { heartbeat: { rate: 3 }, reconnect: { min: 50, max: 50 } });
    await c.ready();
    assert.equal(await c.call('/ping'), 'pong');
    sockets[0]!.pause();
    const paused = Date.now();
    const lost = await log.waitFor('reconnecting', 0, 9000);
    const took = Date.now() - paused;
    assert.ok(took < 8000, `found dead after ${took} ms`);
    assert.equal(lost.status?.code, Code.ConnClosed);
    await log.waitFor('open', log.events.indexOf(lost), 3000);
    assert.equal(sockets.length, 2);
    assert.equal(await c.call('/ping'), 'pong');
  });
});

describe('heartbeat on a manual clock', { timeout: 30_000 }, () => {
  test('pong: CALL /heartbeat gets a null REPLY, a bad rate a 400; silence past 2 × rate closes with 102', async (t) => {
    const h = new Harness(t);
    const clock = new ManualClock();
    const { ep, url } = await h.endpoint({ clock });
    const peer = await h.raw(url);
    peer.send({ seq: 1, mtype: MType.Call, serviceMethod: '/heartbeat', meta: { hb_: 'fast' } });
    const bad = await peer.nextMessage();
    assert.deepEqual([bad.mtype, bad.seq, bad.status.code, bad.status.msg], [MType.Reply, 1, 400, 'Bad Message']);
    assert.match(bad.status.cause, /invalid heartbeat rate/);

    peer.send({ seq: 2, mtype: MType.Call, serviceMethod: '/heartbeat', meta: { hb_: '3' } });
    const pong = await peer.nextMessage();
    assert.deepEqual([pong.mtype, pong.seq, pong.status.code, decodeJson(pong)], [MType.Reply, 2, 0, null]);

    const s = await onlySession(ep);
    clock.advance(6000);
    assert.equal(s.state, 'open', 'not yet: silent for exactly 2 × rate');
    clock.advance(1000);
    const closed = await within(peer.closed, 2000, 'the close');
    assert.equal(closed.code, 4102);
    assert.match(closed.reason, /heartbeat: silent for 7000 ms/);
  });

  test('a session that never announced a rate is never closed for silence', async (t) => {
    const h = new Harness(t);
    const clock = new ManualClock();
    const { ep, url } = await h.endpoint({ clock });
    await h.raw(url);
    const s = await onlySession(ep);
    clock.advance(10 * 60_000);
    await delay(20);
    assert.equal(s.state, 'open');
  });

  test('a frozen server: the unanswered ping and the wall-clock deadline (laptop sleep) both end the session', RAW_WS_ONLY, async (t) => {
    const h = new Harness(t);
    const server = await frozenServer(h);
    const clock = new ManualClock();
    const { client: c, log } = h.logged(server.url, { clock, heartbeat: { rate: 3 }, reconnect: { min: 10, max: 10 } });
    await c.ready();
    clock.advance(3000);
    await until(() => server.frames.some(isHeartbeat), 'the first ping');
    clock.advance(2999);
    assert.equal(c.state, 'open');
    clock.advance(1);
    const lost = await log.waitFor('reconnecting');
    assert.equal(lost.status?.code, Code.ConnClosed);
    assert.match(lost.reason, /heartbeat unanswered for 3000 ms|no frame for 6000 ms/);

    // the redial (on the manual clock) opens a fresh session; then the laptop sleeps for a minute
    clock.advance(10);
    await log.waitFor('open', log.events.indexOf(lost));
    const mark = log.events.length;
    clock.jump(60_000); // wall time moves, no timer fires
    clock.advance(1); // the first timer to fire after waking sees the deadline long past
    const woke = await log.waitFor('reconnecting', mark);
    assert.match(woke.reason, /no frame for 60000 ms \(deadline 6000 ms\)/);
  });

  test('an answered heartbeat keeps the client open; pings carry hb_ = rate', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    const seen: string[] = [];
    const pong = ep.router.call('/heartbeat')!;
    ep.route('/heartbeat', (b, ctx) => (seen.push(ctx.meta.hb_ ?? ''), pong(b, ctx)));
    const clock = new ManualClock();
    const { client: c, log } = h.logged(url, { clock, heartbeat: { rate: 4 } });
    await c.ready();
    for (let i = 1; i <= 5; i++) {
      clock.advance(4000);
      await until(() => c.session?.lastReceived === clock.now(), `pong ${i}`);
    }
    assert.equal(c.state, 'open');
    assert.deepEqual(log.states, ['connecting', 'open']);
    assert.deepEqual(seen, ['4', '4', '4', '4', '4']);
  });

  test('a client that only receives pushes still pings, so the endpoint does not judge it silent', async (t) => {
    const h = new Harness(t);
    const serverClock = new ManualClock();
    const clientClock = new ManualClock();
    let pingsRead = 0;
    const countPings: Plugin = {
      name: 'count-pings',
      afterReadCallHeader: (ctx) => void (isHeartbeat(ctx.message) && pingsRead++),
    };
    let pingsSent = 0;
    const countSent: Plugin = { name: 'count-sent', beforeWriteCall: (ctx) => void (isHeartbeat(ctx.message) && pingsSent++) };
    const { ep, url } = await h.endpoint({ clock: serverClock, plugins: [countPings] });
    const { client: c, log } = h.logged(url, { clock: clientClock, heartbeat: { rate: 3 }, plugins: [countSent] });
    let pushes = 0;
    c.onPush('/tick', () => void pushes++);
    await c.ready();
    const s = await onlySession(ep);
    const step = async (ms: number) => {
      clientClock.advance(ms);
      await until(() => pingsRead === pingsSent, 'the endpoint to read every ping sent');
      serverClock.advance(ms);
    };
    await step(3000); // idle: the first ping announces the rate
    assert.equal(pingsRead, 1);
    for (let i = 1; i <= 12; i++) {
      await s.push('/tick', i); // the client hears something every second ...
      await until(() => pushes === i, `push ${i}`);
      await step(1000); // ... but the endpoint only hears the client's pings
      assert.equal(s.state, 'open', `endpoint session still open at +${3 + i} s`);
    }
    assert.equal(c.state, 'open');
    assert.deepEqual(log.states, ['connecting', 'open']);
  });
});
