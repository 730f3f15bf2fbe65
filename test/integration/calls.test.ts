/** Client → endpoint calls over real sockets, RAW (binary frames) and drpc's JSON sub-protocol. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { gzip } from '../../src/filter/gzip.ts';
import { createFilters } from '../../src/filter/index.ts';
import { Code, DrpcError, codeText } from '../../src/status.ts';
import { Harness, Settlements, delay, onlySession, rejection, until } from './helpers.ts';

for (const proto of ['raw', 'json'] as const) {
  describe(`calls over ${proto}`, { timeout: 30_000 }, () => {
    test('a call returns the handler result; the handler sees body, meta and its session', async (t) => {
      const h = new Harness(t);
      const { ep, url } = await h.endpoint();
      const seen: { meta: Record<string, string>; sid: string; method: string }[] = [];
      ep.route('/math/add', ({ a, b }: any, ctx) => {
        seen.push({ meta: { ...ctx.meta }, sid: ctx.session.id, method: ctx.serviceMethod });
        return a + b;
      });
      const c = h.client(url, { proto });
      assert.equal(await c.call('/math/add', { a: 1, b: 2 }), 3);
      assert.equal(await c.call('/math/add', { a: 40, b: 2 }, { meta: { trace: 't-1' } }), 42);
      const s = await onlySession(ep);
      assert.deepEqual(seen, [
        { meta: {}, sid: s.id, method: '/math/add' },
        { meta: { trace: 't-1' }, sid: s.id, method: '/math/add' },
      ]);
      assert.equal(c.state, 'open');
    });

    test('meta travels both ways: call meta in, reply meta out (callReply)', async (t) => {
      const h = new Harness(t);
      const { ep, url } = await h.endpoint();
      ep.route('/echo/meta', (body, ctx) => {
        ctx.replyMeta['x-echo'] = ctx.meta['x-in'] ?? 'missing';
        ctx.replyMeta['x-unicode'] = 'ü→✓';
        return body;
      });
      const c = h.client(url, { proto });
      const r = await c.callReply('/echo/meta', { v: [1, 'two'] }, { meta: { 'x-in': 'hello world' } });
      assert.deepEqual(r.value, { v: [1, 'two'] });
      assert.equal(r.meta['x-echo'], 'hello world');
      assert.equal(r.meta['x-unicode'], 'ü→✓');
      assert.equal(r.status.code, 0);
      assert.equal(r.bodyCodec, 106);
    });

    test('every status path reaches the caller with code, message and cause; the session survives', async (t) => {
      const h = new Harness(t);
      const { ep, url } = await h.endpoint();
      ep.route('/echo', (body) => body);
      ep.route('/throw/error', () => {
        throw new Error('boom');
      });
      ep.route('/throw/async', async () => {
        await delay(1);
        throw 'oops'; // not an Error at all
      });
      ep.route('/throw/custom', () => {
        throw new DrpcError(1234, 'Custom Failure', 'because reasons');
      });
      ep.route('/throw/401', () => {
        throw new DrpcError(Code.Unauthorized, codeText(Code.Unauthorized), 'token expired');
      });
      ep.route('/throw/400', () => {
        throw new DrpcError(Code.BadMessage, 'division by zero');
      });
      const c = h.client(url, { proto });

      // 400: a body the endpoint cannot decode with the codec it claims
      const bad = await rejection(c.call('/echo', new TextEncoder().encode('{not json'), { codec: 'json' }));
      assert.equal(bad.code, Code.BadMessage);
      assert.equal(bad.message, 'Bad Message');
      assert.match(bad.causeText, /json/i);

      const missing = await rejection(c.call('/no/such/route', 1));
      assert.equal(missing.code, Code.NotFound);
      assert.equal(missing.message, 'Not Found');
      assert.equal(missing.causeText, 'no CALL route for "/no/such/route"');

      const thrown = await rejection(c.call('/throw/error'));
      assert.equal(thrown.code, Code.InternalServerError);
      assert.equal(thrown.message, 'Internal Server Error');
      assert.equal(thrown.causeText, 'boom');

      const rejected = await rejection(c.call('/throw/async'));
      assert.equal(rejected.code, 500);
      assert.equal(rejected.causeText, 'oops');

      const custom = await rejection(c.call('/throw/custom'));
      assert.ok(custom instanceof DrpcError);
      assert.equal(custom.code, 1234);
      assert.equal(custom.message, 'Custom Failure');
      assert.equal(custom.causeText, 'because reasons');

      const unauthorized = await rejection(c.call('/throw/401'));
      assert.equal(unauthorized.code, Code.Unauthorized);
      assert.equal(unauthorized.causeText, 'token expired');

      const handler400 = await rejection(c.call('/throw/400'));
      assert.equal(handler400.code, 400);
      assert.equal(handler400.message, 'division by zero');

      // a status from a handler is an answer, not a connection problem: still open, same session
      assert.equal(c.state, 'open');
      assert.equal(ep.sessions.count, 1);
      assert.equal(await c.call('/echo', 'still here'), 'still here');
    });

    test('a call that outlives its timeout settles once with 408; the late reply is ignored', async (t) => {
      const h = new Harness(t);
      const { ep, url } = await h.endpoint();
      let finished = 0;
      ep.route('/slow', async (ms: any) => {
        await delay(ms);
        finished++;
        return 'late';
      });
      const c = h.client(url, { proto });
      await c.ready();
      const settled = new Settlements();
      const started = Date.now();
      const err = await rejection(settled.track('slow', c.call('/slow', 400, { timeout: 40 })));
      assert.equal(err.code, Code.HandleTimeout);
      assert.match(err.message, /timed out after 40 ms/);
      assert.ok(Date.now() - started < 300, 'settled at the timeout, not at the reply');
      await until(() => finished === 1, 'the handler to finish');
      await delay(20); // the late REPLY arrives for a seq nobody waits for
      assert.equal(settled.count('slow'), 1);
      assert.equal(c.state, 'open');
      assert.equal(await c.call('/slow', 1), 'late');
      // the client-wide default applies when the call gives none
      const d = h.client(url, { proto, timeout: 30 });
      assert.equal((await rejection(d.call('/slow', 200))).code, Code.HandleTimeout);
      await until(() => finished === 3, 'the second slow handler to finish');
    });

    test('abort settles with 1499 (in flight and already aborted); the handler still completes', async (t) => {
      const h = new Harness(t);
      const { ep, url } = await h.endpoint();
      let done = 0;
      ep.route('/wait', async (ms: any) => {
        await delay(ms);
        done++;
        return 'ok';
      });
      const c = h.client(url, { proto });
      await c.ready();
      const ac = new AbortController();
      const p = c.call('/wait', 60, { signal: ac.signal });
      setTimeout(() => ac.abort('user changed their mind'), 10);
      const err = await rejection(p);
      assert.equal(err.code, Code.Canceled);
      assert.equal(err.code, 1499);
      assert.equal(err.causeText, 'user changed their mind');

      const pre = new AbortController();
      pre.abort();
      const early = await rejection(c.call('/wait', 1, { signal: pre.signal }));
      assert.equal(early.code, 1499);

      // aborting after the reply changes nothing
      const late = new AbortController();
      assert.equal(await c.call('/wait', 1, { signal: late.signal }), 'ok');
      late.abort();
      await until(() => done === 2, 'both sent handlers to finish');
      assert.equal(c.state, 'open');
    });

    test('concurrent calls get their own replies, whatever order the replies come in', async (t) => {
      const h = new Harness(t);
      const { ep, url } = await h.endpoint();
      ep.route('/after', async ({ id, ms }: any) => {
        await delay(ms);
        return { id };
      });
      const c = h.client(url, { proto });
      await c.ready();
      const delays = [120, 10, 80, 40, 0, 60];
      const order: number[] = [];
      const results = await Promise.all(
        delays.map((ms, id) =>
          c.call('/after', { id, ms }).then((r) => {
            const got = (r as { id: number }).id;
            order.push(got);
            return got;
          }),
        ),
      );
      assert.deepEqual(results, [0, 1, 2, 3, 4, 5]);
      assert.deepEqual(order, [4, 1, 3, 5, 2, 0], 'replies came back in handler-finish order');
    });

    test('transfer filters: a gzip call gets a gzip reply over RAW, a clear 400 over JSON (text bodies only)', async (t) => {
      const h = new Harness(t);
      const { ep, url } = await h.endpoint();
      let pipe: readonly number[] = [];
      ep.route('/big', (body: any, ctx) => {
        pipe = (ctx as any).message.pipe;
        return body.repeat(2);
      });
      // A client has no filters unless it imports them: it says which and how.
      const bare = h.client(url, { proto });
      const refused = await rejection(bare.call('/big', 'x', { pipe: [gzip.id] }));
      assert.equal(refused.code, Code.BadMessage);
      assert.match(refused.message, /unsupported transfer filter id 122 \('z', gzip\)/);
      const c = h.client(url, { proto, filters: createFilters() });
      const text = 'drpc '.repeat(2000);
      if (proto === 'json') {
        // the JSON sub-protocol carries text bodies only: a clear 400 before anything is sent
        const err = await rejection(c.call('/big', text, { pipe: [gzip.id] }));
        assert.equal(err.code, Code.BadMessage);
        assert.match(err.message, /text bodies only/);
        assert.equal(await c.call('/big', 'ab'), 'abab');
        return;
      }
      assert.equal(await c.call('/big', text, { pipe: [gzip.id] }), text + text);
      assert.deepEqual([...pipe], [gzip.id]);
    });
  });
}

describe('cancellation and deadlines over the wire', { timeout: 30_000 }, () => {
  test("aborting a call fires the handler's signal on the endpoint (1499); a passed deadline fires it with 408", async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    const reasons: number[] = [];
    ep.route(
      '/wait',
      (_b, ctx) =>
        new Promise((_, reject) =>
          ctx.signal.addEventListener('abort', () => (reasons.push((ctx.signal.reason as DrpcError).code), reject(ctx.signal.reason))),
        ),
    );
    const c = h.client(url);
    await c.ready();
    const ac = new AbortController();
    const aborted = c.call('/wait', null, { signal: ac.signal });
    await delay(20);
    ac.abort();
    assert.equal((await rejection(aborted)).code, Code.Canceled);
    await until(() => reasons.length === 1, 'the handler to see the cancel');
    assert.equal((await rejection(c.call('/wait', null, { timeout: 80 }))).code, Code.HandleTimeout);
    await until(() => reasons.length === 2, 'the handler to see the deadline');
    assert.deepEqual(reasons, [Code.Canceled, Code.HandleTimeout]);
    await until(() => ep.sessions.list()[0]!.runningHandlers === 0, 'no handler left running');
  });
});
