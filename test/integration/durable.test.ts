/** Calls that survive reconnects: re-sent with the same identity, run once thanks to the reply cache. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Code, DrpcError } from '../../src/status.ts';
import type { Plugin } from '../../src/hooks.ts';
import { HELLO_QUERY } from '../../src/extensions.ts';
import { createEndpoint } from '../../adapters/node/endpoint.ts';
import { Harness, RAW_WS_ONLY, byUser, chargeAs, decodeJson, delay, onlySession, rejection, until, within } from './helpers.ts';

const kick = { code: Code.InternalServerError, msg: 'Internal Server Error', cause: 'test kills the socket' };

describe('durable calls', { timeout: 30_000 }, () => {
  test('by default, a call in flight when the socket dies is re-sent and attached to its running handler: one effect', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    let effects = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    ep.route('/charge', async (n: any) => {
      effects++;
      await gate;
      return n * 2;
    });
    const { client: c, log } = h.logged(url);
    await c.ready();
    const call = c.call('/charge', 21);
    await until(() => effects === 1, 'the handler to start');
    ep.sessions.kick((await onlySession(ep)).id, kick);
    await log.waitFor('reconnecting');
    await log.waitFor('open', log.events.length - 1);
    await delay(30); // the copy reaches the endpoint and attaches to the running handler
    release();
    assert.equal(await call, 42);
    assert.equal(effects, 1);
  });

  for (const [how, options] of [
    ['with auth too', { auth: () => 'welcome' }],
    ['with auth and a principal', { auth: () => 'welcome', principal: () => 'the user' }],
  ] as const)
    test(`${how}: the HELLO right behind the AUTH_REPLY reaches the client, so a call in flight at a drop is re-sent, one effect`, async (t) => {
      const h = new Harness(t);
      const { ep, url } = await h.endpoint(options);
      let effects = 0;
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      ep.route('/charge', async (n: any) => {
        if (n === 0) return 0; // the warm-up call
        effects++;
        await gate;
        return n * 2;
      });
      const { client: c, log } = h.logged(url, { auth: () => 'token' });
      await c.ready();
      await c.call('/charge', 0); // a first call: the HELLO has arrived by its reply
      const call = c.call('/charge', 21);
      await until(() => effects === 1, 'the handler to start');
      ep.sessions.kick((await onlySession(ep)).id, kick);
      await log.waitFor('reconnecting');
      await log.waitFor('open', log.events.length - 1);
      await delay(30);
      release();
      assert.equal(await call, 42);
      assert.equal(effects, 1);
    });

  test('a reply lost with its socket is answered from the cache when the call comes again', async (t) => {
    const h = new Harness(t);
    let dropped = false;
    const dropFirstReply: Plugin = {
      name: 'drop-first-reply',
      beforeWriteReply: (ctx) => {
        if (dropped || ctx.body !== 1) return; // the first reply of /once
        dropped = true;
        ctx.session.abort(kick); // the handler ran; its reply never leaves
      },
    };
    const { ep, url } = await h.endpoint({ plugins: [dropFirstReply] });
    let effects = 0;
    ep.route('/once', () => ++effects);
    const c = h.client(url);
    assert.equal(await c.call('/once', null), 1);
    assert.equal(dropped, true);
    assert.equal(effects, 1);
    assert.equal(await c.call('/once', null), 2, 'a new call is a new effect');
  });

  test('without durable, a call in flight when the socket dies still settles with 102', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    ep.route('/hang', () => new Promise(() => {}));
    const c = h.client(url, { durableCalls: true });
    await c.ready();
    const call = c.call('/hang', null, { durable: false });
    await delay(20);
    ep.sessions.kick((await onlySession(ep)).id, kick);
    assert.equal((await rejection(call)).code, Code.ConnClosed);
  });

  test(
    'the client id is a secret (128 random bits); the endpoint keeps no replies for an id too short to be one',
    RAW_WS_ONLY,
    async (t) => {
      const h = new Harness(t);
      const { url } = await h.endpoint();
      const ids = [h.client(url).id, h.client(url).id];
      for (const id of ids) assert.match(id, /^[0-9a-z]{28}$/);
      assert.notEqual(ids[0], ids[1]);
      // What a peer that dials with an id is told (the HELLO, the first message): a reply cache only for a long one.
      const hello = async (id: string) => {
        const peer = await h.raw(`${url}?${HELLO_QUERY}=${id}`);
        await until(() => peer.messages.length > 0, 'the HELLO');
        return decodeJson(peer.messages[0]!);
      };
      assert.deepEqual(await hello(ids[0]!), { replyCache: { maxAgeMs: 60_000 } });
      assert.deepEqual(await hello('a'.repeat(16)), { replyCache: { maxAgeMs: 60_000 } });
      assert.deepEqual(await hello('a'.repeat(15)), {}, 'no reply cache by a guessable id');
    },
  );

  test('an endpoint without a reply cache says so (HELLO): a call in flight at the drop settles with 102, never runs twice', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint({ replyCache: false });
    let effects = 0;
    ep.route('/hang', () => (effects++, new Promise(() => {})));
    const { client: c, log } = h.logged(url, { reconnect: { min: 10, max: 20 } });
    await c.ready();
    await delay(20); // the HELLO push has arrived
    const call = c.call('/hang', null);
    await until(() => effects === 1, 'the handler to start');
    ep.sessions.kick((await onlySession(ep)).id, kick);
    assert.equal((await rejection(call)).code, Code.ConnClosed);
    await log.waitFor('open', log.events.length - 1);
    await delay(30);
    assert.equal(effects, 1);
  });

  test('the endpoint drops replies as the client acknowledges them: its cache holds about the calls in flight', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    ep.route('/n', (n: any) => n);
    const c = h.client(url);
    for (let i = 0; i < 300; i++) await c.call('/n', i);
    await Promise.all(Array.from({ length: 200 }, (_, i) => c.call('/n', i)));
    const record = (await onlySession(ep)).replyCache!;
    assert.ok(record.size >= 200, `${record.size} replies kept: the 200 in flight at once, until an acknowledgement`);
    for (let i = 0; i < 40; i++) await c.call('/n', i);
    assert.ok(record.size <= 64, `${record.size} replies kept after 540 calls`);
    assert.ok(record.size > 0, 'the latest replies are still kept (acknowledged now and then)');
  });

  test('a reply with status 102 (a handler whose own upstream connection closed) settles the durable call at once: it was not lost', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    let runs = 0;
    ep.route('/ok', () => 'ok');
    ep.route('/upstream', () => {
      runs++;
      throw new DrpcError(Code.ConnClosed, 'Connection Closed', 'the upstream service went away');
    });
    const c = h.client(url);
    assert.equal(await c.call('/ok'), 'ok'); // after the HELLO: the client's calls are durable
    const err = await within(rejection(c.call('/upstream')), 3000, 'the call to settle');
    assert.equal(err.code, Code.ConnClosed);
    assert.match(err.causeText, /upstream service went away/);
    assert.equal(runs, 1);
    assert.equal(c.state, 'open');
  });

  test('a durable call answered 100 (its client moved) while the connection stays up waits for the move no longer than its timeout, or the resume window', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    let runs = 0;
    ep.route('/ok', () => 'ok');
    ep.route('/moved', () => {
      runs++; // an endpoint that says the client went elsewhere, though this connection stays up
      throw new DrpcError(Code.WrongConn, 'Wrong Connection', 'the client moved');
    });
    const c = h.client(url, { resumeWindow: 400 });
    assert.equal(await c.call('/ok'), 'ok'); // after the HELLO: the client's calls are durable
    const timedOut = await within(rejection(c.call('/moved', null, { timeout: 300 })), 3000, 'the call to settle at its timeout');
    assert.equal(timedOut.code, Code.HandleTimeout);
    const noTimeout = await within(rejection(c.call('/moved', null, { timeout: 0 })), 3000, 'the call to settle at the resume window');
    assert.equal(noTimeout.code, Code.ConnClosed);
    assert.match(noTimeout.causeText, /no connection within the 400 ms resume window/);
    assert.equal(runs, 2, 'each ran once: the copy sent again after the wait was answered from the reply cache');
    assert.equal(c.state, 'open');
  });

  test('a durable call gives up with its own timeout (408) when the connection does not come back', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    ep.route('/hang', () => new Promise(() => {}));
    const c = h.client(url, { reconnect: { min: 20, max: 40 } });
    await c.ready();
    const call = c.call('/hang', null, { timeout: 300 });
    await delay(20);
    await ep.close({ drain: 0 });
    const err = (await rejection(call)) as DrpcError;
    assert.equal(err.code, Code.HandleTimeout);
  });

  test('a durable call canceled while it waits for the connection is canceled on the endpoint too, once it is back', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    let runs = 0;
    let aborted: unknown;
    ep.route('/export', async (_: unknown, ctx) => {
      runs++;
      await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
      aborted = ctx.signal.reason;
      return 'stopped';
    });
    const { client: c, log } = h.logged(url, { reconnect: { min: 300, max: 300 } });
    await c.ready();
    const controller = new AbortController();
    const call = c.call('/export', null, { signal: controller.signal });
    await until(() => runs === 1, 'the handler to start');
    ep.sessions.kick((await onlySession(ep)).id, kick);
    await log.waitFor('reconnecting');
    controller.abort(); // no connection now: nothing can reach the endpoint yet
    assert.equal(((await rejection(call)) as DrpcError).code, Code.Canceled);
    await log.waitFor('open', log.events.length - 1);
    await until(() => aborted !== undefined, "the handler's signal to fire after the reconnect");
    assert.deepEqual([(aborted as DrpcError).code, (aborted as DrpcError).message], [Code.Canceled, 'the caller canceled the call']);
    assert.equal(runs, 1);
  });
});

describe('durable calls bound to a principal', { timeout: 30_000 }, () => {
  const CLIENT_ID = 'alices-client-id-000000000001';

  test(
    'without `principal`, whoever dials with a client id is answered from its replies: the id is the only secret',
    RAW_WS_ONLY,
    async (t) => {
      const h = new Harness(t);
      const { ep, url } = await h.endpoint({ auth: byUser.auth });
      let effects = 0;
      ep.route('/charge', (_b, ctx) => `${ctx.session.data.get('user')}:${++effects}`);
      assert.equal(await chargeAs(h, url, CLIENT_ID, 'alice'), 'alice:1');
      assert.equal(await chargeAs(h, url, CLIENT_ID, 'mallory'), 'alice:1', "alice's reply, as a re-sent call's");
      assert.equal(effects, 1);
    },
  );

  test(
    "with `principal`, a client id used under other credentials finds nothing of the client's: its call runs as a new one",
    RAW_WS_ONLY,
    async (t) => {
      const h = new Harness(t);
      const { ep, url, errors } = await h.endpoint(byUser);
      let effects = 0;
      ep.route('/charge', (_b, ctx) => `${ctx.session.data.get('user')}:${++effects}`);
      assert.equal(await chargeAs(h, url, CLIENT_ID, 'alice'), 'alice:1');
      assert.equal(await chargeAs(h, url, CLIENT_ID, 'mallory'), 'mallory:2');
      // The client itself, back under its own credentials, still has its reply: its re-sent call runs once.
      assert.equal(await chargeAs(h, url, CLIENT_ID, 'alice'), 'alice:1');
      assert.equal(effects, 2);
      assert.deepEqual(errors, []);
    },
  );

  test('`principal` without `auth` is refused (400): there is nothing to read it from', () => {
    assert.throws(
      () => createEndpoint({ principal: () => 'x' }),
      (e: DrpcError) => e.code === Code.BadMessage && /principal needs auth/.test(e.message),
    );
  });
});
