/**
 * Nothing keeps a closed connection alive: after sessions end in every way a session can end (the
 * client closes, the endpoint kicks, the socket drops with a call, a server → client call or a
 * durable call in flight, a slow subscriber's backlog), no endpoint structure still holds the
 * Session, and no client is held by a timer, a listener or its transport. Checked with WeakRefs and
 * forced garbage collections: each object must be collectable, not merely "closed".
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Endpoint } from '../../adapters/node/endpoint.ts';
import { dialTcp } from '../../adapters/node/tcp.ts';
import type { Client } from '../../src/client.ts';
import { serveCalls } from '../../src/serve.ts';
import type { Session } from '../../src/session.ts';
import { Code, DrpcError, codeText } from '../../src/status.ts';
import { Garbage } from './garbage.ts';
import { Harness, delay, rejection, until, WS_ONLY } from './helpers.ts';

const dropped = { code: Code.InternalServerError, msg: 'Internal Server Error', cause: 'dropped by the test' };

type Ending = (c: Client, ep: Endpoint) => Promise<void>;

/** The session the endpoint holds for `c` (the only one). */
const sessionOf = async (ep: Endpoint): Promise<Session> => {
  await until(() => ep.sessions.count === 1, 'the session');
  return ep.sessions.list()[0]!;
};

const endings: Record<string, Ending> = {
  'a call, a topic message, then close()': async (c, ep) => {
    const got: unknown[] = [];
    c.subscribe('/news', (m) => void got.push(m));
    assert.equal(await c.call('/echo', 'hi'), 'hi');
    await until(() => (ep.publish('/news', 1), got.length > 0), 'a topic message');
  },
  'kicked, redialed, then close()': async (c, ep) => {
    await c.call('/echo', 1);
    const first = await sessionOf(ep);
    ep.sessions.kick(first.id, dropped);
    await until(() => ep.sessions.count === 1 && ep.sessions.list()[0] !== first, 'the client back on a new session');
    assert.equal(await c.call('/echo', 2), 2);
  },
  'the socket dropped with a durable call running, re-sent and answered, then close()': async (c, ep) => {
    await c.call('/echo', 1); // the HELLO has come: the call below is durable
    const answer = c.call('/slow', 60);
    await delay(10);
    (await sessionOf(ep)).abort(dropped);
    assert.equal(await answer, 'slept 60');
  },
  'dropped while the server calls the client': async (c, ep) => {
    c.route('/ui/never', () => new Promise(() => {})); // the page never answers
    await c.call('/echo', 1);
    const first = await sessionOf(ep);
    const asked = rejection(ep.call(first, '/ui/never' as never, undefined as never));
    await delay(10);
    first.abort(dropped);
    assert.equal((await asked).code, Code.ConnClosed);
    await until(() => ep.sessions.count === 1 && ep.sessions.list()[0] !== first, 'the client back on a new session');
  },
  'a slow subscriber closed with topic messages waiting in its backlog': async (c, ep) => {
    let got = 0;
    c.subscribe('/big', () => void got++);
    await c.call('/echo', 1); // subscribed by now
    const s = await sessionOf(ep);
    const big = 'x'.repeat(64 * 1024);
    for (let n = 0; n < 40; n++) ep.publish('/big', big); // past the 16 KiB high-water mark: most wait
    assert.ok(ep.backlogOf(s).count > 0, 'messages wait in the backlog');
    await c.close();
    assert.ok(got < 40);
  },
  'in a room, closed while a call is still running on the endpoint': async (c, ep) => {
    await c.call('/join', 'room-1');
    ep.broadcast('/all', 'hello', { room: 'room-1' } as never);
    void c.call('/slow', 100).catch(() => {});
    await delay(10);
    await c.close();
  },
};

describe('nothing keeps a closed connection alive', { timeout: 60_000 }, () => {
  test('sessions, clients and transports are garbage once their connections end, however they end', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint({ replyCache: { maxAgeMs: 60_000 }, slowConsumers: { highWaterBytes: 16 * 1024 } });
    const garbage = new Garbage();
    let ending = '';
    ep.on('session', (s) => (garbage.watch(`endpoint session (${ending})`, s), garbage.watch(`its transport (${ending})`, s.transport)));
    ep.route('/echo', (x) => x);
    ep.route('/slow', async (ms) => (await delay(Number(ms)), `slept ${Number(ms)}`));
    ep.route('/join', (room, ctx) => (ep.rooms.join(ctx.session, String(room)), null));
    ep.topic('/news', { history: { count: 10 } });
    ep.topic('/big', { history: { count: 1 } });
    // One connection per call, so that no frame of this test holds the last client.
    const once = async (name: string, end: Ending, i: number): Promise<void> => {
      ending = name;
      // Not h.client(): the harness would hold every client until the test ends.
      const c = h.connectLoose(url, { serve: serveCalls });
      garbage.watch(`client (${name}) ${i}`, c);
      try {
        await end(c, ep);
      } finally {
        await c.close();
      }
      await until(() => ep.sessions.count === 0, `the session of "${name}" to end`);
    };
    const cycles = 4;
    for (let i = 0; i < cycles; i++) for (const [name, end] of Object.entries(endings)) await once(name, end, i);
    const alive = await garbage.survivors();
    assert.deepEqual(alive, [], `still reachable after ${cycles} rounds:\n${alive.join('\n')}`);
  });

  test('sessions refused by auth, and TCP sessions (with heartbeats), are garbage once they end', WS_ONLY, async (t) => {
    const h = new Harness(t);
    const garbage = new Garbage();
    const { ep, url } = await h.endpoint({
      auth: (token, session) => {
        garbage.watch(`endpoint session (auth: ${String(token)})`, session);
        if (token !== 'good') throw new DrpcError(Code.Unauthorized, codeText(Code.Unauthorized), 'bad token');
        return 'welcome';
      },
    });
    ep.route('/echo', (x) => x);
    const tcp = await ep.listenTcp();
    const refused = async (): Promise<void> => {
      const c = h.connectLoose(url, { auth: () => 'bad' });
      garbage.watch('client refused by auth', c);
      await until(() => c.state === 'closed', 'the client to close on its 401');
      assert.equal((await rejection(c.call('/echo', 1))).code, Code.ConnClosed);
    };
    const overTcp = async (): Promise<void> => {
      const s = await dialTcp({ port: tcp.port, auth: 'good', heartbeat: { rate: 3 } });
      garbage.watch('TCP client session', s);
      assert.equal(await s.call('/echo', 'tcp'), 'tcp');
      await s.close();
    };
    for (let i = 0; i < 4; i++) {
      await refused();
      await overTcp();
      await until(() => ep.sessions.count === 0, 'every session to end');
    }
    const alive = await garbage.survivors();
    assert.deepEqual(alive, [], `still reachable:\n${alive.join('\n')}`);
  });

  test("a topic family's dropped topics are garbage: the family stays within maxTopics however many names come and go", async (t) => {
    const h = new Harness(t);
    const garbage = new Garbage();
    const { ep, url } = await h.endpoint();
    const family = ep.topic('/doc/*', { maxTopics: 5 });
    const c = h.client(url);
    for (let i = 0; i < 40; i++) {
      const name = `/doc/${i}`;
      const sub = c.subscribe(name, () => {});
      await sub.ready;
      garbage.watch(`topic ${name}`, ep.topics.get(name)!);
      ep.publish(name, i);
      await sub.unsubscribe();
    }
    assert.ok(family.topics.size <= 5, `${family.topics.size} topics kept`);
    const alive = await garbage.survivors();
    // The family keeps its last few topics (their history is still fresh): only the dropped ones must go.
    assert.ok(alive.length <= 5, `still reachable:\n${alive.join('\n')}`);
  });
});
