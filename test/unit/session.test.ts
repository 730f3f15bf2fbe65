import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Session, type SessionOptions } from '../../src/session.ts';
import { memoryPair } from '../../src/transport/memory.ts';
import { ManualClock } from '../../src/clock.ts';
import { Code, DrpcError } from '../../src/status.ts';
import { createMessage, MType } from '../../src/message.ts';
import { rawProto } from '../../src/proto/raw.ts';
import { jsonProto } from '../../src/proto/json.ts';
import { gzip } from '../../src/filter/gzip.ts';
import { createFilters } from '../../src/filter/index.ts';
import type { Plugin } from '../../src/hooks.ts';
import { tick } from '../helpers.ts';
import { serveCalls } from '../../src/serve.ts';

function pair(a: SessionOptions = {}, b: SessionOptions = {}) {
  const [ta, tb] = memoryPair();
  const errors: DrpcError[] = [];
  const onError = (e: DrpcError) => void errors.push(e);
  const client = new Session(ta, { serve: serveCalls, onError, ...a });
  const server = new Session(tb, { serve: serveCalls, onError, ...b });
  return { client, server, ta, tb, errors };
}

const isCode = (code: number, re?: RegExp) => (e: unknown) =>
  e instanceof DrpcError && e.code === code && (!re || re.test(e.message + ' ' + e.causeText));

describe('Session: serving is chosen (serve option)', () => {
  it('by default (servePushes) pushes reach their routes and a CALL is answered 404, even to a routed method', async () => {
    const [ta, tb] = memoryPair();
    const errors: DrpcError[] = [];
    const server = new Session(tb, { serve: serveCalls });
    const client = new Session(ta, { onError: (e) => void errors.push(e) }); // the default
    const got: unknown[] = [];
    client.router.routePush('/news', (b) => void got.push(b));
    client.router.route('/ui/ask', () => 'never runs');
    await server.push('/news', 'hello');
    await server.push('/nobody', 1);
    await server.push('/drpc/cancel', undefined, { meta: { _c: '7' } }); // nothing runs here: silently nothing to cancel
    await tick();
    assert.deepEqual(got, ['hello']);
    assert.deepEqual(
      errors.map((e) => [e.code, e.causeText]),
      [[Code.NotFound, 'no PUSH route for "/nobody" (dropped)']],
    );
    await assert.rejects(server.call('/ui/ask', 'q'), isCode(Code.NotFound, /no CALL route for "\/ui\/ask"/));
    assert.equal(client.state, 'open');
  });

  it('a failing push handler is reported, the session lives on', async () => {
    const [ta, tb] = memoryPair();
    const errors: DrpcError[] = [];
    const server = new Session(tb, { serve: serveCalls });
    const client = new Session(ta, { onError: (e) => void errors.push(e) });
    client.router.routePush('/sync', () => {
      throw new Error('sync bug');
    });
    client.router.routePush('/async', async () => Promise.reject(new DrpcError(1499, 'gave up')));
    await server.push('/sync', 1);
    await server.push('/async', 2);
    await tick();
    await tick();
    assert.deepEqual(
      errors.map((e) => [e.code, e.message]),
      [
        [Code.InternalServerError, 'push handler for /sync failed'],
        [1499, 'gave up'],
      ],
    );
    assert.equal(client.state, 'open');
  });
});

describe('Session: limits', () => {
  it('a NaN, negative or fractional limit fails the constructor with 400 naming it', () => {
    const bad: [SessionOptions, RegExp][] = [
      [{ timeout: NaN }, /option timeout must be a number ≥ 0, got NaN/],
      [{ closeTimeout: -1 }, /option closeTimeout must be a number ≥ 0, got -1/],
      [{ maxPendingCalls: 0 }, /option maxPendingCalls must be a whole number ≥ 1, got 0/],
      [{ maxConcurrentCalls: 1.5 }, /option maxConcurrentCalls must be a whole number ≥ 1, got 1.5/],
    ];
    for (const [options, message] of bad)
      assert.throws(
        () => new Session(memoryPair()[0], options),
        (e: unknown) => e instanceof DrpcError && e.code === Code.BadMessage && message.test(e.message),
      );
    // Infinity and 0 mean "none" for the timeouts; Infinity is no cap.
    new Session(memoryPair()[0], { timeout: 0, closeTimeout: Infinity, maxPendingCalls: Infinity, maxConcurrentCalls: 8 });
  });
});

describe('Session: calls', () => {
  it('calls a route and resolves with the decoded reply', async () => {
    const { client, server } = pair();
    server.router.route('/math/add', (b) => (b as { a: number; b: number }).a + (b as { b: number }).b);
    assert.equal(await client.call('/math/add', { a: 1, b: 2 }), 3);
  });

  it('is symmetric: the accepting side calls the dialing side too', async () => {
    const { client, server } = pair();
    client.router.route('/ui/confirm', (q) => `yes to ${q}`);
    assert.equal(await server.call('/ui/confirm', 'sure?'), 'yes to sure?');
  });

  it('carries meta both ways and exposes the reply meta', async () => {
    const { client, server } = pair();
    server.router.route('/meta', (_b, ctx) => {
      ctx.replyMeta['x-back'] = ctx.meta['x-in'] + '!';
      return null;
    });
    const r = await client.callReply('/meta', undefined, { meta: { 'x-in': 'hi' } });
    assert.deepEqual(r.meta, { 'x-back': 'hi!' });
    assert.equal(r.value, null);
  });

  it('runs handlers concurrently: replies come back out of order', async () => {
    const { client, server } = pair();
    const order: number[] = [];
    const gates: (() => void)[] = [];
    server.router.route('/wait', (n) => new Promise((r) => gates.push(() => r(n))));
    const calls = [1, 2, 3].map((n) => client.call<number>('/wait', n).then((v) => order.push(v)));
    while (gates.length < 3) await tick();
    gates[2]!();
    gates[0]!();
    gates[1]!();
    await Promise.all(calls);
    assert.deepEqual(order, [3, 1, 2]);
  });

  it('refuses to send a call or push whose service method is empty or not a string (400, nothing sent)', async () => {
    const { client, server } = pair();
    let reached = 0;
    server.router.setUnknownCall(() => reached++);
    server.router.setUnknownPush(() => void reached++);
    for (const bad of ['', 7, undefined]) {
      await assert.rejects(client.call(bad as never), isCode(Code.BadMessage, /service method must be a non-empty string/));
      await assert.rejects(client.push(bad as never), isCode(Code.BadMessage, /service method must be a non-empty string/));
    }
    await tick();
    assert.equal(reached, 0);
    assert.equal(client.pendingCalls, 0);
  });

  it('answers an unknown route with 404 and an empty method from the wire with 400', async () => {
    const { client, ta, tb } = pair();
    await assert.rejects(client.call('/nope'), isCode(404, /no CALL route for "\/nope"/));
    const before = tb.sent.length;
    ta.send((await rawProto().pack(createMessage({ seq: 98, mtype: MType.Call, serviceMethod: '' }))) as Uint8Array);
    while (tb.sent.length === before) await tick();
    const reply = await rawProto().unpack(tb.sent.at(-1)!);
    assert.deepEqual([reply.seq, reply.status.code, reply.status.cause], [98, 400, 'invalid service method for message']);
  });

  it('turns a thrown DrpcError into its status and anything else into 500 with the cause', async () => {
    const { client, server } = pair();
    server.router.route('/custom', () => {
      throw new DrpcError(1234, 'custom failure', 'because');
    });
    server.router.route('/boom', () => {
      throw new Error('kaput');
    });
    await assert.rejects(
      client.call('/custom'),
      (e: DrpcError) => e.code === 1234 && e.message === 'custom failure' && e.causeText === 'because',
    );
    await assert.rejects(
      client.call('/boom'),
      (e: DrpcError) => e.code === 500 && e.message === 'Internal Server Error' && e.causeText === 'kaput',
    );
  });

  it('sends an error REPLY with empty body, codec 0, empty method and the call pipe', async () => {
    const proto = rawProto({ filters: createFilters() });
    const { client, server, tb } = pair({ proto }, { proto });
    server.router.route('/fail', () => {
      throw new DrpcError(401, 'Unauthorized');
    });
    await assert.rejects(client.call('/fail', 'x', { pipe: [gzip.id] }), isCode(401));
    const reply = await proto.unpack(tb.sent.at(-1)!);
    assert.equal(reply.mtype, MType.Reply);
    assert.equal(reply.serviceMethod, '');
    assert.equal(reply.bodyCodec, 0);
    assert.equal(reply.body.length, 0);
    assert.deepEqual(reply.pipe, [gzip.id]);
  });

  it('honours X-Accept-Body-Codec, and a handler choice over it', async () => {
    const { client, server, tb } = pair();
    server.router.route('/echo', (b) => b);
    server.router.route('/chosen', (b, ctx) => (ctx.setReplyCodec('json'), b));
    const r = await client.callReply('/echo', 'text', { codec: 'json', acceptCodec: 'plain' });
    assert.equal(r.bodyCodec, 115);
    assert.equal(r.value, 'text');
    const r2 = await client.callReply('/chosen', 'text', { codec: 'plain', acceptCodec: 'plain' });
    assert.equal(r2.bodyCodec, 106);
    assert.equal((await rawProto().unpack(tb.sent.at(-1)!)).bodyCodec, 106);
  });

  it('fails a call whose body a codec cannot decode with 400, keeping the session', async () => {
    const { client, server } = pair();
    server.router.route('/x', (b) => b);
    await assert.rejects(client.call('/x', new TextEncoder().encode('{not json'), { codec: 'json' }), isCode(400, /not valid JSON/));
    await assert.rejects(
      client.call('/x', new Uint8Array([1]), { codec: 'bytes', acceptCodec: 'bytes' }).then(() => client.call('/x', 1, { codec: 200 })),
      isCode(400, /unsupported body codec/),
    );
    assert.equal(await client.call('/x', 5), 5);
  });

  it('answers an unknown body codec id from the wire with 400', async () => {
    const { server, ta, tb } = pair();
    server.router.route('/x', (b) => b);
    ta.send(
      (await rawProto().pack(
        createMessage({ seq: 99, mtype: MType.Call, serviceMethod: '/x', bodyCodec: 200, body: new Uint8Array([1]) }),
      )) as Uint8Array,
    );
    while (tb.sent.length === 0) await tick();
    const reply = await rawProto().unpack(tb.sent[0]!);
    assert.equal(reply.seq, 99);
    assert.equal(reply.status.code, 400);
    assert.match(reply.status.cause, /unsupported body codec id 200/);
    assert.equal(server.state, 'open');
  });
});

describe('Session: settling exactly once', () => {
  it('times out with 408 through the injected clock, and ignores the late reply', async () => {
    const clock = new ManualClock();
    const { client, server } = pair({ clock, timeout: 1000 });
    let release!: () => void;
    server.router.route('/slow', () => new Promise<string>((r) => (release = () => r('late'))));
    const p = client.call('/slow');
    await tick();
    clock.advance(999);
    await tick();
    clock.advance(1);
    await assert.rejects(p, isCode(Code.HandleTimeout, /timed out after 1000 ms/));
    release();
    await tick();
    assert.equal(client.pendingCalls, 0);
    assert.equal(clock.pending, 0);
  });

  it('timeout Infinity waits without a timer (and sends no deadline); NaN or a negative timeout fails the call with 400', async () => {
    const clock = new ManualClock();
    const { client, server } = pair({ clock });
    let release!: () => void;
    const deadlines: (string | undefined)[] = [];
    server.router.route('/slow', (_b, ctx) => {
      deadlines.push(ctx.meta['_d']);
      return new Promise<string>((r) => (release = () => r('done')));
    });
    const p = client.call('/slow', null, { timeout: Infinity });
    await tick();
    assert.equal(clock.pending, 0, 'no timer armed');
    assert.deepEqual(deadlines, [undefined]);
    release();
    assert.equal(await p, 'done');
    for (const bad of [NaN, -1])
      await assert.rejects(client.call('/slow', null, { timeout: bad }), isCode(Code.BadMessage, /timeout must be a number of ms ≥ 0/));
    assert.equal(client.pendingCalls, 0);
  });

  it('a reply and a timeout in the same turn settle the call once', async () => {
    const clock = new ManualClock();
    const { client, server } = pair({ clock, timeout: 10 });
    server.router.route('/x', () => 'ok');
    let settled = 0;
    const p = client.call('/x').then(
      (v) => (settled++, v),
      (e) => (settled++, e),
    );
    clock.advance(10); // timer fires before the reply frame is delivered
    await tick();
    const v = await p;
    assert.equal(settled, 1);
    assert.ok(v instanceof DrpcError && v.code === 408);
  });

  it('aborts with 1499 Canceled, before and after sending', async () => {
    const { client, server } = pair();
    server.router.route('/hang', () => new Promise(() => {}));
    const ac = new AbortController();
    const p = client.call('/hang', null, { signal: ac.signal });
    ac.abort(new Error('user left'));
    await assert.rejects(p, isCode(Code.Canceled, /user left/));
    await assert.rejects(client.call('/hang', null, { signal: ac.signal }), isCode(Code.Canceled));
    assert.equal(client.pendingCalls, 0);
  });

  it('settles every pending call with 102 when the connection drops', async () => {
    const { client, server, tb } = pair();
    server.router.route('/hang', () => new Promise(() => {}));
    const calls = [client.call('/hang'), client.call('/hang'), client.call('/hang')];
    await tick();
    tb.close('network down');
    for (const c of calls) await assert.rejects(c, isCode(Code.ConnClosed, /network down/));
    await assert.rejects(client.call('/hang'), isCode(102));
    await assert.rejects(client.push('/p'), isCode(102));
    assert.equal(client.state, 'closed');
  });

  it('ignores a REPLY for an unknown seq', async () => {
    const { client, server, tb } = pair();
    server.router.route('/x', () => 1);
    tb.send(
      (await rawProto().pack(
        createMessage({ seq: 12345, mtype: MType.Reply, bodyCodec: 106, body: new Uint8Array([0x31]) }),
      )) as Uint8Array,
    );
    assert.equal(await client.call('/x'), 1);
  });

  it('limits pending calls (104) and concurrent handlers (500)', async () => {
    const { client, server } = pair({ maxPendingCalls: 2 }, { maxConcurrentCalls: 1 });
    server.router.route('/hang', () => new Promise(() => {}));
    const a = client.call('/hang');
    const b = client.call('/hang');
    await assert.rejects(client.call('/hang'), isCode(Code.WriteFailed, /too many pending calls \(limit 2\)/));
    await assert.rejects(b, isCode(500, /too many concurrent calls \(limit 1\)/));
    void a.catch(() => {});
  });
});

describe('Session: pushes', () => {
  it('delivers pushes in order and never replies to them', async () => {
    const { client, server, tb } = pair();
    const got: unknown[] = [];
    client.router.routePush('/news', (b, ctx) => void got.push([b, ctx.meta['k']]));
    for (let i = 0; i < 5; i++) await server.push('/news', { i }, { meta: { k: String(i) } });
    await tick();
    assert.deepEqual(
      got,
      [0, 1, 2, 3, 4].map((i) => [{ i }, String(i)]),
    );
    assert.equal(tb.sent.length, 5);
  });

  it('reports an unroutable push and a failing push handler without replying', async () => {
    const { client, server, errors, ta } = pair();
    client.router.routePush('/bad', () => {
      throw new Error('handler broke');
    });
    await server.push('/unknown', 1);
    await server.push('/bad', 1);
    await tick();
    assert.ok(errors.some((e) => e.code === 404 && /no PUSH route for "\/unknown"/.test(e.causeText)));
    assert.ok(errors.some((e) => e.code === 500 && /handler broke/.test(e.causeText)));
    assert.equal(ta.sent.length, 0);
  });
});

describe('Session: protocol rules', () => {
  it('closes without a reply on an AUTH_CALL after the handshake (405)', async () => {
    const { client, server, tb } = pair();
    const closed = new Promise<{ reason: string; status?: { code: number } }>((r) => server.on('close', r));
    await client.earlySend({ mtype: MType.AuthCall }, 'token');
    const info = await closed;
    assert.equal(info.status?.code, 405);
    assert.equal(tb.sent.length, 0);
  });

  it('closes on a frame it cannot parse', async () => {
    const { server, ta, errors } = pair();
    ta.send(new Uint8Array([0, 0, 0, 9, 1, 0, 5, 0xff, 0xff]));
    await server.closed;
    assert.ok(errors.some((e) => e.code === 400 && /truncated/.test(e.message)));
  });

  it('hands handshake messages to earlyReceive while preparing, then routes normally', async () => {
    const { client, server } = pair({ preparing: true }, { preparing: true });
    server.router.route('/x', () => 'routed');
    await assert.rejects(client.call('/x'), isCode(Code.InvalidOp, /handshake/));
    await client.earlySend({ mtype: MType.AuthCall }, { token: 't' });
    const auth = await server.earlyReceive();
    assert.equal(auth.mtype, MType.AuthCall);
    assert.deepEqual(server.decodeBody(auth), { token: 't' });
    await server.earlySend({ mtype: MType.AuthReply, seq: auth.seq }, 'welcome');
    server.start();
    const reply = await client.earlyReceive();
    assert.equal(client.decodeBody(reply), 'welcome');
    client.start();
    assert.equal(await client.call('/x'), 'routed');
  });

  it('serves, at start() and in order, what the peer sent right behind its last handshake message', async () => {
    const { client, server } = pair({ preparing: true }, { preparing: true });
    const got: unknown[] = [];
    client.router.routePush('/news', (b) => void got.push(b));
    client.router.route('/ask', (q) => `yes to ${String(q)}`);
    await client.earlySend({ mtype: MType.AuthCall }, { token: 't' });
    const auth = await server.earlyReceive();
    await server.earlySend({ mtype: MType.AuthReply, seq: auth.seq }, 'welcome');
    server.start();
    // The server pushes and calls at once (an endpoint does, in its 'session' event), before the client
    // has taken the AUTH_REPLY: both wait behind it in the client's handshake inbox.
    void server.push('/news', 1);
    const answer = server.call('/ask', 'q');
    void server.push('/news', 2);
    await tick();
    assert.equal(client.decodeBody(await client.earlyReceive()), 'welcome');
    assert.deepEqual(got, [], 'nothing is served during the handshake');
    client.start();
    assert.deepEqual(got, [1, 2]);
    assert.equal(await answer, 'yes to q');
  });

  it('held: reads nothing until start(), runs `ready` first, then serves all the peer sent, in order, past the inbox limit', async () => {
    const { client, server } = pair({}, { preparing: true, held: true });
    const order: unknown[] = [];
    server.router.routePush('/n', (n) => void order.push(n));
    server.router.route('/x', () => (order.push('call'), 'ok'));
    for (let n = 0; n < 100; n++) void client.push('/n', n); // more than a handshake inbox holds (64)
    const answer = client.call('/x');
    await tick();
    await tick();
    assert.equal(order.length, 0, 'nothing read before start()');
    assert.equal(server.state, 'preparing');
    server.start(() => order.push('ready'));
    assert.equal(await answer, 'ok');
    assert.deepEqual(order, ['ready', ...Array.from({ length: 100 }, (_, n) => n), 'call']);
    assert.equal(server.state, 'open');
  });

  it('works the same over the JSON sub-protocol (status travels in our extension key)', async () => {
    const { client, server } = pair({ proto: jsonProto() }, { proto: jsonProto() });
    server.router.route('/add', (b) => (b as number[]).reduce((a, c) => a + c, 0));
    server.router.route('/deny', () => {
      throw new DrpcError(401, 'Unauthorized', 'bad token');
    });
    assert.equal(await client.call('/add', [1, 2, 3]), 6);
    await assert.rejects(client.call('/deny'), (e: DrpcError) => e.code === 401 && e.causeText === 'bad token');
  });
});

describe('Session: close', () => {
  it('an active close waits for running handlers, then closes', async () => {
    const { client, server } = pair();
    let release!: () => void;
    server.router.route('/work', () => new Promise<string>((r) => (release = () => r('done'))));
    const p = client.call('/work');
    await tick();
    const closing = server.close();
    await tick();
    assert.equal(server.state, 'closing');
    release();
    assert.equal(await p, 'done');
    await closing;
    assert.equal(server.state, 'closed');
    await client.closed;
  });

  it('gives up waiting after closeTimeout and aborts the handler signal', async () => {
    const clock = new ManualClock();
    const { client, server } = pair({}, { clock, closeTimeout: 50 });
    let signal!: AbortSignal;
    server.router.route('/forever', (_b, ctx) => ((signal = ctx.signal), new Promise(() => {})));
    const p = client.call('/forever');
    await tick();
    const closing = server.close();
    clock.advance(50);
    await closing;
    assert.equal(signal.aborted, true);
    await assert.rejects(p, isCode(102));
  });
});

describe('Session: hooks', () => {
  it('runs drpc hook points in order on both roles', async () => {
    const log: string[] = [];
    const plugin = (side: string): Plugin => {
      const p: Record<string, unknown> = { name: side };
      for (const h of [
        'beforeWriteCall',
        'afterWriteCall',
        'afterReadCallHeader',
        'afterReadCallBody',
        'beforeWriteReply',
        'afterWriteReply',
        'afterReadReplyHeader',
        'afterReadReplyBody',
      ])
        p[h] = () => void log.push(`${side}.${h}`);
      p['afterDisconnect'] = () => void log.push(`${side}.afterDisconnect`);
      return p as unknown as Plugin;
    };
    const { client, server } = pair({ plugins: [plugin('c')] }, { plugins: [plugin('s')] });
    server.router.route('/x', () => 1);
    await client.call('/x');
    await tick();
    // Each side's hooks run in drpc's order (the two sides interleave freely).
    assert.deepEqual(
      log.filter((l) => l.startsWith('c.')),
      ['c.beforeWriteCall', 'c.afterWriteCall', 'c.afterReadReplyHeader', 'c.afterReadReplyBody'],
    );
    assert.deepEqual(
      log.filter((l) => l.startsWith('s.')),
      ['s.afterReadCallHeader', 's.afterReadCallBody', 's.beforeWriteReply', 's.afterWriteReply'],
    );
    await client.close();
    await server.closed;
    await tick();
    assert.deepEqual(log.slice(-2).sort(), ['c.afterDisconnect', 's.afterDisconnect']);
  });

  it('a non-OK status from a hook has drpc effect: call fails locally, or an error REPLY', async () => {
    const deny: Plugin = {
      name: 'deny',
      afterReadCallHeader: (ctx) => {
        if (ctx.message.serviceMethod === '/secret') throw new DrpcError(401, 'Unauthorized', 'no access');
      },
    };
    const block: Plugin = {
      name: 'block',
      beforeWriteCall: (ctx) => {
        if (ctx.message.serviceMethod === '/blocked') throw new DrpcError(1001, 'blocked locally');
      },
    };
    const { client, server, tb } = pair({ plugins: [block] }, { plugins: [deny] });
    let ran = false;
    server.router.route('/secret', () => (ran = true));
    await assert.rejects(client.call('/secret'), isCode(401, /no access/));
    assert.equal(ran, false);
    const before = tb.sent.length;
    await assert.rejects(client.call('/blocked'), isCode(1001));
    assert.equal(tb.sent.length, before);
  });
});
