/** drpc's auth exchange (AUTH_CALL / AUTH_REPLY first) and handshake-time checks of the upgrade request. */
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { describe, test } from 'node:test';
import { createEndpoint } from '../../adapters/node/endpoint.ts';
import { authenticate } from '../../src/auth.ts';
import { MType, type Message } from '../../src/message.ts';
import { AUTH_EXPIRES_METHOD } from '../../src/extensions.ts';
import { codecs } from '../../src/codec/codec.ts';
import { msgpack } from '../../src/codec/msgpack.ts';
import { Session } from '../../src/session.ts';
import { serveCalls } from '../../src/serve.ts';
import { Code, DrpcError, codeText } from '../../src/status.ts';
import { openWebSocket } from '../../src/transport/websocket.ts';
import { Harness, PROTO, decodeJson, delay, onlySession, rawDial, rejection, until, within, WS_ONLY } from './helpers.ts';

const reject401 = (cause: string) => new DrpcError(Code.Unauthorized, codeText(Code.Unauthorized), cause);

describe('auth', { timeout: 30_000 }, () => {
  test('pass: the endpoint checks the AUTH_CALL payload, binds the user, and only then admits the session', async (t) => {
    const h = new Harness(t);
    const payloads: unknown[] = [];
    const { ep, url } = await h.endpoint({
      auth: (payload: any, session) => {
        payloads.push(payload);
        if (payload?.token !== 'good') throw reject401('bad token');
        session.data.set('user', 'alice');
        return { user: 'alice', role: 'admin' };
      },
    });
    const admitted: string[] = [];
    ep.on('session', (s) => void admitted.push(String(s.data.get('user'))));
    ep.route('/whoami', (_b, ctx) => ctx.session.data.get('user'));
    const { client: c, log } = h.logged(url, { auth: () => ({ token: 'good' }) });
    assert.equal(await c.call('/whoami'), 'alice');
    assert.deepEqual(payloads, [{ token: 'good' }]);
    assert.deepEqual(admitted, ['alice']);
    assert.deepEqual(log.states, ['connecting', 'open']);
    assert.deepEqual(c.authReply, { user: 'alice', role: 'admin' }, 'the client keeps the AUTH_REPLY body');

    // the AUTH_REPLY carries the checker's return value (seen through the Session-level API)
    const transport = await openWebSocket(url);
    const s = new Session(transport, { preparing: true, onError: () => {} });
    h.defer(() => s.close(), true);
    assert.deepEqual(await authenticate(s, { token: 'good' }, 2000), { user: 'alice', role: 'admin' });
    s.start();
    assert.equal(await s.call('/whoami'), 'alice');

    // and on the wire: AUTH_REPLY (mtype 5), OK status, the body in the AUTH_CALL's codec
    const raw = await h.raw(url);
    raw.send({ seq: 7, mtype: MType.AuthCall }, { token: 'good' });
    const reply = await raw.nextMessage();
    assert.deepEqual([reply.mtype, reply.status.code, reply.bodyCodec], [MType.AuthReply, 0, 106]);
    assert.deepEqual(decodeJson(reply), { user: 'alice', role: 'admin' });
  });

  test("a push and a server → client call sent as the session opens (in the endpoint's session event) reach the client, in order", async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint({ auth: () => 'welcome' });
    const answers: Promise<unknown>[] = [];
    ep.on('session', (s) => {
      // Sent at once, right behind the AUTH_REPLY: they reach the client before it has taken that reply.
      void ep.push(s, '/news', 1);
      answers.push(ep.call(s, '/ui/ok', 'sure?'));
      void ep.push(s, '/news', 2);
    });
    const c = h.client(url, { auth: () => 'token', serve: serveCalls });
    const got: unknown[] = [];
    c.onPush('/news', (n) => void got.push(n));
    c.route('/ui/ok', (q) => `ok: ${String(q)}`);
    await until(() => got.length === 2, 'both pushes', 5000);
    assert.deepEqual(got, [1, 2]);
    assert.equal(await answers[0], 'ok: sure?');
  });

  test("calls pipelined right behind the AUTH_CALL run once the session is known: in the hub, after the 'session' event", async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint({ auth: async () => (await delay(50), 'ok') });
    const seen: string[] = [];
    ep.on('session', (s) => void (s.data.set('greeted', true), seen.push('session')));
    const pushed: Promise<void>[] = [];
    ep.route('/me', (_b, ctx) => {
      seen.push('call');
      pushed.push(ep.push(ctx.session.id, '/note', 'to myself')); // by id: through the hub
      return [ep.sessions.get(ctx.session.id) === ctx.session, ctx.session.data.get('greeted') === true];
    });
    const raw = await h.raw(url);
    // A foreign client may send its first calls without waiting for the AUTH_REPLY.
    raw.send({ seq: 1, mtype: MType.AuthCall }, 'token');
    raw.send({ seq: 2, mtype: MType.Call, serviceMethod: '/me' });
    raw.send({ seq: 3, mtype: MType.Call, serviceMethod: '/me' });
    await until(() => raw.messages.length === 5, 'the AUTH_REPLY, 2 replies and 2 pushes', 3000);
    const got = raw.messages;
    assert.deepEqual([got[0]!.mtype, got[0]!.seq, got[0]!.status.code], [MType.AuthReply, 1, 0]);
    const replies = got.filter((m) => m.mtype === MType.Reply);
    assert.deepEqual(
      replies.map((m) => [m.seq, m.status.code, decodeJson(m)]),
      [
        [2, 0, [true, true]],
        [3, 0, [true, true]],
      ],
    );
    assert.deepEqual(got.filter((m) => m.mtype === MType.Push).map(decodeJson), ['to myself', 'to myself']);
    await Promise.all(pushed);
    assert.deepEqual(seen, ['session', 'call', 'call']);
  });

  test('fail: the client closes with 401 and the cause, does not loop, and reconnect() tries again', async (t) => {
    const h = new Harness(t);
    let checks = 0;
    const { ep, url } = await h.endpoint({
      auth: (payload: any) => {
        checks++;
        if (payload !== 'letmein') throw reject401(`bad password ${JSON.stringify(payload)}`);
        return 'welcome';
      },
    });
    ep.route('/hi', () => 'hi');
    let password = 'guess';
    const { client: c, log } = h.logged(url, { auth: () => password, reconnect: { min: 5, max: 10 } });
    const closed = await log.waitFor('closed');
    assert.equal(closed.status?.code, Code.Unauthorized);
    assert.equal(closed.status?.cause, 'bad password "guess"');
    assert.match(closed.reason, /auth rejected/);
    await assert.rejects(c.ready(), (e: DrpcError) => e.code === Code.ConnClosed);
    await delay(100);
    assert.equal(checks, 1, 'a rejected auth stops reconnecting');
    assert.equal(ep.sessions.count, 0);
    const err = await rejection(c.call('/hi'));
    assert.equal(err.code, Code.ConnClosed);

    password = 'letmein';
    c.reconnect();
    await c.ready();
    assert.equal(checks, 2);
    assert.equal(await c.call('/hi'), 'hi');
    assert.deepEqual(log.states, ['connecting', 'closed', 'connecting', 'open']);
  });

  test('reconnect() from inside the closed listener (a token refresh on 401) dials again and opens', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint({
      auth: (payload: any) => {
        if (payload !== 'fresh') throw reject401('token expired');
        return 'welcome';
      },
    });
    ep.route('/hi', () => 'hi');
    let token = 'stale';
    const { client: c, log } = h.logged(url, { auth: () => token });
    c.on('closed', (info) => {
      if (info.status?.code !== Code.Unauthorized) return;
      token = 'fresh';
      c.reconnect();
    });
    await log.waitFor('open');
    assert.equal(await c.call('/hi'), 'hi');
    assert.deepEqual(log.states, ['connecting', 'closed', 'connecting', 'open']);
  });

  test('a checker that throws a plain Error or a non-401 status still refuses (401 / that status)', async (t) => {
    const h = new Harness(t);
    const { url } = await h.endpoint({
      auth: (payload: any) => {
        if (payload === 'plain') throw new Error('database down');
        throw new DrpcError(1403, 'Forbidden', 'banned');
      },
    });
    const plain = await rawAuth(h, url, 'plain');
    assert.deepEqual([plain.mtype, plain.status.code, plain.status.cause], [MType.AuthReply, 401, 'database down']);
    const custom = await rawAuth(h, url, 'custom');
    assert.deepEqual([custom.status.code, custom.status.msg], [1403, 'Forbidden']);
    // a non-401 refusal is not final for the client: it keeps retrying per backoff
    const { log } = h.logged(url, { auth: () => 'custom', reconnect: { attempts: 1, min: 5, max: 5 } });
    const rec = await log.waitFor('reconnecting');
    assert.equal(rec.status?.code, 1403);
    const closed = await log.waitFor('closed');
    assert.match(closed.reason, /not reconnecting/);
  });

  test('the auth function is re-run on every reconnect', async (t) => {
    const h = new Harness(t);
    const seen: unknown[] = [];
    const { ep, url } = await h.endpoint({ auth: (payload) => void seen.push(payload) });
    let n = 0;
    const { client: c, log } = h.logged(url, { auth: async () => ({ token: `t${++n}` }) });
    await c.ready();
    for (let i = 0; i < 2; i++) {
      const s = await onlySession(ep);
      const mark = log.events.length;
      ep.sessions.kick(s.id, { code: Code.InternalServerError, msg: codeText(500), cause: 'rotate' });
      await log.waitFor('open', mark);
      await until(() => ep.sessions.count === 1 && ep.sessions.list()[0] !== s, 'the new session');
    }
    assert.deepEqual(seen, [{ token: 't1' }, { token: 't2' }, { token: 't3' }]);
  });

  test('an auth function that throws is a dial failure (105), retried per backoff', async (t) => {
    const h = new Harness(t);
    const { url } = await h.endpoint({ auth: () => 'ok' });
    let calls = 0;
    const { log } = h.logged(url, {
      auth: () => {
        calls++;
        throw new Error('no token yet');
      },
      reconnect: { attempts: 1, min: 5, max: 5 },
    });
    const rec = await log.waitFor('reconnecting');
    assert.equal(rec.status?.code, Code.DialFailed);
    assert.equal(rec.status?.cause, 'no token yet');
    await log.waitFor('closed');
    assert.equal(calls, 2);
  });

  test('close() during the auth exchange closes the half-open connection', WS_ONLY, async (t) => {
    const h = new Harness(t);
    const { server, port } = await h.httpServer();
    const sockets: Socket[] = [];
    server.on('upgrade', (_req, socket: Socket) => void sockets.push(socket));
    let release!: () => void;
    const checking = new Promise<void>((r) => (release = r));
    let checks = 0;
    const ep = createEndpoint({
      onError: () => {},
      auth: async () => {
        checks++;
        await checking;
        throw reject401('too late anyway');
      },
    }).attach(server, { path: '/rpc' });
    h.defer(() => (release(), ep.close({ drain: 0 })));
    const { client: c, log } = h.logged(`ws://127.0.0.1:${port}/rpc`, { auth: () => 'x' });
    await until(() => checks === 1, 'the AUTH_CALL at the endpoint');
    await c.close(); // the endpoint's check still hangs, the client's auth timeout (30 s) is far away
    const gone = new Promise<void>((r) => (sockets[0]!.destroyed ? r() : sockets[0]!.once('close', () => r())));
    await within(gone, 1000, 'the half-open connection to close');
    assert.deepEqual(log.states, ['connecting', 'closed']);
  });

  test('without an AUTH_CALL: a CALL first is refused (AUTH_REPLY 401), silence past authTimeout closes with 4401', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint({ auth: () => 'ok', authTimeout: 100 });
    ep.route('/x', () => 'x');
    const eager = await h.raw(url);
    eager.send({ seq: 1, mtype: MType.Call, serviceMethod: '/x' });
    const reply = await eager.nextMessage();
    assert.deepEqual([reply.mtype, reply.status.code], [MType.AuthReply, Code.Unauthorized]);
    assert.match(reply.status.cause, /expect: AUTH_CALL, but received: 1/);
    assert.equal((await within(eager.closed, 1000, 'close')).code, 4401);

    const silent = await h.raw(url);
    const closed = await within(silent.closed, 2000, 'the auth timeout');
    assert.equal(closed.code, 4401);
    assert.match(closed.reason, /no AUTH_CALL/);
    assert.equal(silent.frames.length, 0);
    assert.equal(ep.sessions.count, 0);
  });
});

describe('a client without auth against an endpoint that requires it', { timeout: 30_000 }, () => {
  test('its first call is answered by a failed AUTH_REPLY: the client closes with that 401 and does not redial', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint({ auth: () => 'ok' });
    ep.route('/x', () => 'x');
    const { client: c, log } = h.logged(url, { reconnect: { min: 10, max: 10 } });
    await c.ready();
    const err = await rejection(c.call('/x'));
    assert.equal(err.code, Code.ConnClosed);
    const closed = await log.waitFor('closed');
    assert.equal(closed.status?.code, Code.Unauthorized);
    assert.match(closed.status!.cause, /expect: AUTH_CALL/);
    await delay(50);
    assert.deepEqual(log.states, ['connecting', 'open', 'closed'], 'no redial after a 401');
  });
});

describe('handshake-time checks (verifyUpgrade, query)', { timeout: 30_000 }, () => {
  test('a refused token in the query is a dial failure (105), retried per backoff until attempts run out', async (t) => {
    const h = new Harness(t);
    const tokens: (string | null)[] = [];
    const { url } = await h.endpoint({
      verifyUpgrade: ({ url: u }) => {
        tokens.push(u.searchParams.get('token'));
        if (u.searchParams.get('token') !== 'good') throw reject401('token rejected at the handshake');
      },
    });
    const refused = await rawDial(`${url}?token=bad`);
    assert.equal(refused.open, false);
    assert.equal(!refused.open && refused.status, 401);
    assert.deepEqual(!refused.open && JSON.parse(refused.body), {
      code: 401,
      msg: 'Unauthorized',
      cause: 'token rejected at the handshake',
    });

    tokens.length = 0;
    const { log } = h.logged(url, { query: { token: 'bad' }, reconnect: { attempts: 1, min: 10, max: 10 } });
    const closed = await log.waitFor('closed');
    assert.deepEqual(log.states, ['connecting', 'reconnecting', 'closed']);
    assert.equal(log.events[1]!.status?.code, Code.DialFailed);
    assert.equal(closed.status?.code, Code.DialFailed);
    assert.deepEqual(tokens, ['bad', 'bad']);
  });

  test('a query function is re-run on every dial', async (t) => {
    const h = new Harness(t);
    const tokens: (string | null)[] = [];
    const { ep, url } = await h.endpoint({
      verifyUpgrade: ({ url: u }) => {
        tokens.push(u.searchParams.get('token'));
        if (u.searchParams.get('token') !== 't3') throw reject401('stale');
      },
    });
    ep.route('/ok', () => 'ok');
    let n = 0;
    const c = h.client(`${url}?keep=1`, { query: async () => ({ token: `t${++n}` }), reconnect: { min: 5, max: 10 } });
    assert.equal(await c.call('/ok'), 'ok');
    assert.deepEqual(tokens, ['t1', 't2', 't3']);
  });
});

async function rawAuth(h: Harness, url: string, payload: unknown) {
  const raw = await h.raw(url);
  raw.send({ seq: 1, mtype: MType.AuthCall }, payload);
  const reply = await raw.nextMessage();
  await within(raw.closed, 1000, 'the close after a refused auth');
  return reply;
}

describe('token refresh', { timeout: 30_000 }, () => {
  test('refreshAuth() re-runs the checker on the live session; a refused token is a 401 and the session stays', async (t) => {
    const h = new Harness(t);
    let token = 'v1';
    const { ep, url } = await h.endpoint({
      auth: (payload: any, session) => {
        if (!String(payload).startsWith('v')) throw new DrpcError(Code.Unauthorized, codeText(Code.Unauthorized), 'bad token');
        session.data.set('token', payload);
        return { ok: payload };
      },
    });
    ep.route('/token', (_b, ctx) => ctx.session.data.get('token'));
    const { client: c, log } = h.logged(url, { auth: () => token });
    assert.equal(await c.call('/token'), 'v1');
    token = 'v2';
    assert.deepEqual(await c.refreshAuth(), { ok: 'v2' });
    assert.deepEqual(c.authReply, { ok: 'v2' });
    assert.equal(await c.call('/token'), 'v2');
    const refused = await rejection(c.refreshAuth('stolen'));
    assert.equal(refused.code, Code.Unauthorized);
    assert.equal(await c.call('/token'), 'v2', 'the session keeps its last good token');
    assert.deepEqual(log.states, ['connecting', 'open'], 'no reconnect');
  });
});

describe('credentials that expire (authExpiresAt)', { timeout: 30_000 }, () => {
  /** An endpoint whose tokens are `v<n>` and live `life` ms from when the checker accepts them; `refuse` ends that. */
  async function expiring(h: Harness, life: number, endpointOptions = {}) {
    const accepted: string[] = [];
    let refuse = false;
    const { ep, url } = await h.endpoint({
      auth: (payload: any, session) => {
        if (refuse || !/^v\d+$/.test(String(payload))) throw new DrpcError(Code.Unauthorized, codeText(Code.Unauthorized), 'token revoked');
        accepted.push(payload);
        session.data.set('token', payload);
        session.data.set('exp', Date.now() + life);
        return { ok: payload };
      },
      authExpiresAt: (session) => session.data.get('exp') as number,
      ...endpointOptions,
    });
    ep.route('/token', (_b, ctx) => ctx.session.data.get('token'));
    return { ep, url, accepted, revoke: () => (refuse = true) };
  }

  test('the client refreshes its token ahead of the expiry, again and again: the session never closes', async (t) => {
    const h = new Harness(t);
    const { url, accepted } = await expiring(h, 1500);
    let n = 0;
    const { client: c, log } = h.logged(url, { auth: () => `v${++n}` });
    assert.equal(await c.call('/token'), 'v1');
    await until(() => accepted.length >= 3, 'two refreshes (each at 80 % of a 1.5 s life)', 6000);
    assert.deepEqual(accepted.slice(0, 3), ['v1', 'v2', 'v3']);
    assert.equal(await c.call('/token'), `v${n}`, 'the session runs on the newest token');
    assert.deepEqual(log.states, ['connecting', 'open'], 'no reconnect');
  });

  test('a session not refreshed in time is closed at its expiry with 102 "credentials expired"', WS_ONLY, async (t) => {
    const h = new Harness(t);
    const { ep, url } = await expiring(h, 300);
    const peer = await h.raw(url); // a peer that never refreshes
    peer.send({ seq: 1, mtype: MType.AuthCall }, 'v1');
    await until(() => peer.messages.length === 2, 'the AUTH_REPLY and the expiry');
    const [reply, told] = peer.messages as [Message, Message];
    assert.deepEqual([reply.mtype, reply.status.code], [MType.AuthReply, 0]);
    assert.equal(told.serviceMethod, AUTH_EXPIRES_METHOD, 'the endpoint tells how long the credentials live');
    assert.ok((decodeJson(told) as number) > 200 && (decodeJson(told) as number) <= 300);
    const closed = await within(peer.closed, 2000, 'the close at the expiry');
    assert.deepEqual(closed, { code: 4102, reason: 'credentials expired' });
    await until(() => ep.sessions.count === 0, 'the session gone');
  });

  test('a client whose refresh is refused is closed at the expiry, reconnects, and ends with the 401 of its revoked token', async (t) => {
    const h = new Harness(t);
    const { url, revoke } = await expiring(h, 1500);
    const { client: c, log } = h.logged(url, { auth: () => 'v1', reconnect: { min: 10, max: 20 } });
    assert.equal(await c.call('/token'), 'v1');
    revoke();
    await log.waitFor('reconnecting', 0, 5000);
    assert.match(log.events.find((e) => e.state === 'reconnecting')!.reason, /credentials expired/);
    const closed = await log.waitFor('closed', 0, 5000);
    assert.equal(closed.status?.code, Code.Unauthorized);
    assert.match(closed.reason, /token revoked/);
  });

  test('a client that missed the refresh (its auth() too slow) reconnects with a fresh token; a durable call in flight runs once', async (t) => {
    const h = new Harness(t);
    const { ep, url, accepted } = await expiring(h, 1200);
    let runs = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    ep.route('/slow', async () => {
      runs++;
      await gate;
      return 'done';
    });
    let n = 0;
    const { client: c, log } = h.logged(url, {
      reconnect: { min: 10, max: 20 },
      // the refresh (the second call) takes longer than the credentials live
      auth: async () => (++n === 2 ? delay(2000).then(() => 'v2') : `v${n}`),
    });
    await c.ready();
    const call = c.call('/slow');
    await log.waitFor('reconnecting', 0, 5000);
    await log.waitFor('open', log.events.length - 1, 5000);
    release();
    assert.equal(await call, 'done');
    assert.equal(runs, 1);
    assert.ok(accepted.includes('v3'), `the reconnect's fresh token: ${accepted.join(', ')}`);
  });

  // A msgpack body (JSON has no NaN): the JSON sub-protocol carries text bodies only.
  const RAW_ONLY = PROTO === 'json' ? { skip: 'a msgpack body' } : {};
  test('an expiry the client cannot use (NaN, negative) schedules no refresh, rather than a refresh loop', RAW_ONLY, async (t) => {
    const h = new Harness(t);
    const withMsgpack = codecs.clone().register(msgpack); // JSON has no NaN; msgpack does
    const { ep, url, accepted } = await expiring(h, 60_000, { codecs: withMsgpack });
    const c = h.client(url, { auth: () => 'v1', codecs: withMsgpack });
    await c.ready();
    const s = await onlySession(ep);
    // (each push replaces the refresh the one before scheduled: each gets its time)
    await s.push(AUTH_EXPIRES_METHOD, NaN, { codec: 'msgpack' });
    await delay(100);
    assert.deepEqual(accepted, ['v1'], 'no refresh for NaN');
    await s.push(AUTH_EXPIRES_METHOD, -5, { codec: 'msgpack' });
    await delay(1200); // past the 1 s floor of a refresh
    assert.deepEqual(accepted, ['v1'], 'no refresh for a negative time');
    assert.equal(c.state, 'open');
  });

  test('a bad authExpiresAt is a 500 to the client; authExpiresAt without auth is refused at once (400)', async (t) => {
    const h = new Harness(t);
    const { url } = await h.endpoint({ auth: () => 'ok', authExpiresAt: () => 'soon' as never });
    const peer = await h.raw(url);
    peer.send({ seq: 1, mtype: MType.AuthCall }, 'v1');
    const reply = await peer.nextMessage();
    assert.equal(reply.status.code, Code.InternalServerError);
    assert.match(reply.status.cause, /authExpiresAt must return a time in ms or undefined, got "soon"/);
    assert.throws(
      () => createEndpoint({ authExpiresAt: () => 1 }),
      (e: DrpcError) => e.code === Code.BadMessage && /authExpiresAt needs auth/.test(e.message),
    );
  });
});
