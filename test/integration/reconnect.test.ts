/**
 * Client lifecycle over real sockets: state events, redial after the endpoint restarts on the same
 * port, the offline queue, draining close (1012), kicks with a status, giving up and reconnect().
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createEndpoint } from '../../adapters/node/endpoint.ts';
import type { Endpoint } from '../../adapters/node/endpoint.ts';
import { Code, codeText } from '../../src/status.ts';
import { serveCalls } from '../../src/serve.ts';
import { Harness, Settlements, delay, freePort, onlySession, rawDial, rejection, until, within, withSuiteAuth } from './helpers.ts';

describe('reconnect', { timeout: 30_000 }, () => {
  test('connecting → open → reconnecting → open → closed across an endpoint restart on the same port', async (t) => {
    const h = new Harness(t);
    const holds: (() => void)[] = [];
    const serve = (ep: Endpoint, name: string) => {
      ep.route('/hold', () => new Promise<string>((r) => holds.push(() => r(name))));
      ep.route('/who', () => name);
    };
    const first = await h.endpoint();
    serve(first.ep, 'first');
    const { client: c, log } = h.logged(first.url, { durableCalls: false, serve: serveCalls }); // this test is about fail-fast;
    const pushes: unknown[] = [];
    c.onPush('/news', (body) => void pushes.push(body));
    c.route('/ui/who', () => 'the client');
    await c.ready();
    assert.equal(await c.call('/who'), 'first');

    // calls in flight when the connection drops settle with 102, exactly once
    const settled = new Settlements();
    const inflight = [1, 2, 3].map((i) => settled.track(`call ${i}`, c.call('/hold')));
    await until(() => holds.length === 3, 'three held calls at the first endpoint');
    await first.ep.close({ drain: 0 });
    for (const p of inflight) {
      const err = await rejection(p);
      assert.equal(err.code, Code.ConnClosed);
      assert.equal(err.message, codeText(Code.ConnClosed));
    }
    const lost = await log.waitFor('reconnecting');
    assert.match(lost.reason, /1012/, 'the endpoint said "service restart"');
    assert.equal(lost.attempt, 1);

    const second = await h.endpoint({}, { port: first.port });
    serve(second.ep, 'second');
    const reopened = await log.waitFor('open', log.events.indexOf(lost));
    assert.match(reopened.reason, /^connected over /);
    assert.equal(await c.call('/who'), 'second');

    // routes and push listeners registered before the drop serve the new session
    const s2 = await onlySession(second.ep);
    await s2.push('/news', 'after restart');
    await until(() => pushes.length === 1, 'the push on the new session');
    assert.deepEqual(pushes, ['after restart']);
    assert.equal(await s2.call('/ui/who'), 'the client');

    for (const release of holds) release(); // the first endpoint's late replies go nowhere
    await c.close();
    await delay(20);
    assert.deepEqual(
      [1, 2, 3].map((i) => settled.count(`call ${i}`)),
      [1, 1, 1],
    );
    assert.deepEqual(log.folded, ['connecting', 'open', 'reconnecting', 'open', 'closed']);
    for (const e of log.events) assert.ok(e.reason.length > 0, `state ${e.state} has a reason`);
    assert.equal(log.events.at(-1)!.reason, 'closed by the client');
    assert.equal(log.events.filter((e) => e.state === 'closed').length, 1);
  });

  test('calls and pushes made while disconnected wait in the offline queue and go out in order once open', async (t) => {
    const h = new Harness(t);
    const port = await freePort();
    const { client: c, log } = h.logged(`ws://127.0.0.1:${port}/rpc`);
    const settled = new Settlements();
    const calls = [0, 1, 2, 3].map((i) => settled.track(`c${i}`, c.call('/echo', i)));
    const pushed = settled.track('push', c.push('/note', 'queued push'));
    await log.waitFor('reconnecting'); // nobody listens yet: dial failures, backoff
    assert.equal(log.events.find((e) => e.state === 'reconnecting')!.status?.code, Code.DialFailed);
    const arrived: unknown[] = [];
    const { ep } = await h.endpoint({}, { port });
    ep.route('/echo', (b) => (arrived.push(b), b));
    ep.routePush('/note', (b) => void arrived.push(b));
    assert.deepEqual(await within(Promise.all(calls), 3000, 'the queued calls'), [0, 1, 2, 3]);
    await pushed;
    await until(() => arrived.length === 5, 'all five queued messages');
    assert.deepEqual(arrived, [0, 1, 2, 3, 'queued push']);
    assert.equal(settled.size, 5);
  });

  test('the offline queue is bounded (102), each queued call keeps its own timeout (408), close() fails the rest (102)', async (t) => {
    const h = new Harness(t);
    const port = await freePort();
    const c = h.client(`ws://127.0.0.1:${port}/rpc`, { offlineQueue: 3 });
    const settled = new Settlements();
    const short = settled.track('short', c.call('/x', 1, { timeout: 40 }));
    const long1 = settled.track('long1', c.call('/x', 2, { timeout: 5000 }));
    const long2 = settled.track('long2', c.call('/x', 3));
    const full = await rejection(settled.track('full', c.call('/x', 4)));
    assert.equal(full.code, Code.ConnClosed);
    assert.match(full.causeText, /offline queue is full \(limit 3\)/);

    const timedOut = await rejection(short);
    assert.equal(timedOut.code, Code.HandleTimeout);
    assert.match(timedOut.message, /call \/x timed out after 40 ms while waiting for a connection/);
    // the slot it freed is usable again
    const again = settled.track('again', c.call('/x', 5));
    await c.close();
    for (const p of [long1, long2, again]) assert.equal((await rejection(p)).code, Code.ConnClosed);
    const afterClose = await rejection(c.call('/x', 6));
    assert.equal(afterClose.code, Code.ConnClosed);
    assert.match(afterClose.causeText, /client is closed/);
    await delay(60);
    assert.equal(settled.size, 5);
    for (const name of ['short', 'long1', 'long2', 'full', 'again']) assert.equal(settled.count(name), 1, name);
  });

  test('offlineQueue: 0 fails calls made while disconnected at once with 102', async (t) => {
    const h = new Harness(t);
    const port = await freePort();
    const c = h.client(`ws://127.0.0.1:${port}/rpc`, { offlineQueue: 0 });
    const err = await rejection(c.call('/x'));
    assert.equal(err.code, Code.ConnClosed);
    assert.match(err.causeText, /offline queue disabled/);
  });

  test('close({ drain }) lets an in-flight call finish, then clients see 1012 and redial at once', async (t) => {
    const h = new Harness(t);
    const { server, port } = await h.httpServer();
    const ep1 = createEndpoint(withSuiteAuth({ onError: () => {} })).attach(server, { path: '/rpc', http: true });
    h.defer(() => ep1.close({ drain: 0 }));
    let started = 0;
    ep1.route('/work', async () => {
      started++;
      await delay(150);
      return 'finished during drain';
    });
    // a redial that waited for backoff would take "forever": only the 1012 fast path can pass
    const { client: c, log } = h.logged(`ws://127.0.0.1:${port}/rpc`, { reconnect: { min: 1e9, max: 1e9 } });
    await c.ready();
    const p = c.call('/work');
    await until(() => started === 1, 'the handler to start');
    const closing = ep1.close({ drain: 2000 });
    // while draining, new connections are refused
    const refused = await rawDial(`ws://127.0.0.1:${port}/rpc`);
    assert.equal(refused.open, false);
    assert.equal(!refused.open && refused.status, 503);
    assert.equal(await p, 'finished during drain');
    await closing;

    const ep2 = createEndpoint(withSuiteAuth({ onError: () => {} })).attach(server, { path: '/rpc', http: true });
    h.defer(() => ep2.close({ drain: 0 }));
    ep2.route('/work', () => 'second endpoint');
    const lost = await log.waitFor('reconnecting');
    assert.match(lost.reason, /1012/);
    await log.waitFor('open', log.events.indexOf(lost), 2000);
    assert.equal(await c.call('/work'), 'second endpoint');
    assert.deepEqual(log.folded, ['connecting', 'open', 'reconnecting', 'open']);
  });

  test('kick with 401: the client closes with that status and does not redial until reconnect()', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    let sessions = 0;
    ep.on('session', () => void sessions++);
    const { client: c, log } = h.logged(url, { reconnect: { min: 10, max: 20 } });
    await c.ready();
    const s = await onlySession(ep);
    const pending = c.call('/never', null, { timeout: 0 }).catch((e) => e); // 404 comes back fast; just in case
    assert.equal(ep.sessions.kick(s.id, { code: Code.Unauthorized, msg: codeText(401), cause: 'token revoked' }), true);
    const closed = await log.waitFor('closed');
    assert.equal(closed.status?.code, 401);
    assert.match(closed.status!.cause, /token revoked/);
    await pending;
    await delay(150);
    assert.equal(sessions, 1, 'no redial after a 401');
    assert.equal(c.state, 'closed');
    assert.equal((await rejection(c.call('/x'))).code, Code.ConnClosed);

    c.reconnect();
    await log.waitFor('open', log.events.indexOf(closed));
    assert.equal(sessions, 2);
    assert.equal(ep.sessions.kick('no-such-id', { code: 500, msg: 'x', cause: '' }), false);
  });

  test('kick with another status: the client goes reconnecting with that status and comes back', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    const { client: c, log } = h.logged(url);
    await c.ready();
    const cases = [
      { code: Code.InternalServerError, msg: codeText(500), cause: 'rebalancing' },
      { code: 1234, msg: 'Custom', cause: 'moving you' },
    ];
    for (const status of cases) {
      const s = await onlySession(ep);
      const mark = log.events.length;
      ep.sessions.kick(s.id, status);
      const rec = await log.waitFor('reconnecting', mark);
      assert.equal(rec.status?.code, status.code);
      assert.match(rec.status!.cause, new RegExp(status.cause));
      await log.waitFor('open', mark);
      await until(() => ep.sessions.count === 1 && ep.sessions.list()[0] !== s, 'the new session');
    }
    assert.deepEqual(log.folded, ['connecting', 'open', 'reconnecting', 'open', 'reconnecting', 'open']);
  });

  test('after the last attempt the client closes (105, "not reconnecting"); reconnect() starts over', async (t) => {
    const h = new Harness(t);
    const port = await freePort();
    const { client: c, log } = h.logged(`ws://127.0.0.1:${port}/rpc`, { reconnect: { attempts: 2, min: 10, max: 20 } });
    const closed = await log.waitFor('closed');
    assert.equal(closed.status?.code, Code.DialFailed);
    assert.match(closed.reason, /not reconnecting/);
    assert.deepEqual(log.states, ['connecting', 'reconnecting', 'reconnecting', 'closed']);
    assert.deepEqual(
      log.events.map((e) => e.attempt),
      [0, 1, 2, 0],
    );
    await assert.rejects(c.ready(), (e: any) => e.code === Code.ConnClosed);

    const { ep } = await h.endpoint({}, { port });
    ep.route('/hi', () => 'hello');
    c.reconnect();
    await c.ready();
    assert.equal(await c.call('/hi'), 'hello');
  });

  test('close() while reconnecting stops dialing for good', async (t) => {
    const h = new Harness(t);
    const port = await freePort();
    const { client: c, log } = h.logged(`ws://127.0.0.1:${port}/rpc`, { reconnect: { min: 30, max: 30 } });
    await log.waitFor('reconnecting');
    await c.close();
    const { ep } = await h.endpoint({}, { port });
    await delay(150);
    assert.equal(ep.sessions.count, 0);
    assert.equal(log.events.at(-1)!.state, 'closed');
    await c.close(); // twice is harmless and says nothing new
    assert.equal(log.events.filter((e) => e.state === 'closed').length, 1);
  });

  test('close() right after connect() (a component mounted and unmounted at once): the client never dials', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    const dials: string[] = [];
    ep.on('session', (s) => void dials.push(s.id));
    const { client: c, log } = h.logged(url);
    await c.close('unmounted');
    await delay(150);
    assert.deepEqual(log.states, ['closed']);
    assert.equal(c.state, 'closed');
    assert.deepEqual(dials, [], 'no session at the endpoint');
    assert.equal((await rejection(c.call('/x'))).code, Code.ConnClosed);

    // close() then reconnect() in the same turn: one dial, one session.
    const { client: again, log: log2 } = h.logged(url);
    void again.close();
    again.reconnect();
    await again.ready();
    await delay(100);
    assert.deepEqual(log2.states, ['closed', 'connecting', 'open']);
    assert.equal(dials.length, 1);
  });

  test('close() from inside a reconnecting listener stays closed: no redial comes back to life', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    const { client: c, log } = h.logged(url, { reconnect: { min: 20, max: 20 } });
    await c.ready();
    c.on('reconnecting', () => void c.close('given up by the app'));
    ep.sessions.kick((await onlySession(ep)).id, { code: Code.InternalServerError, msg: codeText(500), cause: 'moving you' });
    await log.waitFor('closed');
    await delay(200); // ten backoff delays: a redial scheduled despite the close would have connected by now
    assert.equal(ep.sessions.count, 0, 'no session at the endpoint');
    assert.deepEqual(log.folded, ['connecting', 'open', 'reconnecting', 'closed']);
    assert.equal(log.events.at(-1)!.reason, 'given up by the app');
  });

  test('close() from inside an open listener: queued calls fail with 102 and nothing more is sent', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    const ran: unknown[] = [];
    ep.route('/echo', (b) => (ran.push(b), b));
    const { client: c, log } = h.logged(url);
    c.on('open', () => void c.close('not today'));
    const queued = c.call('/echo', 'queued before open');
    assert.equal((await rejection(queued)).code, Code.ConnClosed);
    await until(() => ep.sessions.count === 0, 'the session closed at the endpoint');
    await delay(50);
    assert.deepEqual(ran, [], 'the queued call never went out');
    assert.deepEqual(log.folded, ['connecting', 'open', 'closed']);
  });

  test('a call waiting for a connection is canceled at once by its AbortSignal (1499), and never sent', async (t) => {
    const h = new Harness(t);
    const port = await freePort();
    const { client: c, log } = h.logged(`ws://127.0.0.1:${port}/rpc`, { reconnect: { min: 50, max: 50 } });
    const ac = new AbortController();
    const waiting = c.call('/echo', 'late', { signal: ac.signal });
    const other = c.call('/echo', 'kept');
    await log.waitFor('reconnecting');
    const t0 = Date.now();
    ac.abort();
    const err = await rejection(waiting);
    assert.equal(err.code, Code.Canceled);
    assert.match(err.message, /call \/echo was canceled/);
    assert.ok(Date.now() - t0 < 1000, 'at once, not at the call timeout');
    const already = await rejection(c.call('/echo', 'x', { signal: ac.signal }));
    assert.equal(already.code, Code.Canceled, 'an aborted signal cancels a call made while disconnected too');
    const ran: unknown[] = [];
    const { ep } = await h.endpoint({}, { port });
    ep.route('/echo', (b) => (ran.push(b), b));
    assert.equal(await other, 'kept');
    assert.deepEqual(ran, ['kept']);
  });
});
