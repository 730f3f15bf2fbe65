/** Server → client pushes, client → server pushes, server → client calls, and the session hub. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Session } from '../../src/session.ts';
import { Code, DrpcError } from '../../src/status.ts';
import { serveCalls } from '../../src/serve.ts';
import { Harness, delay, onlySession, rejection, until, warnings } from './helpers.ts';

describe('pushes', { timeout: 30_000 }, () => {
  for (const proto of ['raw', 'json'] as const) {
    test(`endpoint session.push reaches every onPush listener, in order, with meta (${proto})`, async (t) => {
      const h = new Harness(t);
      const { ep, url } = await h.endpoint();
      const c = h.client(url, { proto });
      const a: unknown[] = [];
      const b: unknown[] = [];
      const metas: string[] = [];
      c.onPush('/chat/msg', (body, ctx) => {
        a.push(body);
        metas.push(`${ctx.serviceMethod} ${ctx.meta.room}`);
      });
      const offB = c.onPush('/chat/msg', (body) => void b.push(body));
      await c.ready();
      const s = await onlySession(ep);
      for (let i = 0; i < 20; i++) await s.push('/chat/msg', { i }, { meta: { room: '42' } });
      await until(() => a.length === 20 && b.length === 20, 'twenty pushes at both listeners');
      assert.deepEqual(
        a.map((x: any) => x.i),
        [...Array(20).keys()],
      );
      assert.deepEqual(b, a);
      assert.equal(metas[0], '/chat/msg 42');

      offB();
      await s.push('/chat/msg', { i: 20 });
      await until(() => a.length === 21, 'the push after one unsubscribe');
      await delay(10);
      assert.equal(b.length, 20, 'an unsubscribed listener hears nothing more');
    });
  }

  test('when the last listener unsubscribes the push is dropped and reported, and the session survives', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    ep.route('/ping', () => 'pong');
    const c = h.client(url);
    const got: unknown[] = [];
    const off = c.onPush('/news', (body) => void got.push(body));
    await c.ready();
    const s = await onlySession(ep);
    await s.push('/news', 1);
    await until(() => got.length === 1, 'the first push');
    off();
    const before = warnings.length;
    await s.push('/news', 2);
    await until(() => warnings.slice(before).some((w) => w.includes('no PUSH route for "/news"')), 'the drop to be reported');
    assert.deepEqual(got, [1]);
    assert.equal(await c.call('/ping'), 'pong');
  });

  test('unsubscribing the last push listener keeps a CALL route of the same name', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    const c = h.client(url, { serve: serveCalls });
    c.route('/both', () => 'still routed');
    const off = c.onPush('/both', () => {});
    off();
    await c.ready();
    const s = await onlySession(ep);
    assert.equal(await s.call('/both', null), 'still routed');
  });

  test('calling an unsubscribe twice does not remove a later listener', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    const c = h.client(url);
    const got: string[] = [];
    const off1 = c.onPush('/topic', () => void got.push('first'));
    off1();
    c.onPush('/topic', () => void got.push('second'));
    off1(); // idempotent: must not touch the new subscription
    await c.ready();
    const s = await onlySession(ep);
    await s.push('/topic', 'x');
    await until(() => got.length === 1, 'the push at the second listener');
    assert.deepEqual(got, ['second']);
  });

  test('a listener that throws is reported and the other listeners still hear the push', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    const c = h.client(url);
    const got: string[] = [];
    c.onPush('/p', () => {
      throw new Error('listener bug');
    });
    c.onPush('/p', (body) => void got.push(String(body)));
    await c.ready();
    const before = warnings.length;
    const s = await onlySession(ep);
    await s.push('/p', 'hello');
    await until(() => got.length === 1, 'the second listener');
    await until(() => warnings.slice(before).some((w) => w.includes('listener bug')), 'the throwing listener to be reported');
    assert.equal(c.state, 'open');
  });

  test('client.push reaches the endpoint routePush handler with meta and its session', async (t) => {
    const h = new Harness(t);
    const { ep, url, errors } = await h.endpoint();
    const got: { body: unknown; meta: string | undefined; session: Session }[] = [];
    ep.routePush('/log', (body, ctx) => void got.push({ body, meta: ctx.meta.level, session: ctx.session }));
    const c = h.client(url);
    await c.push('/log', { line: 'one' }, { meta: { level: 'info' } }); // queued until open, then sent
    await c.push('/log', { line: 'two' });
    await c.push('/unrouted', 'x'); // dropped by the endpoint, reported there
    await until(() => got.length === 2 && errors.length === 1, 'two pushes and one report');
    const s = await onlySession(ep);
    assert.deepEqual(
      got.map((g) => [g.body, g.meta, g.session]),
      [
        [{ line: 'one' }, 'info', s],
        [{ line: 'two' }, undefined, s],
      ],
    );
    assert.equal(errors[0]!.err.code, Code.NotFound);
    assert.match(errors[0]!.err.causeText, /no PUSH route for "\/unrouted"/);
  });
});

describe('server → client calls', { timeout: 30_000 }, () => {
  test('without `serve` a client serves no calls: route() says what to import, the server gets 404, pushes still arrive', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    const c = h.client(url);
    assert.throws(
      () => c.route('/ui/confirm', () => true),
      (e: unknown) => e instanceof DrpcError && e.code === Code.BadMessage && /import \{ serveCalls \} from 'drpc'/.test(e.message),
    );
    const got: unknown[] = [];
    c.onPush('/news', (b) => void got.push(b));
    await c.ready();
    const s = await onlySession(ep);
    const missing = await rejection(s.call('/ui/confirm', 'sure?'));
    assert.deepEqual([missing.code, missing.causeText], [Code.NotFound, 'no CALL route for "/ui/confirm"']);
    await s.push('/news', 'still here');
    await until(() => got.length === 1, 'the push');
    assert.equal(c.state, 'open');
  });

  test('a plugin hooking inbound calls or pushes needs `serve` too: connect() says so', (t) => {
    const h = new Harness(t);
    const reads = { name: 'reads', afterReadPushBody: () => {} };
    assert.throws(
      () => h.client('ws://127.0.0.1:1/rpc', { plugins: [reads] }),
      (e: unknown) => e instanceof DrpcError && e.code === Code.BadMessage && /plugin reads hooks inbound/.test(e.message),
    );
    const writes = { name: 'writes', beforeWriteCall: () => {} };
    h.client('ws://127.0.0.1:1/rpc', { plugins: [writes], reconnect: false }); // outbound hooks run without it
    h.client('ws://127.0.0.1:1/rpc', { plugins: [reads], serve: serveCalls, reconnect: false });
  });

  test('session.call reaches client.route; replies, meta both ways, and statuses come back', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    const c = h.client(url, { serve: serveCalls });
    c.route('/ui/confirm', (question, ctx) => {
      ctx.replyMeta['x-answered-by'] = 'client';
      ctx.replyMeta['x-echo'] = ctx.meta['x-ask'] ?? '';
      return `yes: ${question}`;
    });
    c.route('/ui/fail', () => {
      throw new DrpcError(1401, 'Declined', 'user said no');
    });
    c.route('/ui/crash', () => {
      throw new Error('client handler bug');
    });
    await c.ready();
    const s = await onlySession(ep);
    const r = await s.callReply('/ui/confirm', 'ship it?', { meta: { 'x-ask': 'please' } });
    assert.equal(r.value, 'yes: ship it?');
    assert.equal(r.meta['x-answered-by'], 'client');
    assert.equal(r.meta['x-echo'], 'please');
    assert.equal(await s.call('/ui/confirm', 'again?'), 'yes: again?');

    const declined = await rejection(s.call('/ui/fail'));
    assert.deepEqual([declined.code, declined.message, declined.causeText], [1401, 'Declined', 'user said no']);
    const crashed = await rejection(s.call('/ui/crash'));
    assert.deepEqual([crashed.code, crashed.causeText], [500, 'client handler bug']);
    const missing = await rejection(s.call('/ui/nothing'));
    assert.equal(missing.code, Code.NotFound);
    assert.equal(c.state, 'open');
  });

  test('a server → client call times out (408) and aborts (1499) like any call', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    const c = h.client(url, { serve: serveCalls });
    let finished = 0;
    c.route('/ui/slow', async () => {
      await delay(80);
      finished++;
      return 'late';
    });
    await c.ready();
    const s = await onlySession(ep);
    assert.equal((await rejection(s.call('/ui/slow', null, { timeout: 20 }))).code, Code.HandleTimeout);
    const ac = new AbortController();
    const p = s.call('/ui/slow', null, { signal: ac.signal });
    ac.abort();
    assert.equal((await rejection(p)).code, Code.Canceled);
    await until(() => finished === 2, 'both client handlers to finish');
    await delay(10);
    assert.equal(await s.call('/ui/slow'), 'late');
  });

  test('concurrent server → client calls resolve independently', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    const c = h.client(url, { serve: serveCalls });
    c.route('/ui/after', async (ms: any) => {
      await delay(ms);
      return ms;
    });
    await c.ready();
    const s = await onlySession(ep);
    assert.deepEqual(await Promise.all([50, 5, 30, 0].map((ms) => s.call('/ui/after', ms))), [50, 5, 30, 0]);
  });
});

describe('session hub', { timeout: 30_000 }, () => {
  test('ids (settable), bound data, get / list / count, session events, push by id', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    const opened: Session[] = [];
    ep.on('session', (s) => void opened.push(s));
    ep.route('/login', (name: any, ctx) => {
      ctx.session.setId(`user:${name}`);
      ctx.session.data.set('name', name);
      return ctx.session.id;
    });
    const alice = h.client(url);
    const bob = h.client(url);
    assert.equal(await alice.call('/login', 'alice'), 'user:alice');
    assert.equal(await bob.call('/login', 'bob'), 'user:bob');
    assert.equal(ep.sessions.count, 2);
    assert.equal(opened.length, 2);
    assert.deepEqual(
      ep.sessions
        .list()
        .map((s) => s.id)
        .sort(),
      ['user:alice', 'user:bob'],
    );
    assert.equal(ep.sessions.get('user:alice')!.data.get('name'), 'alice');
    assert.match(alice.session!.remoteAddress, /\/rpc\?_drpc=[a-z0-9]+$/, 'the URL dialed, with the client id');

    const got: unknown[] = [];
    bob.onPush('/dm', (body) => void got.push(body));
    await ep.sessions.get('user:bob')!.push('/dm', 'hi bob');
    await until(() => got.length === 1, 'the direct push');
    assert.deepEqual(got, ['hi bob']);

    await alice.close();
    await until(() => ep.sessions.count === 1, 'alice to leave the hub');
    assert.equal(ep.sessions.get('user:alice'), undefined);
    assert.ok(ep.sessions.get('user:bob'));
  });
});

describe('broadcast', { timeout: 30_000 }, () => {
  test('ep.broadcast reaches every session (RAW and JSON clients), by id too, and reports the unknown', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    ep.route('/login', (name: any, ctx) => (ctx.session.setId(name), name));
    const clients = [h.client(url), h.client(url), h.client(url, { proto: 'json' })];
    const got = clients.map(() => [] as unknown[]);
    clients.forEach((c, i) => c.onPush('/all', (body, ctx) => void got[i]!.push([body, ctx.meta['m']])));
    await Promise.all(clients.map((c, i) => c.call('/login', `c${i}`)));
    const all = ep.broadcast('/all', { n: 1 }, { meta: { m: 'x' } });
    assert.deepEqual([all.sent, all.failed], [3, 0]);
    const some = ep.broadcast('/all', { n: 2 }, { to: ['c0', 'c2', 'nobody'] });
    assert.deepEqual([some.sent, some.failed], [2, 1]);
    assert.equal(some.errors[0]!.code, Code.NotFound);
    await until(() => got[0]!.length === 2 && got[2]!.length === 2 && got[1]!.length === 1, 'every push');
    assert.deepEqual(got, [
      [
        [{ n: 1 }, 'x'],
        [{ n: 2 }, undefined],
      ],
      [[{ n: 1 }, 'x']],
      [
        [{ n: 1 }, 'x'],
        [{ n: 2 }, undefined],
      ],
    ]);
  });
});

describe('rooms', { timeout: 30_000 }, () => {
  test("presence without a broker lists this endpoint's open sessions with their rooms, or a room's members, or a topic's subscribers", async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    ep.route('/login', (name: any, ctx) => (ctx.session.setId(name), ep.rooms.join(ctx.session, name.length > 3 ? 'long' : 'short'), null));
    const [a, b] = [h.client(url), h.client(url)];
    await a.call('/login', 'ann');
    await b.call('/login', 'bobby');
    assert.deepEqual(await ep.presence(), {
      sessions: [
        { id: 'ann', rooms: ['short'] },
        { id: 'bobby', rooms: ['long'] },
      ],
      missing: 0,
    });
    assert.deepEqual((await ep.presence({ room: 'long' })).sessions, [{ id: 'bobby', rooms: ['long'] }]);
    ep.sessions.get('ann')!.data.set('name', 'Ann').set('secret', 'not asked for');
    assert.deepEqual((await ep.presence({ fields: ['name'] })).sessions, [
      { id: 'ann', rooms: ['short'], data: { name: 'Ann' } },
      { id: 'bobby', rooms: ['long'], data: {} },
    ]);
    assert.equal((await rejection(ep.presence({ fields: 'name' as never }))).code, Code.BadMessage);
    // Who is in a chat room's topic: its subscribers (with a room too, both hold).
    ep.topic('/room/*');
    await b.subscribe('/room/7', () => {}).ready;
    assert.deepEqual((await ep.presence({ topic: '/room/7' })).sessions, [{ id: 'bobby', rooms: ['long'] }]);
    assert.deepEqual((await ep.presence({ topic: '/room/7', room: 'short' })).sessions, []);
    assert.deepEqual((await ep.presence({ topic: '/room/never-made' })).sessions, []);
    assert.equal((await rejection(ep.presence({ topic: '' }))).code, Code.BadMessage);
    await b.close();
    await until(() => ep.sessions.count === 1, 'the closed session to leave');
    assert.deepEqual((await ep.presence()).sessions, [{ id: 'ann', rooms: ['short'] }]);
  });

  test('broadcast to a room reaches its members only; leaving and closing take a session out', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    ep.route('/join', (room: any, ctx) => (ep.rooms.join(ctx.session, room), null));
    const [a, b, c] = [h.client(url), h.client(url), h.client(url)];
    const got = new Map<string, unknown[]>([
      ['a', []],
      ['b', []],
      ['c', []],
    ]);
    for (const [name, cl] of [
      ['a', a],
      ['b', b],
      ['c', c],
    ] as const)
      cl.onPush('/room/msg', (m) => void got.get(name)!.push(m));
    await a.call('/join', 'blue');
    await b.call('/join', 'blue');
    await c.call('/join', 'red');
    assert.equal(ep.broadcast('/room/msg', 'to blue', { room: 'blue' }).sent, 2);
    await until(() => got.get('a')!.length === 1 && got.get('b')!.length === 1, 'blue members');
    assert.deepEqual(got.get('c'), []);
    ep.rooms.leave([...ep.rooms.members('blue')][0]!, 'blue');
    assert.equal(ep.rooms.members('blue').size, 1);
    await c.close();
    await until(() => ep.rooms.members('red').size === 0, 'the closed session to leave its room');
    assert.equal(ep.broadcast('/room/msg', 'nobody', { room: 'red' }).sent, 0);
  });
});
